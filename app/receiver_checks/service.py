"""Stored receiver checks: start one, run it in the background, read them back (SPEC §8).

Every write to `receiver_check` goes through here. A check runs as a task of the process
that accepted it: its draft and row are committed first, each case is stored as soon as
it is judged (the dashboard watches them arrive), and a heartbeat renews the row; a row
whose heartbeat stopped (the sandbox restarted) is finished as failed, with that reason,
at the next start or the next read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db import read_session, write_session
from app.drafts.field_rules import CONTEXT_MAX_BYTES
from app.drafts.service import canonical_context
from app.errors import (
    FieldIssue,
    NoWebhook,
    ReceiverCheckNotFound,
    ReceiverCheckRunning,
    ValidationFailed,
)
from app.fixtures import ApiKeyFixture
from app.longpoll import newest_page
from app.models import Draft, ReceiverCheckRecord, new_id, utcnow
from app.notifications.webhooks import effective_endpoint
from app.receiver_checks import french, runner
from app.receiver_checks.battery import EXPECTED, Battery, build_battery, unsent
from app.receiver_checks.schemas import (
    AdminCaseResult,
    AdminReceiverCheck,
    CaseResult,
    CheckStatus,
    ReceiverCheck,
    ReceiverCheckBody,
    Verdict,
    case_results,
)
from app.runtime import Runtime
from app.targets import check_target_url

logger = logging.getLogger("omnidoc_sandbox")

HEARTBEAT_SECONDS = 2.0
LEASE = timedelta(seconds=15)  # a running check not renewed for this long was cut off
RESTARTED = "the sandbox restarted while the check ran"
STOPPED = "the sandbox stopped while the check ran"
LISTING_LIMIT = 100
DRAFT_TEXT = "Vérification du récepteur de webhooks (omnidoc-sandbox check)."


@dataclass(frozen=True)
class Started:
    """A check just stored, and what its task sends."""

    check: ReceiverCheck
    battery: Battery


def to_wire(row: ReceiverCheckRecord) -> ReceiverCheck:
    return ReceiverCheck(
        id=row.id,
        url=row.url,
        status=CheckStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        draft_id=row.draft_id,
        cases=case_results(row.cases),
    )


def status_of(results: Sequence[CaseResult]) -> CheckStatus:
    """`passed` when no case failed (a `warn` passes)."""
    failed = any(result.verdict == Verdict.FAIL for result in results)
    return CheckStatus.FAILED if failed else CheckStatus.PASSED


def start_check(
    engine: Engine, *, api_key: ApiKeyFixture, body: ReceiverCheckBody, base_url: str
) -> Started:
    """Store a running check and its draft; 409 without a URL and a secret, or while one runs."""
    with read_session(engine) as session:
        endpoint = effective_endpoint(session, owner_key=api_key.key, api_key=api_key)
    url = body.url or (endpoint.url if endpoint else None)
    secret = body.secret or (endpoint.secret if endpoint else None)
    if not url or not secret:
        raise NoWebhook(
            "No URL or secret to check: give `url` and `secret`, or register the key's "
            "webhook with PUT /_sandbox/webhook."
        )
    check_target_url(url)
    check_id, now = new_id(), utcnow()
    context: dict[str, Any] = (
        body.context.root if body.context is not None else {"receiver_check": check_id}
    )
    context_json = canonical_context(context)
    size = len((context_json or "").encode())
    if size > CONTEXT_MAX_BYTES:  # the create's rule: the check's draft is a draft like any
        message = (
            f"context must be at most {CONTEXT_MAX_BYTES} bytes as compact UTF-8 JSON, got {size}."
        )
        raise ValidationFailed(
            message, errors=[FieldIssue("context", "context_too_large", message)]
        )
    draft = Draft(owner_key=api_key.key, text=DRAFT_TEXT, context_json=context_json)
    row = ReceiverCheckRecord(
        id=check_id,
        owner_key=api_key.key,
        running_key=api_key.key,
        url=url,
        status=CheckStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        draft_id=draft.id,
    )
    try:
        with write_session(engine) as session:
            _finish_abandoned(session, now=now)
            session.add(draft)
            session.add(row)
    except IntegrityError:
        raise ReceiverCheckRunning() from None
    battery = build_battery(
        secret=secret, draft_id=draft.id, now=now, context=context, base_url=base_url
    )
    return Started(check=to_wire(row), battery=battery)


def record_case(engine: Engine, *, check_id: str, result: CaseResult) -> bool:
    """Store one judged case; False when the check is gone (the key was reset)."""
    with write_session(engine) as session:
        row = _running(session, check_id)
        if row is None:
            return False
        row.cases = [*row.cases, result.model_dump(mode="json")]
        row.heartbeat_at = utcnow()
        session.add(row)
    return True


def renew(engine: Engine, *, check_id: str) -> bool:
    """The heartbeat; False when the check is gone or finished."""
    with write_session(engine) as session:
        row = _running(session, check_id)
        if row is None:
            return False
        row.heartbeat_at = utcnow()
        session.add(row)
    return True


def finish_check(engine: Engine, *, check_id: str, reason: str | None = None) -> None:
    """Finish a running check: its verdict, every case unsent (with `reason`) failed."""
    with write_session(engine) as session:
        row = _running(session, check_id)
        if row is not None:
            _finish(session, row, reason=reason or RESTARTED)


def finish_abandoned(engine: Engine) -> int:
    """Finish as failed every running check whose heartbeat stopped; how many there were."""
    with read_session(engine) as session:
        if not _abandoned(session, now=utcnow()):
            return 0
    with write_session(engine) as session:
        return _finish_abandoned(session, now=utcnow())


def _running(session: Session, check_id: str) -> ReceiverCheckRecord | None:
    query = select(ReceiverCheckRecord).where(
        ReceiverCheckRecord.id == check_id, ReceiverCheckRecord.status == CheckStatus.RUNNING
    )
    return session.exec(query.with_for_update()).first()


def _abandoned(session: Session, *, now: datetime) -> Sequence[ReceiverCheckRecord]:
    query = select(ReceiverCheckRecord).where(
        ReceiverCheckRecord.status == CheckStatus.RUNNING,
        col(ReceiverCheckRecord.heartbeat_at) < now - LEASE,
    )
    return session.exec(query.with_for_update()).all()


def _finish_abandoned(session: Session, *, now: datetime) -> int:
    rows = _abandoned(session, now=now)
    for row in rows:
        _finish(session, row, reason=RESTARTED)
    session.flush()  # the running_key of each is free before anything else is inserted
    return len(rows)


def _finish(session: Session, row: ReceiverCheckRecord, *, reason: str) -> None:
    results = case_results(row.cases)
    judged = {result.name for result in results}
    results += [unsent(name, reason) for name in EXPECTED if name not in judged]
    row.cases = [result.model_dump(mode="json") for result in results]
    row.status = status_of(results)
    row.finished_at = utcnow()
    row.running_key = None
    session.add(row)


def get_check(engine: Engine, *, owner_key: str, check_id: str) -> ReceiverCheck:
    """The key's check; 404 alike for unknown ids and another key's checks."""
    finish_abandoned(engine)
    with read_session(engine) as session:
        row = session.exec(
            select(ReceiverCheckRecord).where(
                ReceiverCheckRecord.id == check_id.lower(),
                ReceiverCheckRecord.owner_key == owner_key,
            )
        ).first()
    if row is None:
        raise ReceiverCheckNotFound()
    return to_wire(row)


def list_checks(engine: Engine, *, owner_key: str, after: str | None = None) -> list[ReceiverCheck]:
    """The key's checks, newest first, only those after `after` when given."""
    return [to_wire(row) for row in _page(engine, owner_key=owner_key, after=after)]


