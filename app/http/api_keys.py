"""Which API keys exist: the fixtures' (in memory) and those added at run time (SPEC §11).

A key the fixtures know is found in memory, as fast as before run-time keys existed; only
a key they do not know is looked up in the database (`models.RuntimeKey`, one primary-key
read), so a key added or revoked on one worker or replica is seen by the next request on
every other. Nothing positive is cached beyond the request: a revoked key is refused at
once. The writes (add, revoke) are `app.admin.keys`'.
"""

from __future__ import annotations

from typing import Literal

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.db import read_session
from app.fixtures import ApiKeyFixture, Fixtures
from app.models import RuntimeKey
from app.storable import has_surrogate

KeySource = Literal["fixtures", "runtime"]
# A presented key longer than any stored one is not looked up (RuntimeKey.key's bound).
MAX_KEY_CHARS = 200


def _storable(presented: str) -> bool:
    """Could a stored key equal it? Not when empty, too long, or holding what the database
    cannot store (NUL, a lone surrogate): PostgreSQL would refuse the query itself."""
    return (
        0 < len(presented) <= MAX_KEY_CHARS
        and "\x00" not in presented
        and (not has_surrogate(presented))
    )


def as_key(row: RuntimeKey) -> ApiKeyFixture:
    """A run-time key in the shape every consumer of a key already takes."""
    return ApiKeyFixture.model_construct(
        key=row.key, name=row.name, webhook_url=row.webhook_url, webhook_secret=row.webhook_secret
    )


def stored_key(session: Session, presented: str) -> ApiKeyFixture | None:
    """The run-time key with this value, read in the caller's session."""
    if not _storable(presented):
        return None
    row = session.exec(select(RuntimeKey).where(RuntimeKey.key == presented)).first()
    return as_key(row) if row is not None else None


def find_key_in(session: Session, fixtures: Fixtures, presented: str) -> ApiKeyFixture | None:
    """A key of the fixtures, else one added at run time, else None."""
    if not _storable(presented):
        return None
    return fixtures.find_key(presented) or stored_key(session, presented)


def _read_stored_key(engine: Engine, presented: str) -> ApiKeyFixture | None:
    with read_session(engine) as session:
        return stored_key(session, presented)


async def find_key(
    engine: Engine | None, fixtures: Fixtures, presented: str
) -> ApiKeyFixture | None:
    """`find_key_in` from the event loop: the fixtures in memory; the database read, only
    for a key they do not know, in the thread pool."""
    if not _storable(presented):  # no key holds it (and it cannot be compared as UTF-8)
        return None
    found = fixtures.find_key(presented)
    if found is not None or engine is None:
        return found
    return await run_in_threadpool(_read_stored_key, engine, presented)


def all_keys(session: Session, fixtures: Fixtures) -> list[tuple[ApiKeyFixture, KeySource]]:
    """Every key: the fixtures' in their order, then the run-time ones, oldest first."""
    keys: list[tuple[ApiKeyFixture, KeySource]] = [(k, "fixtures") for k in fixtures.api_keys]
    rows = session.exec(select(RuntimeKey).order_by(col(RuntimeKey.created_at))).all()
    known = {k.key for k in fixtures.api_keys}
    keys.extend((as_key(row), "runtime") for row in rows if row.key not in known)
    return keys
