"""Dependencies shared by the routers: runtime state, settings, engine, auth, base URL."""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Engine
from starlette.datastructures import Headers
from starlette.types import Scope

from app import runtime
from app.config import Settings
from app.errors import AdminTooManyFailures, AdminUnauthorized, NotReady, Unauthorized
from app.fixtures import ApiKeyFixture
from app.http import admin_sessions as sessions
from app.http import api_keys
from app.runtime import Runtime


async def get_ready_runtime(request: Request) -> Runtime:
    """The runtime, or 503 `not_ready` while the database is still coming up."""
    state = runtime.of_app(request.app)
    if state is None or not state.ready or state.engine is None:
        raise NotReady()
    return state


RuntimeDep = Annotated[Runtime, Depends(get_ready_runtime)]


async def get_settings_dep(state: RuntimeDep) -> Settings:
    return state.settings


async def get_engine(state: RuntimeDep) -> Engine:
    assert state.engine is not None
    return state.engine


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="vendorKey",
    description="A vendor API key: from the fixtures (sandbox-key-a, sandbox-key-b) or "
    "added at run time (POST /_sandbox/admin/keys).",
)
bearer_scheme = _bearer  # app.keyed_route calls it as FastAPI would
_admin_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="adminToken",
    description="OMNIDOC_ADMIN_TOKEN (admin scope: /_sandbox/admin/…, the inboxes' listings, "
    "the dashboard); the admin scope is open while it is unset. Never a vendor key.",
)
# The dashboard's session cookie (README, "Dashboard and admin scope"): HttpOnly,
# SameSite=Strict, set by the dashboard's sign-in form to a random session id
# (app.http.admin_sessions).
ADMIN_COOKIE = "omnidoc_sandbox_admin"


async def current_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKeyFixture:
    """The calling vendor's key; 401 with `WWW-Authenticate: Bearer` otherwise (503 before
    the runtime is ready)."""
    # Not through RuntimeDep: on every keyed call, FastAPI would solve it once more.
    state = await get_ready_runtime(request)
    if credentials is None:
        raise Unauthorized(
            "Missing or malformed Authorization header: send `Authorization: Bearer <key>`."
        )
    scope_state = request.scope.get("state", {})
    if _BEARER_KEY in scope_state:  # a middleware already looked it up for this call
        api_key: ApiKeyFixture | None = scope_state[_BEARER_KEY]
    else:
        api_key = await api_keys.find_key(state.engine, state.fixtures, credentials.credentials)
    if api_key is None:
        raise Unauthorized("Unknown API key. The default keys are sandbox-key-a and sandbox-key-b.")
    return api_key


CurrentKey = Annotated[ApiKeyFixture, Depends(current_key)]


# Where bearer_key keeps its answer in the call's scope state: the journal and the fault
# middleware both ask on every interop call, and the header and key checks run once.
_BEARER_KEY = "omnidoc_bearer_key"


async def bearer_key(scope: Scope, state: Runtime) -> ApiKeyFixture | None:
    """The key as `current_key` finds it, for middleware (same parsing); no 401 here.

    A run-time key is read from the database (app.http.api_keys), once per call."""
    notes = scope.setdefault("state", {})
    if _BEARER_KEY in notes:
        found: ApiKeyFixture | None = notes[_BEARER_KEY]
        return found
    header = Headers(scope=scope).get("authorization")
    scheme, credentials = get_authorization_scheme_param(header)
    found = None
    if scheme.lower() == "bearer" and credentials:
        found = await api_keys.find_key(state.engine, state.fixtures, credentials)
    notes[_BEARER_KEY] = found
    return found


async def base_url(request: Request, state: RuntimeDep) -> str:
    """OMNIDOC_BASE_URL when set, else the scheme and host the request came to."""
    if state.settings.base_url:
        return state.settings.base_url
    scope = request.scope
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    return _origin(scope.get("scheme", "http"), tuple(server) if server else None, host, root_path)


# What `request.base_url` depends on, and only that, is the key: Starlette renders it
# afresh on every call (a copy of the scope, the Host header parsed) for the same few
# answers. Bounded: the Host header is the client's to choose.
@lru_cache(maxsize=64)
def _origin(scheme: str, server: tuple[Any, ...] | None, host: bytes | None, root_path: str) -> str:
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "root_path": root_path,
        "path": root_path,
        "query_string": b"",
        "headers": [(b"host", host)] if host is not None else [],
    }
    return str(Request(scope).base_url).rstrip("/")


BaseUrlDep = Annotated[str, Depends(base_url)]


def client_address(request: Request) -> str:
    """The caller's address as uvicorn saw it (X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else ""


def is_admin(request: Request, state: Runtime) -> bool:
    """Open without a token; else the token as a bearer, or an open dashboard session.

    Runs in the thread pool (a session is a database read). A client that sent too many
    wrong tokens gets 429 on its next bearer, right or wrong (app.admin_throttle).
    """
    token = state.settings.admin_token
    if not token:
        return True
    scheme, presented = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() == "bearer" and presented:
        client = client_address(request)
        wait = state.admin_failures.retry_after(client)
        if wait is not None:
            raise AdminTooManyFailures(wait)
        if hmac.compare_digest(presented.encode(), token.encode()):
            return True
        state.admin_failures.failed(client)
    cookie = request.cookies.get(ADMIN_COOKIE, "")
    if not cookie:
        return False
    assert state.engine is not None
    return sessions.is_open(state.engine, token=token, value=cookie)


def admin_access(
    request: Request,
    state: RuntimeDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)],
) -> None:
    """Admin scope: open when OMNIDOC_ADMIN_TOKEN is unset, else that token as a bearer or
    the dashboard's cookie (README, "Dashboard and admin scope")."""
    if not is_admin(request, state):
        raise AdminUnauthorized(
            "Admin scope: send `Authorization: Bearer <OMNIDOC_ADMIN_TOKEN>` (a vendor key "
            "never opens it), or sign in on the dashboard."
        )


AdminAccess = Annotated[None, Depends(admin_access)]

# Path parameters. An id that is not a UUID is answered like an unknown one (404), never 422.
DraftId = Annotated[
    str,
    Path(description="The draft's `id`.", json_schema_extra={"format": "uuid"}),
]
FileId = Annotated[
    str,
    Path(description="A file's `id` in the pull view.", json_schema_extra={"format": "uuid"}),
]
DeliveryId = Annotated[
    str,
    Path(description="A delivery's `id`.", json_schema_extra={"format": "uuid"}),
]
