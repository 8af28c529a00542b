"""Which keys exist (app.http.api_keys): the fixtures' in memory, run-time ones from the
database, read afresh on every lookup so that a revoke is seen at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, event
from sqlmodel import delete

from app.db import read_session, write_session
from app.fixtures import ApiKeyFixture, Fixtures
from app.http import api_keys
from app.models import RuntimeKey

FIXTURES = Fixtures(api_keys=(ApiKeyFixture(key="fixture-key", name="Vendor A"),))


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_fixture_key_never_reaches_the_database(engine: Engine) -> None:
    seen = _statements(engine)
    found = asyncio.run(api_keys.find_key(engine, FIXTURES, "fixture-key"))
    assert found is not None and found.name == "Vendor A"
    assert seen == []


def test_a_run_time_key_is_read_afresh_each_time(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(RuntimeKey(key="sbx_one", name="Vendor C", webhook_url="http://127.0.0.1:9/h"))
    found = asyncio.run(api_keys.find_key(engine, FIXTURES, "sbx_one"))
    assert found is not None
    assert (found.name, found.webhook_url, found.webhook_secret) == (
        "Vendor C",
        "http://127.0.0.1:9/h",
        None,
    )
    with write_session(engine) as session:  # as another worker's revoke would
        session.execute(delete(RuntimeKey))
    assert asyncio.run(api_keys.find_key(engine, FIXTURES, "sbx_one")) is None


def test_unknown_empty_and_overlong_keys_are_none(engine: Engine) -> None:
    assert asyncio.run(api_keys.find_key(engine, FIXTURES, "sbx_unknown")) is None
    seen = _statements(engine)
    assert asyncio.run(api_keys.find_key(engine, FIXTURES, "")) is None
    assert asyncio.run(api_keys.find_key(engine, FIXTURES, "x" * 201)) is None
    assert seen == []  # nothing to look up


def test_all_keys_lists_the_fixtures_first_then_run_time_keys(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(RuntimeKey(key="sbx_two", name="Vendor D"))
    with read_session(engine) as session:
        listed = api_keys.all_keys(session, FIXTURES)
        assert [(k.key, source) for k, source in listed] == [
            ("fixture-key", "fixtures"),
            ("sbx_two", "runtime"),
        ]
        assert api_keys.find_key_in(session, FIXTURES, "sbx_two") is not None
        assert api_keys.find_key_in(session, FIXTURES, "fixture-key") is not None


def test_a_key_no_database_can_store_is_unknown_without_a_query(engine: Engine) -> None:
    """NUL or a lone surrogate (an admin body may hold either): PostgreSQL would refuse the
    query itself, a 500; no stored key can equal it, so it is unknown, unasked."""
    seen = _statements(engine)
    for presented in ("sbx_\x00x", "sbx_\ud800", "", "k" * 201):
        assert asyncio.run(api_keys.find_key(engine, FIXTURES, presented)) is None
        with read_session(engine) as session:
            assert api_keys.stored_key(session, presented) is None
    assert seen == []
