"""HTTP method details the router leaves out: HEAD on every GET route, a full `Allow`.

Starlette's router answers a 405 with the methods of the first route that matched the
path only, and FastAPI's routes answer HEAD only where one is declared.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _routes(app: object) -> list[BaseRoute]:
    router = getattr(app, "router", None)
    return list(getattr(router, "routes", []))


def _matches(routes: list[BaseRoute], scope: Scope, method: str) -> bool:
    """Whether some route takes this path with this method (the router's own matching)."""
    probe = {**scope, "method": method}
    return any(route.matches(probe)[0] == Match.FULL for route in routes)


def allowed_methods(app: object, scope: Scope) -> list[str]:
    """Every method some route accepts on this path, HEAD wherever GET is."""
    routes = _routes(app)
    if any(isinstance(r, Mount) and r.matches(scope)[0] == Match.FULL for r in routes):
        return ["GET", "HEAD"]  # static files and the offline docs' assets
    allowed = [m for m in METHODS if _matches(routes, scope, m)]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return allowed


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
        routes = [r for r in _routes(scope.get("app")) if not isinstance(r, Mount)]
        if _matches(routes, scope, "HEAD") or not _matches(routes, scope, "GET"):
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
