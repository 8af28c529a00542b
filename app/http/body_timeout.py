"""A deadline on each wait for request body bytes (OMNIDOC_BODY_TIMEOUT): a pure ASGI middleware."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import BodyTimeout


class BodyTimeoutMiddleware:
    """Raise 408 `body_timeout` where the app reads a body that stopped arriving.

    It wraps `receive`, so JSON bodies and streamed uploads alike are covered, and the
    problem is raised inside the route: the error handler, the journal and the access log
    see it like any other. Once the body is complete, `receive` is left alone (later calls
    only wait for the client to disconnect, which may rightly take longer).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
        if scope["type"] != "http" or runtime is None:
            await self.app(scope, receive, send)
            return
        timeout: float = runtime.settings.body_timeout
        body_done = False

        async def receive_in_time() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(timeout):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(
                    f"No byte of the request body arrived for {timeout:g} s "
                    "(OMNIDOC_BODY_TIMEOUT); nothing was stored."
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, receive_in_time, send)
