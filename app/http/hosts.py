"""The `Host` allowlist (SPEC §1 OMNIDOC_ALLOWED_HOSTS): a pure ASGI middleware.

Why: the pages' origin check and every URL the sandbox emits (redirect_url, report_url)
trust `Host`. A page of another site whose DNS name resolves to the sandbox (DNS
rebinding) would otherwise be "same origin" and reach the open admin scope. So a request
is answered only when its `Host` names this sandbox: a loopback name, the address the
connection came to (uvicorn's `scope["server"]`: the socket's local address, whatever
was bound, so `--host 0.0.0.0` accepts `http://<its LAN IP>:…` and nothing more),
OMNIDOC_BASE_URL's host, or a name of OMNIDOC_ALLOWED_HOSTS (`*` accepts any).

Host names are compared, not ports: behind Docker's port mapping or a proxy, the port a
client names is not the one the server bound, and a rebinding attack changes the name,
not the port. A request with no `Host` (HTTP/1.0) names nothing to distrust and passes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from app import callnotes
from app.config import Settings
from app.errors import HostNotAllowed
from app.http.problems import problem_issues, problem_response

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_SHOWN_MAX = 100  # of the refused Host, quoted in the problem's detail
_SEEN_MAX = 256


def host_name(host: str) -> str:
    """`Sandbox:8000` -> `sandbox`, `[::1]:8000` -> `::1`: lower case, no port."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    name, colon, port = host.rpartition(":")
    return name if colon and ":" not in name and (port.isdigit() or not port) else host


def allowed_host_names(settings: Settings) -> frozenset[str]:
    """OMNIDOC_ALLOWED_HOSTS and base_url's host, as host names (lower case, no port)."""
    names = {host_name(part.strip()) for part in (settings.allowed_hosts or "").split(",")}
    if settings.base_url:
        names.add(host_name(urlsplit(settings.base_url).netloc.rpartition("@")[2]))
    names.discard("")
    return frozenset(names)


class HostAllowlistMiddleware:
    """400 `host_not_allowed` for a `Host` that names another host than this sandbox."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._settings: object = None
        self._allowed: frozenset[str] = LOOPBACK_NAMES
        # (Host header, server address) -> allowed: the few answers a server sees, so a
        # call costs a dict lookup, not a parse. Bounded: the Host is the client's choice.
        self._seen: dict[tuple[bytes, object], bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
        if scope["type"] != "http" or runtime is None:
            await self.app(scope, receive, send)
            return
        if runtime.settings is not self._settings:  # once per app start, not per call
            self._allowed = LOOPBACK_NAMES | allowed_host_names(runtime.settings)
            self._settings = runtime.settings
            self._seen.clear()
        raw = next((value for key, value in scope["headers"] if key == b"host"), None)
        if raw is None:
            await self.app(scope, receive, send)
            return
        server = scope.get("server")
        key = (raw, server[0] if server else None)
        allowed = self._seen.get(key)
        if allowed is None:
            allowed = self._allows(raw.decode("latin-1"), key[1])
            if len(self._seen) >= _SEEN_MAX:
                self._seen.clear()
            self._seen[key] = allowed
        if allowed:
            await self.app(scope, receive, send)
            return
        header = raw.decode("latin-1")
        name = host_name(header)
        shown = header if len(header) <= _SHOWN_MAX else header[:_SHOWN_MAX] + "…"
        error = HostNotAllowed(
            f"Host '{shown}' is not allowed here: add it to OMNIDOC_ALLOWED_HOSTS "
            f"(comma-separated host names, ports ignored; e.g. "
            f"OMNIDOC_ALLOWED_HOSTS={name[:_SHOWN_MAX] or 'sandbox'})."
        )
        callnotes.of(scope).errors = problem_issues(error)
        await problem_response(error)(scope, receive, send)

    def _allows(self, header: str, server_host: object) -> bool:
        if "*" in self._allowed:
            return True
        name = host_name(header)
        return name in self._allowed or (
            server_host is not None and name == str(server_host).lower()
        )
