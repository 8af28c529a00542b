"""The tables' own types: UTC datetimes on every backend, JSON read back as UTF-8 can
carry it, request-line text stored whatever it holds; ids and defaults."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, text
from sqlmodel import Session

from app.db import read_session, write_session
from app.models import Draft, DraftStatus, JournalEntry, new_id, utcnow


def test_new_id_is_a_uuid4() -> None:
    first = new_id()
    assert uuid.UUID(first).version == 4
    assert first != new_id()


def test_utcnow_is_aware_utc() -> None:
    assert utcnow().tzinfo is UTC


def test_draft_defaults_to_temporary_with_its_times() -> None:
    draft = Draft()
    assert draft.status == DraftStatus.TEMPORARY
    assert draft.created_at.tzinfo is UTC
    assert draft.published_at is None


def test_datetimes_come_back_aware_and_in_utc(engine: Engine) -> None:
    paris = timezone(timedelta(hours=1))
    draft = Draft(owner_key="k", published_at=datetime(2026, 3, 14, 10, 26, tzinfo=paris))
    with write_session(engine) as session:
        session.add(draft)
    with read_session(engine) as session:
        stored = session.get(Draft, draft.id)
        assert stored is not None and stored.published_at is not None
    assert stored.published_at == datetime(2026, 3, 14, 9, 26, tzinfo=UTC)
    assert stored.published_at.tzinfo == UTC


def test_stored_json_replaces_a_lone_surrogate_on_read(engine: Engine) -> None:
    entry = JournalEntry(owner_key="k", method="POST", path="/", status=200)
    with write_session(engine) as session:
        session.add(entry)
    with Session(engine) as session:  # as an older version stored it: escaped in the JSON
        session.execute(
            text("UPDATE journal_entry SET warnings = :raw WHERE id = :id"),
            {"raw": '[{"field": "a\\ud800", "code": "x"}]', "id": entry.id},
        )
        session.commit()
    with read_session(engine) as session:
        stored = session.get(JournalEntry, entry.seq)
        assert stored is not None
    assert stored.warnings == [{"field": "a\ufffd", "code": "x"}]


def test_request_line_text_is_stored_without_nul(engine: Engine) -> None:
    entry = JournalEntry(owner_key="k", method="GET", path="/a\x00b", status=404)
    with write_session(engine) as session:
        session.add(entry)
    with read_session(engine) as session:
        stored = session.get(JournalEntry, entry.seq)
        assert stored is not None
    assert stored.path == "/a\ufffdb"
