"""The create route's handler, without FastAPI's dependency solving on every call."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from app.http.deps import bearer_scheme, current_key

# What the endpoint of a KeyedRoute takes, by name.
_PARAMETERS = ("api_key", "request", "response")


class KeyedRoute(APIRoute):
    """A route whose endpoint takes only `(api_key: CurrentKey, request, response)` and
    returns its response model: the create, the hottest route.

    Its handler does what FastAPI's per-call dependency solving would, with the same
    functions in the same order (`deps.bearer_scheme`, then `deps.current_key`), and
    answers the model as FastAPI would; why: docs/performance.md. The signature stays
    declared, so the OpenAPI document is unchanged; `app.dependency_overrides` do not
    reach this route (nothing here uses them).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        if tuple(inspect.signature(endpoint).parameters) != _PARAMETERS or self.body_field:
            raise TypeError(f"KeyedRoute: {endpoint.__name__} must take {_PARAMETERS} only")
        status_code = self.status_code or 200

        async def handler(request: Request) -> Response:
            credentials = await bearer_scheme(request)
            api_key = await current_key(request, credentials)
            # As FastAPI's own: a response for the endpoint to set headers on.
            sub_response = Response()
            del sub_response.headers["content-length"]
            sub_response.status_code = None  # type: ignore[assignment]  # unset, as FastAPI's
            model = await endpoint(api_key=api_key, request=request, response=sub_response)
            assert isinstance(model, BaseModel)
            response = Response(
                model.model_dump_json(by_alias=True),
                media_type="application/json",
                status_code=sub_response.status_code or status_code,
            )
            response.headers.raw.extend(sub_response.headers.raw)
            return response

        return handler


class KeyedRouteShortcut:
    """Sends a call for a KeyedRoute's path and method straight to its handler, found in a
    dict (keyed routes have fixed paths), past the router's walk (docs/performance.md).

    The middlewares outside stay as they are; an exception is answered as Starlette's
    ExceptionMiddleware would, by the handler the app registered for its class, an
    unhandled one left to the 500 handler outside. Installed just outside that middleware.
    """

    def __init__(self, app: ASGIApp, *, routers: Sequence[APIRouter]) -> None:
        """`routers`: those the app includes without a prefix of its own (their routes'
        paths are then the paths served)."""
        self.app = app
        self._handlers = _keyed_handlers(routers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = self._handlers.get((scope["method"], get_route_path(scope)))
        if found is None:
            await self.app(scope, receive, send)
            return
        route, handler = found
        # What the router would have set for the handler and the error handlers.
        scope["route"], scope["endpoint"], scope["path_params"] = route, route.endpoint, {}
        request = Request(scope, receive, send)
        try:
            response = await handler(request)
        except Exception as exc:
            error_handler = _error_handler(scope["app"], exc)
            if error_handler is None:
                raise  # to the app's 500 handler (ServerErrorMiddleware)
            answer = error_handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)


_Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def get_route_path(scope: Scope) -> str:
    """The path the router matches: `path` without the app's `root_path` (Starlette's rule,
    written here because its helper lives in a private module)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if path == root_path:
        return ""
    return path[len(root_path) :] if path[len(root_path)] == "/" else path


def _keyed_handlers(
    routers: Sequence[APIRouter],
) -> dict[tuple[str, str], tuple[APIRoute, _Handler]]:
    handlers: dict[tuple[str, str], tuple[APIRoute, _Handler]] = {}
    for route in (route for router in routers for route in router.routes):
        if isinstance(route, KeyedRoute) and not route.param_convertors:
            for method in route.methods or ():
                handlers[(method, route.path)] = (route, route.get_route_handler())
    return handlers


def _error_handler(app: Starlette, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for the exception's class, as ExceptionMiddleware finds it (the
    app registers them by class only, none by status code); None for the catch-all one
    (ServerErrorMiddleware's, outside)."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        handler: Callable[..., Any] | None = app.exception_handlers.get(cls)
        if handler is not None:
            return handler
    return None
