"""Fault injection rules (SPEC §6): stored per key as rows, consumed atomically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, update
from sqlmodel import col, select

from app.db import read_session, write_session
from app.errors import ValidationFailed
from app.models import FaultRule
from app.validation import FieldIssue

INTEROP_PREFIX = "/api/interop/v1"
DEFAULT_PATH = INTEROP_PREFIX + "/*"
MAX_DELAY_MS = 30_000
MAX_TIMES = 10_000
METHODS = frozenset({"*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_FIELDS = frozenset({"method", "path", "status", "delay_ms", "times"})
_PATH_RE = re.compile(r"^/api/interop/v1/[A-Za-z0-9._~%/*{}-]*$")


@dataclass(frozen=True)
class Fault:
    """What one consumed use of a rule does to the call."""

    status: int | None
    delay_ms: int


def _int_field(body: dict[str, Any], name: str, default: int) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _validate(body: object) -> FaultRule:
    """Every problem of the body at once, as for drafts; a rule without owner otherwise."""
    if not isinstance(body, dict):
        raise ValidationFailed(errors=[FieldIssue("", "not_an_object", "Send a JSON object.")])
    issues = [
        FieldIssue(name, "unknown_field", f"Unknown field; allowed: {', '.join(sorted(_FIELDS))}.")
        for name in body
        if name not in _FIELDS
    ]
    method = body.get("method", "*")
    if not isinstance(method, str) or method.upper() not in METHODS:
        issues.append(
            FieldIssue("method", "invalid_method", f"method must be one of {sorted(METHODS)}.")
        )
    path = body.get("path", DEFAULT_PATH)
    if not isinstance(path, str) or len(path) > 2000 or not _PATH_RE.match(path):
        issues.append(
            FieldIssue(
                "path",
                "invalid_path",
                "path must be an interop path such as /api/interop/v1/drafts; `*` matches "
                "any characters (e.g. /api/interop/v1/drafts/*/files).",
            )
        )
    status = _int_field(body, "status", 0)
    if status is None or (status != 0 and not 400 <= status <= 599):
        issues.append(FieldIssue("status", "invalid_status", "status must be 0 or 400-599."))
    delay_ms = _int_field(body, "delay_ms", 0)
    if delay_ms is None or not 0 <= delay_ms <= MAX_DELAY_MS:
        issues.append(
            FieldIssue("delay_ms", "invalid_delay", f"delay_ms must be 0-{MAX_DELAY_MS}.")
        )
    times = _int_field(body, "times", 1)
    if times is None or not 1 <= times <= MAX_TIMES:
        issues.append(FieldIssue("times", "invalid_times", f"times must be 1-{MAX_TIMES}."))
    if not issues and not status and not delay_ms:
        issues.append(
            FieldIssue("", "no_effect", "Give a status (400-599), a delay_ms (> 0), or both.")
        )
    if issues:
        raise ValidationFailed(
            f"{len(issues)} field(s) of the fault rule are invalid; see `errors`.", errors=issues
        )
    assert isinstance(method, str) and isinstance(path, str) and times is not None
    return FaultRule(
        owner_key="",
        method=method.upper(),
        path=path,
        status=status or None,
        delay_ms=delay_ms or 0,
        times=times,
        remaining=times,
    )


def _view(rule: FaultRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "method": rule.method,
        "path": rule.path,
        "status": rule.status,
        "delay_ms": rule.delay_ms,
        "times": rule.times,
        "remaining": rule.remaining,
        "created_at": rule.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def create_fault(engine: Engine, *, owner_key: str, body: object) -> dict[str, Any]:
    """Store a validated rule for the key; it applies from the key's next call."""
    rule = _validate(body)
    rule.owner_key = owner_key
    with write_session(engine) as session:
        session.add(rule)
    return _view(rule)


def list_faults(engine: Engine, *, owner_key: str) -> list[dict[str, Any]]:
    """The key's rules, oldest first (the order they match in), used-up ones included."""
    with read_session(engine) as session:
        rules = session.exec(
            select(FaultRule).where(FaultRule.owner_key == owner_key).order_by(col(FaultRule.seq))
        ).all()
        return [_view(rule) for rule in rules]


def delete_faults(engine: Engine, *, owner_key: str) -> int:
    """Remove all the key's rules; how many there were."""
    with write_session(engine) as session:
        result = session.execute(delete(FaultRule).where(col(FaultRule.owner_key) == owner_key))
    return int(result.rowcount)  # type: ignore[attr-defined]


def path_matches(pattern: str, path: str) -> bool:
    """`*` matches any characters (slashes too); a trailing slash is not significant."""
    regex = ".*".join(re.escape(part) for part in pattern.rstrip("/").split("*"))
    return re.fullmatch(regex, path.rstrip("/")) is not None


def take_fault(engine: Engine, *, owner_key: str, method: str, path: str) -> Fault | None:
    """Consume one use of the oldest matching rule, atomically across processes."""
    with read_session(engine) as session:
        candidates = session.exec(
            select(FaultRule)
            .where(FaultRule.owner_key == owner_key, col(FaultRule.remaining) > 0)
            .order_by(col(FaultRule.seq))
        ).all()
    for rule in candidates:
        if rule.method not in ("*", method.upper()) or not path_matches(rule.path, path):
            continue
        # The conditional UPDATE is the claim: of two workers racing for the last use,
        # only one sees a row changed.
        with write_session(engine) as session:
            result = session.execute(
                update(FaultRule)
                .where(col(FaultRule.seq) == rule.seq, col(FaultRule.remaining) > 0)
                .values(remaining=col(FaultRule.remaining) - 1)
            )
        if int(result.rowcount) == 1:  # type: ignore[attr-defined]
            return Fault(status=rule.status, delay_ms=rule.delay_ms)
    return None
