"""The dashboard's service: every key's drafts, any draft's file, the keys' webhooks, and
the change cursor a dashboard waits on."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.admin import changes, service
from app.admin.changes import ChangeWatch
from app.config import PACKAGED_FIXTURES, Settings
from app.db import create_db_engine, create_schema
from app.drafts import service as drafts
from app.errors import FileNotFound
from app.fixtures import load_fixtures
from app.models import InboxItem
from tests.helpers import KEY_A, KEY_B

BASE = "http://127.0.0.1:8000"
FIXTURES = load_fixtures(PACKAGED_FIXTURES)


def test_list_drafts_every_key_newest_first(engine: Engine) -> None:
    first = drafts.create_draft(engine, owner_key=KEY_A, body={}).id
    second = drafts.create_draft(engine, owner_key=KEY_B, body={"text": "Avis ?"}).id
    listed = service.list_drafts(engine, base_url=BASE)
    assert [(d.id, d.owner_key) for d in listed] == [(second, KEY_B), (first, KEY_A)]
    assert listed[0].redirect_url == f"{BASE}/interop/drafts/{second}"


def test_list_drafts_of_an_empty_sandbox_is_empty(engine: Engine) -> None:
    assert service.list_drafts(engine, base_url=BASE) == []


def test_admin_file_url_is_under_the_admin_scope() -> None:
    assert service.admin_file_url(BASE, "d", "f") == f"{BASE}/_sandbox/admin/drafts/d/files/f"


@pytest.mark.parametrize(
    ("draft_id", "file_id"),
    [
        ("not-a-uuid", "5f0c1f7e-6a53-4b8e-9a52-0e7c6f1d2a3b"),
        ("5f0c1f7e-6a53-4b8e-9a52-0e7c6f1d2a3b", "5f0c1f7e-6a53-4b8e-9a52-0e7c6f1d2a3c"),
    ],
)
def test_draft_file_unknown_is_not_found(
    engine: Engine, settings: Settings, draft_id: str, file_id: str
) -> None:
    with pytest.raises(FileNotFound):
        service.draft_file(engine, settings=settings, draft_id=draft_id, file_id=file_id)


def test_list_keys_says_where_each_webhook_comes_from(engine: Engine) -> None:
    keys = {k.key: k for k in service.list_keys(engine, fixtures=FIXTURES)}
    assert set(keys) == {k.key for k in FIXTURES.api_keys}
    for api_key in FIXTURES.api_keys:
        expected = "fixtures" if keys[api_key.key].webhook_url else None
        assert keys[api_key.key].webhook_source == expected


def test_change_cursor_is_stable_without_writes(engine: Engine) -> None:
    assert changes.change_cursor(engine) == changes.change_cursor(engine)


def test_change_cursor_moves_on_a_new_draft_and_on_a_status_change(engine: Engine) -> None:
    empty = changes.change_cursor(engine)
    draft = drafts.create_draft(engine, owner_key=KEY_A, body={})
    created = changes.change_cursor(engine)
    drafts.cancel_draft(engine, draft_id=draft.id, owner_key=KEY_A, base_url=BASE)
    assert len({empty, created, changes.change_cursor(engine)}) == 3


def test_change_watch_is_one_per_engine(engine: Engine, settings: Settings) -> None:
    other = create_db_engine(settings)
    try:
        assert changes.change_watch(engine) is changes.change_watch(engine)
        assert changes.change_watch(other) is not changes.change_watch(engine)
    finally:
        other.dispose()


def test_change_watch_current_computes_when_nothing_is_fresh(engine: Engine) -> None:
    watch = ChangeWatch(engine)
    assert watch.fresh() is None
    cursor = asyncio.run(watch.current())
    assert cursor == changes.change_cursor(engine)
    assert watch.fresh() == cursor


def test_change_watch_sees_its_writes_at_once_and_other_processes_within_its_max_age(
    settings: Settings,
) -> None:
    """A write through the watched engine makes the cursor stale at once; one through
    another engine (another server process on the same database) within max_age."""
    mine, other = create_db_engine(settings), create_db_engine(settings)
    try:
        create_schema(mine)
        watch = ChangeWatch(mine, max_age=0.3)
        first = watch.compute()
        assert watch.fresh() == first  # no write since: from memory
        with Session(mine) as session:
            session.add(InboxItem(name="mine", method="POST"))
            session.commit()
        assert watch.fresh() is None
        second = watch.compute()
        assert second != first
        with Session(other) as session:
            session.add(InboxItem(name="other", method="POST"))
            session.commit()
        deadline = time.monotonic() + 10
        while watch.compute() == second:
            assert time.monotonic() < deadline, "another engine's write never seen"
            time.sleep(0.05)
    finally:
        mine.dispose()
        other.dispose()
