"""Resets: one key's data, its webhook registration kept (README, "Calls, with curl and
Python"); or everything, the admin reset (README, "Dashboard and admin scope")."""

from __future__ import annotations

from sqlalchemy import Engine, delete
from sqlmodel import col, select

from app.config import Settings
from app.db import retry_on_conflict, wipe_data, write_session
from app.drafts import scenarios, uploads
from app.models import Draft, FaultRule, JournalEntry, StoredFile, TestSession
from app.notifications import outbox
from app.receiver_checks import service as receiver_checks
from app.sandbox.schemas import AdminResetCounts, ResetCounts


def reset_vendor(engine: Engine, *, settings: Settings, owner_key: str) -> ResetCounts:
    """Delete the key's drafts, files, deliveries, journal, faults and test sessions in one
    transaction.

    The files' bytes are removed after the commit: a crash in between leaves orphans
    that the start-up sweep deletes, never a row without its file. A file row an upload
    commits in the middle of it makes the transaction run again (PostgreSQL).
    """
    files, counts = retry_on_conflict(lambda: _delete_rows(engine, owner_key=owner_key))
    for storage_name in files:
        (settings.files_dir / storage_name).unlink(missing_ok=True)
    return counts


def _delete_rows(engine: Engine, *, owner_key: str) -> tuple[list[str], ResetCounts]:
    drafts_of_key = select(Draft.id).where(Draft.owner_key == owner_key)
    with write_session(engine) as session:
        deliveries = outbox.delete_for_key(session, owner_key=owner_key)  # locks them first
        # The names of the rows this DELETE removed, not of a SELECT before it: a file an
        # upload committed in between must go with its row (PostgreSQL).
        files = (
            session.execute(
                delete(StoredFile)
                .where(col(StoredFile.draft_id).in_(drafts_of_key))
                .returning(col(StoredFile.storage_name))
            )
            .scalars()
            .all()
        )
        scenarios.forget(session, draft_ids=drafts_of_key)  # answers booked for them
        receiver_checks.delete_for_key(session, owner_key=owner_key)  # a running one stops
        drafts = session.execute(delete(Draft).where(col(Draft.owner_key) == owner_key))
        journal = session.execute(
            delete(JournalEntry).where(col(JournalEntry.owner_key) == owner_key)
        )
        faults = session.execute(delete(FaultRule).where(col(FaultRule.owner_key) == owner_key))
        # The test kit's sessions judged what was just deleted: they go with it.
        session.execute(delete(TestSession).where(col(TestSession.owner_key) == owner_key))
    return list(files), ResetCounts(
        drafts=int(drafts.rowcount),  # type: ignore[attr-defined]
        files=len(files),
        deliveries=deliveries,
        journal=int(journal.rowcount),  # type: ignore[attr-defined]
        faults=int(faults.rowcount),  # type: ignore[attr-defined]
    )


def reset_all(engine: Engine, *, settings: Settings) -> AdminResetCounts:
    """Everything goes (the admin reset): every row of every key, then every stored file.

    Safe on a running server: rows go first in one transaction, so no row is ever left
    without its file; files go one by one through the upload sweep, so an upload still
    streaming is not cut. The fixtures (keys, their webhooks, the directory) are what
    remains: a webhook registered at run time is gone, the fixtures' applies again.
    """
    rows = wipe_data(engine)
    files = uploads.sweep_orphans(engine, settings=settings)
    return AdminResetCounts(
        drafts=rows.get("draft", 0),
        files=files,
        deliveries=rows.get("webhook_event", 0),
        journal=rows.get("journal_entry", 0),
        faults=rows.get("fault_rule", 0),
        inbox=rows.get("inbox_item", 0),
        webhooks=rows.get("webhook_endpoint", 0),
        autopilot=rows.get("autopilot_move", 0),
    )
