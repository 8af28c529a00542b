"""The test kit's judge: pure functions from stored facts (journal entries, deliveries,
receiver checks, visits) to each test's result, message and evidence (SPEC §9).

Nothing here reads a clock, a database or process memory: the same facts give the same
results after a restart, and on any worker. app.testkit.service loads the facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from app import urls
from app.testkit.labels_fr import MESSAGES_FR
from app.testkit.requirements import TESTS, TestSpec

Result = Literal["pass", "fail", "skip", "omit", "wait"]
EvidenceKind = Literal["request", "delivery", "receiver_check"]

RETRY_AFTER_SECONDS = 2

_CREATE = re.compile(rf"^{re.escape(urls.INTEROP_PREFIX)}/drafts/?$")
_UPLOAD = re.compile(rf"^{re.escape(urls.INTEROP_PREFIX)}/drafts/([^/]+)/files/?$")
_REPORT = re.compile(rf"^{re.escape(urls.INTEROP_PREFIX)}/drafts/([^/]+)/report/?$")
_VISIT = re.compile(rf"^{re.escape(urls.SANDBOX_PREFIX)}/drafts/([^/]+)/visit/?$")


@dataclass(frozen=True)
class Entry:
    """A journal entry of the key (its `id` is the journal's)."""

    id: str
    time: datetime
    method: str
    path: str
    status: int
    draft_id: str | None
    duration_ms: float
    error_codes: tuple[str, ...] = ()
    facts: dict[str, Any] | None = None

    @property
    def is_create(self) -> bool:
        return self.method == "POST" and _CREATE.match(self.path) is not None

    @property
    def is_upload(self) -> bool:
        return self.method == "POST" and _UPLOAD.match(self.path) is not None

    @property
    def is_report(self) -> bool:
        return self.method == "GET" and _REPORT.match(self.path) is not None

    @property
    def is_visit(self) -> bool:
        return self.method == "POST" and _VISIT.match(self.path) is not None

    @property
    def answered_at(self) -> datetime:
        return self.time + timedelta(milliseconds=self.duration_ms)

    def fact(self, name: str, default: Any = None) -> Any:
        return (self.facts or {}).get(name, default)


@dataclass(frozen=True)
class DeliveryFact:
    """A notification of a draft of the session and its first attempt, if any."""

    id: str
    draft_id: str
    event_type: str
    created_at: datetime
    first_status: int | None = None
    first_error: str | None = None
    first_at: datetime | None = None
    attempted: bool = False


@dataclass(frozen=True)
class CheckFact:
    """A receiver check of the key (§8)."""

    id: str
    time: datetime
    passed: bool
    summary: str


@dataclass(frozen=True)
class Facts:
    """Everything the judge needs, loaded from storage for one session."""

    entries: Sequence[Entry]  # the key's journal since the session started, oldest first
    visited: dict[str, datetime]  # visit time of drafts created in the session
    deliveries: Sequence[DeliveryFact]
    checks: Sequence[CheckFact]
    resilience: bool
    finished: bool


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind
    id: str
    time: datetime
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "time": self.time, "summary": self.summary}


@dataclass
class Verdict:
    result: Result
    message: str
    evidence: list[Evidence] = field(default_factory=list)
    # The message in French (the page, the PDF): from labels_fr unless given.
    fr: str = ""

    def __post_init__(self) -> None:
        self.fr = self.fr or MESSAGES_FR[self.message]


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest class

    name: str
    requirements: tuple[str, ...]
    optional: bool
    result: Result
    message: str
    evidence: tuple[Evidence, ...]
    message_fr: str


def describe(entry: Entry) -> str:
    """An entry as the reports show it: method, path, status and field names, no value."""
    text = f"{entry.method} {entry.path} → {entry.status}"
    fields = entry.fact("fields")
    if entry.is_create and fields is not None:
        text += f"; fields: {', '.join(fields) if fields else 'none'}"
    parts = entry.fact("file_parts")
    if parts is not None:
        text += f"; file parts: {parts}"
    if entry.error_codes:
        text += f"; errors: {', '.join(sorted(set(entry.error_codes)))}"
    return text


def _request(entry: Entry, note: str = "") -> Evidence:
    summary = describe(entry) + (f" ({note})" if note else "")
    return Evidence("request", entry.id, entry.time, summary)


