"""The dashboard's sign-in sessions: random values kept server-side as HMACs, 12 h at most."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.db import write_session
from app.http import admin_sessions
from app.models import AdminSession, utcnow

TOKEN = "admin-token-for-tests"


def _rows(engine: Engine) -> list[AdminSession]:
    with Session(engine) as session:
        return list(session.exec(select(AdminSession)))


def test_start_opens_a_session_for_its_value(engine: Engine) -> None:
    value = admin_sessions.start(engine, token=TOKEN)
    assert admin_sessions.is_open(engine, token=TOKEN, value=value)


def test_start_stores_an_hmac_never_the_value(engine: Engine) -> None:
    value = admin_sessions.start(engine, token=TOKEN)
    (row,) = _rows(engine)
    assert value not in row.id and TOKEN not in row.id
    assert len(row.id) == 64


def test_start_gives_a_fresh_value_each_time(engine: Engine) -> None:
    first = admin_sessions.start(engine, token=TOKEN)
    second = admin_sessions.start(engine, token=TOKEN)
    assert first != second
    assert len(_rows(engine)) == 2


def test_session_lasts_twelve_hours(engine: Engine) -> None:
    admin_sessions.start(engine, token=TOKEN)
    (row,) = _rows(engine)
    assert row.expires_at - row.created_at == timedelta(hours=12)


def test_is_open_refuses_another_token(engine: Engine) -> None:
    value = admin_sessions.start(engine, token=TOKEN)
    assert not admin_sessions.is_open(engine, token="another-token", value=value)


def test_is_open_refuses_unknown_empty_and_overlong_values(engine: Engine) -> None:
    admin_sessions.start(engine, token=TOKEN)
    for value in ("unknown", "", "x" * 101):
        assert not admin_sessions.is_open(engine, token=TOKEN, value=value)


def test_is_open_refuses_an_expired_session(engine: Engine) -> None:
    value = admin_sessions.start(engine, token=TOKEN)
    with write_session(engine) as session:
        row = session.exec(select(AdminSession)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert not admin_sessions.is_open(engine, token=TOKEN, value=value)


def test_start_drops_expired_sessions(engine: Engine) -> None:
    old = admin_sessions.start(engine, token=TOKEN)
    with write_session(engine) as session:
        row = session.exec(select(AdminSession)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
    new = admin_sessions.start(engine, token=TOKEN)
    assert len(_rows(engine)) == 1
    assert admin_sessions.is_open(engine, token=TOKEN, value=new)
    assert not admin_sessions.is_open(engine, token=TOKEN, value=old)


def test_end_closes_only_that_session(engine: Engine) -> None:
    ended = admin_sessions.start(engine, token=TOKEN)
    kept = admin_sessions.start(engine, token=TOKEN)
    admin_sessions.end(engine, token=TOKEN, value=ended)
    assert not admin_sessions.is_open(engine, token=TOKEN, value=ended)
    assert admin_sessions.is_open(engine, token=TOKEN, value=kept)


def test_end_of_an_empty_or_overlong_value_changes_nothing(engine: Engine) -> None:
    admin_sessions.start(engine, token=TOKEN)
    admin_sessions.end(engine, token=TOKEN, value="")
    admin_sessions.end(engine, token=TOKEN, value="x" * 101)
    assert len(_rows(engine)) == 1
