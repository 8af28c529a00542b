"""Test sessions (SPEC §9): open one per key, judge it from stored facts, finish it.

A running session is judged afresh on every read, from the rows any worker wrote (the
journal, deliveries, receiver checks, visits): nothing lives in process memory, so a
session survives a restart and reads the same on every worker. Finishing judges once
more and freezes the results in the session's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import urls
from app.db import read_session, write_session
from app.errors import SessionRunning, TestSessionNotFound
from app.models import (
    Draft,
    FaultRule,
    JournalEntry,
    ReceiverCheckRecord,
    TestSession,
    TestSessionStatus,
    WebhookAttempt,
    WebhookEvent,
    utcnow,
)
from app.receiver_checks.schemas import CheckStatus
from app.testkit import judge
from app.testkit.judge import CheckFact, DeliveryFact, Entry, Facts, TestResult
from app.testkit.schemas import EvidenceView, TestSessionView, TestView

# The create the resilience test answers 503 with Retry-After: 2 (both spellings match).
RESILIENCE_PATH = urls.INTEROP_PREFIX + "/drafts"


def open_session(engine: Engine, *, owner_key: str, resilience: bool) -> TestSessionView:
    """Start judging the key's traffic; 409 `session_running` if one already runs."""
    row = TestSession(owner_key=owner_key, running_key=owner_key, resilience=resilience)
    try:
        with write_session(engine) as session:
            if resilience:
                rule = FaultRule(
                    owner_key=owner_key,
                    method="POST",
                    path=RESILIENCE_PATH,
                    status=503,
                    retry_after=judge.RETRY_AFTER_SECONDS,
                )
                session.add(rule)
                row.fault_rule_id = rule.id
            session.add(row)
    except IntegrityError:  # the unique running_key: another session of the key runs
        raise SessionRunning() from None
    return session_view(engine, row)


def _owned(session: Session, *, owner_key: str, session_id: str) -> TestSession:
    row = session.get(TestSession, session_id)
    if row is None or row.owner_key != owner_key:
        raise TestSessionNotFound()
    return row


def read_session_row(engine: Engine, *, owner_key: str, session_id: str) -> TestSession:
    with read_session(engine) as session:
        return _owned(session, owner_key=owner_key, session_id=session_id)


def read_any(engine: Engine, *, session_id: str) -> TestSession | None:
    """A session by its id alone (the dashboard page: the id is the capability)."""
    with read_session(engine) as session:
        return session.get(TestSession, session_id)


def _entry(row: JournalEntry) -> Entry:
    return Entry(
        id=row.id,
        time=row.time,
        method=row.method,
        path=row.path,
        status=row.status,
        draft_id=row.draft_id,
        duration_ms=row.duration_ms,
        error_codes=tuple(str(issue.get("code", "")) for issue in row.errors or []),
        facts=row.facts,
    )


def _deliveries(session: Session, *, owner_key: str, drafts: set[str]) -> list[DeliveryFact]:
    if not drafts:
        return []
    events = session.exec(
        select(WebhookEvent)
        .where(WebhookEvent.owner_key == owner_key, col(WebhookEvent.draft_id).in_(drafts))
        .order_by(col(WebhookEvent.seq))
    ).all()
    seqs = [e.seq for e in events]
    firsts = (
        select(func.min(WebhookAttempt.id))
        .where(col(WebhookAttempt.event_seq).in_(seqs))
        .group_by(col(WebhookAttempt.event_seq))
    )
    attempts = session.exec(select(WebhookAttempt).where(col(WebhookAttempt.id).in_(firsts))).all()
    first = {a.event_seq: a for a in attempts}
    facts = []
    for event in events:
        attempt = first.get(event.seq or 0)
        facts.append(
            DeliveryFact(
                id=event.id,
                draft_id=event.draft_id,
                event_type=event.event_type,
                created_at=event.created_at,
                first_status=attempt.status_code if attempt else None,
                first_error=attempt.error if attempt else None,
                first_at=attempt.at if attempt else None,
                attempted=attempt is not None,
            )
        )
    return facts