def _delivery(item: DeliveryFact) -> Evidence:
    if not item.attempted:
        outcome = "not attempted yet"
    elif item.first_status is not None:
        outcome = f"first attempt answered {item.first_status}"
    else:
        outcome = "first attempt failed: " + (item.first_error or "no answer")[:120]
    time = item.first_at or item.created_at
    return Evidence(
        "delivery", item.id, time, f"{item.event_type} of draft {item.draft_id}: {outcome}"
    )


def _creates(facts: Facts) -> list[Entry]:
    return [e for e in facts.entries if e.is_create]


def _session_drafts(facts: Facts) -> set[str]:
    return {e.draft_id for e in _creates(facts) if e.status == 200 and e.draft_id}


def create_valid(facts: Facts) -> Verdict:
    creates = _creates(facts)
    for entry in creates:
        if entry.status == 200 and entry.fact("author_known"):
            return Verdict(
                "pass",
                "A create was answered 200 with an author_rpps of the directory.",
                [_request(entry)],
            )
    if not creates:
        return Verdict("wait", "No create (POST /api/interop/v1/drafts) yet.")
    ok = [e for e in creates if e.status == 200]
    if ok:
        return Verdict(
            "wait",
            "Creates were answered 200, but none sent an author_rpps of the directory.",
            [_request(ok[-1], "no author_rpps of the directory")],
        )
    return Verdict("wait", "No create was answered 200 yet.", [_request(creates[-1])])


def context_sent(facts: Facts) -> Verdict:
    creates = _creates(facts)
    for entry in creates:
        if entry.fact("context"):
            return Verdict("pass", "A create sent a context.", [_request(entry)])
    if creates:
        return Verdict(
            "wait", "No create sent a context yet.", [_request(creates[-1], "no context")]
        )
    return Verdict("wait", "No create yet.")


def validation_error_fixed(facts: Facts) -> Verdict:
    creates = _creates(facts)
    refused: dict[str, Entry] = {}  # fingerprint → its first 422
    fixed: tuple[Entry, Entry] | None = None
    pending: Entry | None = None
    for entry in creates:
        fingerprint = entry.fact("body_sha256")
        if fingerprint is not None and fingerprint in refused:
            first = refused[fingerprint]
            return Verdict(
                "fail",
                "The same body (equal as JSON) was sent again after its 422: correct the "
                "fields the 422 names instead of retrying it.",
                [_request(first, "422"), _request(entry, "the same body again")],
            )
        if entry.status == 422:
            if fingerprint is not None:
                refused[fingerprint] = entry
            pending = pending or entry
        elif entry.status == 200 and pending is not None and fixed is None:
            fixed = (pending, entry)
    if fixed is not None:
        return Verdict(
            "pass",
            "After a 422 on a create, a later create was answered 200.",
            [_request(fixed[0], "422"), _request(fixed[1], "corrected")],
        )
    if pending is not None:
        return Verdict(
            "wait", "A create got a 422; no later create was answered 200 yet.", [_request(pending)]
        )
    return Verdict(
        "wait", "No create was answered 422 yet: send one invalid create, then correct it."
    )


def _uploads(facts: Facts) -> list[Entry]:
    drafts = _session_drafts(facts)
    return [e for e in facts.entries if e.is_upload and e.draft_id in drafts]


def files_before_visit(facts: Facts) -> Verdict:
    uploaded = [e for e in _uploads(facts) if e.status == 200]
    for entry in uploaded:
        visited = facts.visited.get(entry.draft_id or "")
        if visited is not None and entry.time <= visited:
            return Verdict(
                "pass",
                "A draft got a file before its redirect_url was visited.",
                [_request(entry, "before the visit")],
            )
    if uploaded:
        return Verdict(
            "wait",
            "A draft got a file; its redirect_url was not visited yet.",
            [_request(uploaded[0])],
        )
    return Verdict("wait", "No file was attached to a draft of the session yet.")


def multiple_files(facts: Facts) -> Verdict:
    uploads = [e for e in facts.entries if e.is_upload and e.status == 200]
    for entry in uploads:
        if (entry.fact("file_parts") or 0) >= 2:
            return Verdict("pass", "One upload carried two or more file parts.", [_request(entry)])
    if uploads:
        return Verdict(
            "wait",
            "Every upload so far carried one file part: send several in one request.",
            [_request(uploads[-1])],
        )
    return Verdict("wait", "No upload yet.")


