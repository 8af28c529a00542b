"""The headers every response carries (SPEC §7), the API docs and 404s included.

A pure ASGI middleware, outermost: it sees each response's start message, whoever wrote
it (a route, an error handler, the static files, Swagger's page), and appends what is
missing from a precomputed list; a response that set one of them (the pages' fuller CSP,
app/pages/web.py) keeps its own.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Framing refused twice (CSP for current browsers, X-Frame-Options for older ones): a
# page on another origin framing `/docs` could otherwise steer clicks on "Execute".
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
_NAMES = frozenset(name for name, _ in HEADERS)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or []
                # Starlette writes names in lower case; a route's own header wins.
                present = [name for name, _ in headers if name in _NAMES]
                if not present:  # the usual case: the API's answers
                    message["headers"] = [*headers, *HEADERS]
                elif len(present) < len(HEADERS):
                    message["headers"] = [*headers, *(h for h in HEADERS if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