def _receiver_checks(session: Session, *, owner_key: str, since: datetime) -> list[CheckFact]:
    """The key's receiver checks (§8) started since the session opened, oldest first; a
    check still running is not judged yet."""
    rows = session.exec(
        select(ReceiverCheckRecord)
        .where(
            ReceiverCheckRecord.owner_key == owner_key,
            ReceiverCheckRecord.started_at >= since,
            ReceiverCheckRecord.status != CheckStatus.RUNNING,
        )
        .order_by(col(ReceiverCheckRecord.seq))
    ).all()
    facts = []
    for row in rows:
        cases = row.cases or []
        failed = [str(c.get("name")) for c in cases if c.get("verdict") == "fail"]
        summary = f"receiver check {row.status}: {len(cases)} case(s)"
        summary += f", failed: {', '.join(failed)}" if failed else ", none failed"
        facts.append(
            CheckFact(
                id=row.id,
                time=row.finished_at or row.started_at,
                passed=row.status == CheckStatus.PASSED,
                summary=summary,
            )
        )
    return facts


def load_facts(engine: Engine, row: TestSession, *, finished: bool) -> Facts:
    with read_session(engine) as session:
        entries = [
            _entry(e)
            for e in session.exec(
                select(JournalEntry)
                .where(JournalEntry.owner_key == row.owner_key, JournalEntry.time >= row.started_at)
                .order_by(col(JournalEntry.seq))
            ).all()
        ]
        drafts = {e.draft_id for e in entries if e.is_create and e.status == 200 and e.draft_id}
        visited: dict[str, datetime] = {}
        if drafts:
            for draft_id, at in session.exec(
                select(Draft.id, Draft.visited_at).where(
                    col(Draft.id).in_(drafts), col(Draft.visited_at).is_not(None)
                )
            ).all():
                if at is not None:
                    visited[draft_id] = at
        return Facts(
            entries=entries,
            visited=visited,
            deliveries=_deliveries(session, owner_key=row.owner_key, drafts=drafts),
            checks=_receiver_checks(session, owner_key=row.owner_key, since=row.started_at),
            resilience=row.resilience,
            finished=finished,
        )


def _tests(results: Sequence[TestResult]) -> list[TestView]:
    return [
        TestView(
            name=r.name,
            requirements=list(r.requirements),
            optional=r.optional,
            result=r.result,
            message=r.message,
            evidence=[EvidenceView(**e.as_dict()) for e in r.evidence],
        )
        for r in results
    ]


def session_view(engine: Engine, row: TestSession) -> TestSessionView:
    """The session as the API shows it: its frozen results once finished, else judged now."""
    return session_view_fr(engine, row)[0]


def session_view_fr(engine: Engine, row: TestSession) -> tuple[TestSessionView, dict[str, str]]:
    """The session's view and each test's message in French (the page, the PDF)."""
    if row.status != TestSessionStatus.RUNNING and row.results is not None:
        tests = [TestView.model_validate(t) for t in row.results]
        french = {str(t["name"]): str(t.get("message_fr") or t["message"]) for t in row.results}
    else:
        results = judge.judge(load_facts(engine, row, finished=False))
        tests = _tests(results)
        french = {r.name: r.message_fr for r in results}
    view = TestSessionView(
        id=row.id,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        tests=tests,
    )
    return view, french


def finish_session(engine: Engine, *, owner_key: str, session_id: str) -> TestSessionView:
    """Judge a last time and freeze; finishing a finished session changes nothing."""
    row = read_session_row(engine, owner_key=owner_key, session_id=session_id)
    if row.status != TestSessionStatus.RUNNING:
        return session_view(engine, row)
    results = judge.judge(load_facts(engine, row, finished=True))
    tests = _tests(results)
    with write_session(engine) as session:
        current = _owned(session, owner_key=owner_key, session_id=session_id)
        if current.status == TestSessionStatus.RUNNING:  # not finished meanwhile
            current.status = (
                TestSessionStatus.PASSED if judge.passed(results) else TestSessionStatus.FAILED
            )
            current.finished_at = utcnow()
            current.running_key = None
            current.results = [
                {**t.model_dump(mode="json"), "message_fr": r.message_fr}
                for t, r in zip(tests, results, strict=True)
            ]
            session.add(current)
            if current.fault_rule_id is not None:  # the 503 never asked for: withdrawn
                session.execute(
                    delete(FaultRule).where(
                        col(FaultRule.id) == current.fault_rule_id, col(FaultRule.remaining) > 0
                    )
                )
        row = current
    return session_view(engine, row)