def list_admin_checks(
    engine: Engine, *, owner_key: str | None, after: str | None = None
) -> list[AdminReceiverCheck]:
    """Every key's checks (one key's when given), newest first, with their key."""
    return [
        admin_view(to_wire(row), owner_key=row.owner_key)
        for row in _page(engine, owner_key=owner_key, after=after)
    ]


def admin_view(check: ReceiverCheck, *, owner_key: str) -> AdminReceiverCheck:
    """The check as the dashboard shows it: its key, and each case's French."""
    cases = [
        AdminCaseResult(
            **case.model_dump(), title_fr=french.TITLES[case.name], hint_fr=french.hint(case.hint)
        )
        for case in check.cases
    ]
    return AdminReceiverCheck(
        **check.model_dump(exclude={"cases"}), owner_key=owner_key, cases=cases
    )


def _page(
    engine: Engine, *, owner_key: str | None, after: str | None
) -> Sequence[ReceiverCheckRecord]:
    finish_abandoned(engine)
    scope = (
        ReceiverCheckRecord.owner_key == owner_key
        if owner_key is not None
        else col(ReceiverCheckRecord.seq).is_not(None)
    )
    with read_session(engine) as session:
        return newest_page(
            session,
            ReceiverCheckRecord,
            scope=scope,
            after=after,
            what="a receiver check of this key" if owner_key else "a receiver check",
            limit=LISTING_LIMIT,
        )


def delete_for_key(session: Session, *, owner_key: str) -> int:
    """The vendor reset's share: the key's checks (a running one stops at its next case)."""
    result = session.execute(
        delete(ReceiverCheckRecord).where(col(ReceiverCheckRecord.owner_key) == owner_key)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- The background task ---------------------------------------------------------------


def launch(runtime: Runtime, started: Started) -> None:
    """Run the check as a task of this process (held by the runtime until it ends)."""
    assert runtime.engine is not None and started.check.id is not None
    task = asyncio.create_task(
        run_check(
            runtime.engine,
            check_id=started.check.id,
            url=started.check.url,
            battery=started.battery,
            request_timeout=runtime.settings.webhook_timeout,
        )
    )
    runtime.checks.add(task)
    task.add_done_callback(runtime.checks.discard)


async def run_check(
    engine: Engine, *, check_id: str, url: str, battery: Battery, request_timeout: float
) -> None:
    """Send the battery, storing each case as it is judged, then the check's verdict."""

    class Gone(Exception):
        """The check's row is gone: the key was reset meanwhile."""

    async def store(result: CaseResult) -> None:
        if not await asyncio.to_thread(record_case, engine, check_id=check_id, result=result):
            raise Gone

    heartbeat = asyncio.create_task(_heartbeat(engine, check_id=check_id))
    try:
        await runner.run_battery(battery, url=url, request_timeout=request_timeout, on_case=store)
        await asyncio.to_thread(finish_check, engine, check_id=check_id)
    except Gone:
        pass
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):  # best effort: a restart finishes it otherwise
            finish_check(engine, check_id=check_id, reason=STOPPED)
        raise
    except Exception as exc:  # a bug must not leave the check running until its lease ends
        logger.error("receiver check failed: %s", type(exc).__name__)
        await asyncio.to_thread(
            finish_check, engine, check_id=check_id, reason="the sandbox hit a bug"
        )
    finally:
        heartbeat.cancel()


async def _heartbeat(engine: Engine, *, check_id: str) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        if not await asyncio.to_thread(renew, engine, check_id=check_id):
            return
