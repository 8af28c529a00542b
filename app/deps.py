"""Dependencies shared by the routers: runtime state, settings, auth, base URL, bodies."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from app.config import Settings
from app.errors import (
    BodyTooLarge,
    InvalidJson,
    NotReady,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.fixtures import ApiKeyFixture, Fixtures
from app.validation import FieldIssue

# Deeper documents cannot be rendered back (pydantic's serializer stops near 500 levels).
MAX_JSON_DEPTH = 64


@dataclass
class Runtime:
    """What the lifespan builds: settings, fixtures, and the engine once the database is up."""

    settings: Settings
    fixtures: Fixtures
    engine: Engine | None = None
    ready: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_ready_runtime(request: Request) -> Runtime:
    """The runtime, or 503 `not_ready` while the database is still coming up."""
    runtime = get_runtime(request)
    if not runtime.ready or runtime.engine is None:
        raise NotReady()
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_ready_runtime)]


def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


def get_engine(runtime: RuntimeDep) -> Engine:
    assert runtime.engine is not None
    return runtime.engine


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]

_bearer = HTTPBearer(auto_error=False, description="A vendor API key from the fixtures.")


def current_key(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKeyFixture:
    """The calling vendor's key; 401 with `WWW-Authenticate: Bearer` otherwise."""
    if credentials is None:
        raise Unauthorized(
            "Missing or malformed Authorization header: send `Authorization: Bearer <key>`."
        )
    api_key = runtime.fixtures.find_key(credentials.credentials)
    if api_key is None:
        raise Unauthorized("Unknown API key. The default keys are sandbox-key-a and sandbox-key-b.")
    return api_key


CurrentKey = Annotated[ApiKeyFixture, Depends(current_key)]


def base_url(request: Request, runtime: RuntimeDep) -> str:
    """OMNIDOC_BASE_URL when set, else the scheme and host the request came to."""
    return runtime.settings.base_url or str(request.base_url).rstrip("/")


BaseUrlDep = Annotated[str, Depends(base_url)]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def json_body(request: Request, runtime: RuntimeDep) -> Any:
    """The parsed JSON body, read with a size cap; an empty body means `{}`."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"Expected `Content-Type: application/json`, got `{media_type[:100]}`."
        )
    limit = runtime.settings.max_body_bytes
    too_large = BodyTooLarge(f"The body exceeds OMNIDOC_MAX_BODY_BYTES ({limit} bytes).")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InvalidJson("The body is not UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise InvalidJson(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except (ValueError, RecursionError):
        raise InvalidJson("The body is not valid JSON (NaN, Infinity or too deep).") from None
    if _nesting_depth(parsed) > MAX_JSON_DEPTH:
        raise ValidationFailed(
            errors=[
                FieldIssue("", "too_deep", f"JSON nesting is limited to {MAX_JSON_DEPTH} levels.")
            ]
        )
    return parsed


def _nesting_depth(value: Any) -> int:
    """Deepest nesting of lists/objects, computed without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                deepest = max(deepest, depth + 1)
                stack.append((child, depth + 1))
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
    return deepest


JsonBody = Annotated[Any, Depends(json_body)]


def admin_access(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Admin scope: open when OMNIDOC_ADMIN_TOKEN is unset, else that bearer token (SPEC §6)."""
    token = runtime.settings.admin_token
    if not token:
        return
    presented = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(presented.encode(), token.encode()):
        raise Unauthorized("Admin scope: send `Authorization: Bearer <OMNIDOC_ADMIN_TOKEN>`.")


AdminAccess = Annotated[None, Depends(admin_access)]
