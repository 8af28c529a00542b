"""Vendor-scope reset: one key's data goes, its webhook registration stays (SPEC §6)."""

from __future__ import annotations

from sqlalchemy import Engine, delete
from sqlmodel import col, select

from app import autopilot
from app.config import Settings
from app.db import write_session
from app.models import Draft, FaultRule, JournalEntry, StoredFile, WebhookAttempt, WebhookEvent


def reset_vendor(engine: Engine, *, settings: Settings, owner_key: str) -> dict[str, int]:
    """Delete the key's drafts, files, deliveries, journal and faults in one transaction.

    The files' bytes are removed after the commit: a crash in between leaves orphans
    that the start-up sweep deletes, never a row without its file.
    """
    drafts_of_key = select(Draft.id).where(Draft.owner_key == owner_key)
    events_of_key = select(WebhookEvent.seq).where(WebhookEvent.owner_key == owner_key)
    with write_session(engine) as session:
        # Lock the key's events first: an attempt being recorded (outbox.record locks its
        # event, then adds the attempt) lands before our deletes see the table, or finds
        # its event gone; never an attempt left pointing at a deleted event (PostgreSQL).
        session.exec(
            select(WebhookEvent.seq).where(WebhookEvent.owner_key == owner_key).with_for_update()
        ).all()
        files = session.exec(
            select(StoredFile.storage_name).where(col(StoredFile.draft_id).in_(drafts_of_key))
        ).all()
        session.execute(
            delete(WebhookAttempt).where(col(WebhookAttempt.event_seq).in_(events_of_key))
        )
        deliveries = session.execute(
            delete(WebhookEvent).where(col(WebhookEvent.owner_key) == owner_key)
        )
        session.execute(delete(StoredFile).where(col(StoredFile.draft_id).in_(drafts_of_key)))
        autopilot.forget(session, draft_ids=drafts_of_key)  # answers booked for them
        drafts = session.execute(delete(Draft).where(col(Draft.owner_key) == owner_key))
        journal = session.execute(
            delete(JournalEntry).where(col(JournalEntry.owner_key) == owner_key)
        )
        faults = session.execute(delete(FaultRule).where(col(FaultRule.owner_key) == owner_key))
    for storage_name in files:
        (settings.files_dir / storage_name).unlink(missing_ok=True)
    return {
        "drafts": int(drafts.rowcount),  # type: ignore[attr-defined]
        "files": len(files),
        "deliveries": int(deliveries.rowcount),  # type: ignore[attr-defined]
        "journal": int(journal.rowcount),  # type: ignore[attr-defined]
        "faults": int(faults.rowcount),  # type: ignore[attr-defined]
    }