def _create_of(facts: Facts, draft_id: str) -> Entry | None:
    return next((e for e in _creates(facts) if e.status == 200 and e.draft_id == draft_id), None)


def redirect_visited(facts: Facts) -> Verdict:
    for draft_id, _ in sorted(facts.visited.items(), key=lambda item: item[1]):
        helper = next(
            (e for e in facts.entries if e.is_visit and e.draft_id == draft_id and e.status == 200),
            None,
        )
        created = _create_of(facts, draft_id)
        note = "visited with the visit helper" if helper else "its redirect_url page was visited"
        cited = helper or created
        if cited is not None:
            note_fr = (
                "par l'appel de test POST …/visit"
                if helper
                else "sa page redirect_url a été ouverte"
            )
            return Verdict(
                "pass",
                f"Draft {draft_id} of the session was visited ({note}).",
                [_request(cited, note)],
                f"La demande {draft_id} de la session a été visitée ({note_fr}).",
            )
    return Verdict("wait", "No draft created in the session was visited yet.")


def no_upload_after_visit(facts: Facts) -> Verdict:
    drafts = _session_drafts(facts)
    for entry in facts.entries:
        if entry.is_upload and entry.status == 409 and "draft_locked" in entry.error_codes:
            return Verdict(
                "fail",
                "An upload was sent to a draft whose redirect_url had been visited (409 "
                "draft_locked): attach files before redirecting the user.",
                [_request(entry)],
            )
    visited = [d for d in facts.visited if d in drafts]
    if visited:
        created = _create_of(facts, visited[0])
        assert created is not None
        return Verdict(
            "pass",
            "A draft of the session was visited and no upload to a visited draft was refused.",
            [_request(created, "visited; no upload refused after it")],
        )
    return Verdict("wait", "No draft of the session was visited yet.")


def webhook_acknowledged(facts: Facts) -> Verdict:
    drafts = _session_drafts(facts)
    items = sorted(
        (d for d in facts.deliveries if d.draft_id in drafts), key=lambda d: d.created_at
    )
    for item in items:
        if item.attempted and not (
            item.first_status is not None and 200 <= item.first_status < 300
        ):
            if (
                item.first_status is None
                and item.first_error
                and "no webhook URL" in item.first_error
            ):
                why = "found no webhook URL registered for the key (PUT /_sandbox/webhook)"
                why_fr = (
                    "La première tentative d'une notification n'a trouvé aucune URL de webhook "
                    "enregistrée pour la clé (PUT /_sandbox/webhook)."
                )
            elif item.first_status is not None:
                why = f"was answered {item.first_status}, not 2xx"
                why_fr = (
                    "La première tentative d'une notification a reçu la réponse "
                    f"{item.first_status} au lieu d'un 2xx."
                )
            else:
                why = "got no answer (" + (item.first_error or "error")[:80] + ")"
                why_fr = "La première tentative d'une notification n'a reçu aucune réponse."
            return Verdict(
                "fail", f"The first attempt of a notification {why}.", [_delivery(item)], why_fr
            )
    acknowledged = [d for d in items if d.attempted]
    waiting = [d for d in items if not d.attempted]
    if acknowledged and (facts.finished or not waiting):
        return Verdict(
            "pass",
            f"Each of the session's {len(acknowledged)} notification(s) was answered 2xx at "
            "its first attempt.",
            [_delivery(d) for d in acknowledged[:20]],
            f"Chacune des {len(acknowledged)} notification(s) de la session a reçu une réponse "
            "2xx dès sa première tentative.",
        )
    if waiting:
        return Verdict(
            "wait", "A notification of the session was not attempted yet.", [_delivery(waiting[0])]
        )
    return Verdict("wait", "No notification of a draft of the session yet (publish one).")


def receiver_check_passed(facts: Facts) -> Verdict:
    for check in facts.checks:
        if check.passed:
            return Verdict(
                "pass",
                "A receiver check of the key passed.",
                [Evidence("receiver_check", check.id, check.time, check.summary)],
            )
    if facts.checks:
        last = facts.checks[-1]
        return Verdict(
            "wait",
            "No receiver check of the key passed yet.",
            [Evidence("receiver_check", last.id, last.time, last.summary)],
        )
    return Verdict("wait", "No receiver check of the key yet (POST /_sandbox/receiver-checks).")


