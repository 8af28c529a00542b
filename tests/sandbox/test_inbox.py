"""The inbox takes requests without a key, so what it keeps is bounded: per name, in all
(OMNIDOC_INBOX_MAX_BYTES, oldest evicted first across names) and per request (413)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from app.config import Settings
from app.db import read_session, wipe_data
from app.main import create_app
from app.models import InboxItem, InboxUsage
from app.sandbox import inbox
from tests.helpers import assert_problem, wait_ready

BOUND = 20_000


@pytest.fixture
def small_inbox(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "d", database_url=database_url, inbox_max_bytes=BOUND)
    with TestClient(create_app(settings)) as test_client:
        wait_ready(test_client)
        yield test_client


def _stored(engine: Engine) -> tuple[int, int]:
    """What the inbox holds by its items' footprints, and what its usage row says."""
    with read_session(engine) as session:
        items = session.exec(select(InboxItem)).all()
        usage = session.get(InboxUsage, 1)
    held = sum(
        inbox.footprint(size=i.size, encoding=i.body_encoding, headers=i.headers) for i in items
    )
    return held, usage.stored_bytes if usage else 0


def _record(engine: Engine, name: str, body: bytes, max_bytes: int = BOUND) -> InboxItem:
    headers = {"content-type": "application/json"}
    return inbox.record_request(
        engine, name=name, method="POST", headers=headers, body=body, max_bytes=max_bytes
    )


def test_inbox_total_is_bounded_oldest_first(small_inbox: TestClient) -> None:
    for n in range(12):
        answer = small_inbox.post(f"/_sandbox/inbox/name-{n}", content=b"x" * 3000)
        assert answer.status_code == 200, answer.text
    kept = [n for n in range(12) if small_inbox.get(f"/_sandbox/inbox/name-{n}").json()["items"]]
    assert kept == list(range(12 - len(kept), 12))  # the newest, across names
    assert 12 - len(kept) >= 5  # 12 x 3000 bytes cannot fit in 20,000


def test_inbox_request_larger_than_the_whole_inbox(small_inbox: TestClient) -> None:
    answer = small_inbox.post("/_sandbox/inbox/big", content=b"x" * BOUND)
    body = assert_problem(answer, 413, "body_too_large")
    assert "OMNIDOC_INBOX_MAX_BYTES" in body["detail"]
    assert small_inbox.get("/_sandbox/inbox/big").json() == {"items": []}


def test_record_request_counts_what_is_kept(engine: Engine) -> None:
    for n in range(30):
        _record(engine, f"n{n % 3}", b"\xff" * (n * 97))  # binary: stored as base64
    held, counted = _stored(engine)
    assert held == counted <= BOUND


def test_record_request_counts_the_per_name_trim(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.sandbox.inbox.KEEP_PER_NAME", 2)
    for n in range(5):
        _record(engine, "demo", b"y" * 100 * n)
    held, counted = _stored(engine)
    assert held == counted
    assert inbox.list_items(engine, name="demo")[0].size == 400


def test_wipe_data_empties_every_inbox(engine: Engine) -> None:
    for name in ("a", "b"):
        _record(engine, name, b"z" * 500)
    wipe_data(engine)
    assert inbox.list_items(engine, name="a") == inbox.list_items(engine, name="b") == []
    item = _record(engine, "a", b"z")
    held, counted = _stored(engine)
    assert held == counted == inbox.footprint(size=1, encoding="utf-8", headers=item.headers)


def test_record_request_recounts_a_database_without_usage(engine: Engine) -> None:
    """Items stored before the bound existed are counted at the first new request."""
    _record(engine, "old", b"o" * 5000, max_bytes=10**9)
    with read_session(engine) as session:
        session.delete(session.get(InboxUsage, 1))
        session.commit()
    _record(engine, "new", b"n" * 5000, max_bytes=8000)
    assert inbox.list_items(engine, name="old") == []
    held, counted = _stored(engine)
    assert held == counted <= 8000
