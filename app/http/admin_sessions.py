"""The dashboard's sign-in sessions (SPEC §7): random values, kept server-side.

The cookie holds `secrets.token_urlsafe(32)`, fresh at each sign-in and nothing derived
from the token; the database holds HMAC(token, value) and an expiry (models.AdminSession).
A session is open while its row exists and has not expired: "Se déconnecter" deletes
the row, so the old cookie opens nothing anymore, on every worker.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from app.db import write_session
from app.models import AdminSession, utcnow

# The cookie's Max-Age and the row's lifetime (SPEC §7: at most 12 h).
LIFETIME = timedelta(hours=12)
_VALUE_MAX = 100  # a cookie longer than any value we set is refused unread


def _key(token: str, value: str) -> str:
    return hmac.new(token.encode(), value.encode(), hashlib.sha256).hexdigest()


def start(engine: Engine, *, token: str) -> str:
    """A new session; returns the cookie's value. Expired rows go at the same time."""
    value = secrets.token_urlsafe(32)
    now = utcnow()
    with write_session(engine) as session:
        session.execute(delete(AdminSession).where(col(AdminSession.expires_at) <= now))
        session.add(AdminSession(id=_key(token, value), created_at=now, expires_at=now + LIFETIME))
    return value


def is_open(engine: Engine, *, token: str, value: str) -> bool:
    """Whether the cookie's value names a session not ended nor expired."""
    if not value or len(value) > _VALUE_MAX:
        return False
    with Session(engine) as session:
        row = session.get(AdminSession, _key(token, value))
        return row is not None and row.expires_at > utcnow()


def end(engine: Engine, *, token: str, value: str) -> None:
    """Sign-out: the session's row goes, so its cookie opens nothing anymore."""
    if not value or len(value) > _VALUE_MAX:
        return
    with write_session(engine) as session:
        session.execute(delete(AdminSession).where(col(AdminSession.id) == _key(token, value)))