def report_fetched(facts: Facts) -> Verdict:
    for entry in facts.entries:
        if entry.is_report and entry.status == 200:
            return Verdict(
                "pass", "The report of a completed draft was downloaded.", [_request(entry)]
            )
    return Verdict(
        "wait",
        "No report was downloaded yet: fetch GET /api/interop/v1/drafts/{id}/report once a "
        "draft is completed.",
    )


def retry_after_respected(facts: Facts) -> Verdict:
    if not facts.resilience:
        return Verdict("skip", "Not asked for: open the session with resilience.")
    creates = _creates(facts)
    injected = next(
        (e for e in creates if e.status == 503 and "injected_fault" in e.error_codes), None
    )
    if injected is None:
        return Verdict(
            "wait",
            "The sandbox answers the key's next create 503 with Retry-After: 2; no create yet.",
        )
    later = next((e for e in creates if e.time > injected.time and e.id != injected.id), None)
    if later is None:
        return Verdict(
            "wait",
            "The create got its 503 with Retry-After: 2; no create since.",
            [_request(injected)],
        )
    gap = (later.time - injected.answered_at).total_seconds()
    gap_fr = f"{gap:.2f}".replace(".", ",")  # French decimal comma
    evidence = [_request(injected, "Retry-After: 2"), _request(later, f"{gap:.2f} s after the 503")]
    if gap >= RETRY_AFTER_SECONDS:
        return Verdict(
            "pass",
            f"The next create came {gap:.2f} s after the 503 (Retry-After: 2).",
            evidence,
            f"La création suivante est arrivée {gap_fr} s après le 503 (Retry-After: 2).",
        )
    return Verdict(
        "fail",
        f"The next create came {gap:.2f} s after the 503, before its Retry-After of 2 s.",
        evidence,
        f"La création suivante est arrivée {gap_fr} s après le 503, avant la fin de son "
        "Retry-After de 2 s.",
    )


JUDGES: dict[str, Callable[[Facts], Verdict]] = {
    "create_valid": create_valid,
    "context_sent": context_sent,
    "validation_error_fixed": validation_error_fixed,
    "files_before_visit": files_before_visit,
    "multiple_files": multiple_files,
    "redirect_visited": redirect_visited,
    "no_upload_after_visit": no_upload_after_visit,
    "webhook_acknowledged": webhook_acknowledged,
    "receiver_check_passed": receiver_check_passed,
    "report_fetched": report_fetched,
    "retry_after_respected": retry_after_respected,
}


def _settle(
    spec: TestSpec, verdict: Verdict, *, finished: bool, watched: list[Evidence]
) -> Verdict:
    """At finish a test still waiting fails (required) or is omitted (optional)."""
    if not finished or verdict.result != "wait":
        return verdict
    if spec.optional:
        return Verdict(
            "omit",
            "Nothing to judge when the session finished: " + verdict.message,
            verdict.evidence,
            "Rien à juger à la fin de la session : " + verdict.fr,
        )
    evidence = verdict.evidence or watched
    return Verdict(
        "fail",
        "Not shown before the session finished: " + verdict.message,
        evidence,
        "Non démontré avant la fin de la session : " + verdict.fr,
    )


def judge(facts: Facts) -> list[TestResult]:
    """Every test of the kit, in the table's order."""
    # What a test that found nothing of its own watched: the session's last call.
    watched = [_request(facts.entries[-1], "the session's last call")] if facts.entries else []
    results = []
    for spec in TESTS:
        verdict = _settle(spec, JUDGES[spec.name](facts), finished=facts.finished, watched=watched)
        results.append(
            TestResult(
                name=spec.name,
                requirements=spec.requirements,
                optional=spec.optional,
                result=verdict.result,
                message=verdict.message,
                evidence=tuple(verdict.evidence),
                message_fr=verdict.fr,
            )
        )
    return results


def passed(results: Sequence[TestResult]) -> bool:
    """A session passes when no required test failed (or is still waiting)."""
    return all(r.optional or r.result == "pass" for r in results)


# How results roll up into a requirement's, as Inferno's result summarizer does: the
# first of this order that any of its tests has (a failure outweighs everything).
ROLLUP_ORDER: tuple[Result, ...] = ("fail", "wait", "skip", "pass", "omit")


def rollup(results: Sequence[str]) -> Result | None:
    """A requirement's result from its tests' results; None without a test."""
    return next((r for r in ROLLUP_ORDER if r in results), None)
