"""HTTP method details the router leaves out: HEAD on every GET route, a full `Allow`.

Starlette's router answers a 405 with the methods of the first route that matched the
path only, and FastAPI's routes answer HEAD only where one is declared.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _routes(app: object) -> list[BaseRoute]:
    router = getattr(app, "router", None)
    return list(getattr(router, "routes", []))


def _matches(routes: list[BaseRoute], scope: Scope, method: str) -> bool:
    probe = {**scope, "method": method}
    return any(route.matches(probe)[0] == Match.FULL for route in routes)


def allowed_methods(app: object, scope: Scope) -> list[str]:
    """Every method some route accepts on this path (HEAD wherever GET is), sorted."""
    methods: set[str] = set()
    for route in _routes(app):
        if isinstance(route, Route) and route.methods and route.matches(scope)[0] != Match.NONE:
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class HeadAsGetMiddleware:
    """Answer HEAD like GET without the body, unless a route declares HEAD itself.

    A declared HEAD keeps its own meaning: the redirect_url page's HEAD never visits.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        routes = _routes(scope.get("app"))
        if _matches(routes, scope, "HEAD") or not _matches(routes, scope, "GET"):
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
