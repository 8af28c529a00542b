"""The judge alone: stored facts in, each test's result, message and evidence out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.drafts.facts import body_fingerprint, create_facts, field_names
from app.testkit.judge import DeliveryFact, Entry, Facts, judge, passed
from app.testkit.requirements import BY_ID, TESTS

T0 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
CREATE = "/api/interop/v1/drafts"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def create(n: int, status: int, body: dict[str, Any], *, draft: str | None = None) -> Entry:
    facts = create_facts(body, is_known_practitioner=lambda rpps: rpps == "10002170750")
    codes = ("validation_failed",) if status == 422 else ()
    return Entry(f"c{n}", at(n), "POST", CREATE, status, draft, 5.0, codes, facts)


def facts(*entries: Entry, finished: bool = False, **more: Any) -> Facts:
    values: dict[str, Any] = {
        "visited": {},
        "deliveries": [],
        "checks": [],
        "resilience": False,
        **more,
    }
    return Facts(entries=list(entries), finished=finished, **values)


def results(f: Facts) -> dict[str, str]:
    return {r.name: r.result for r in judge(f)}


def one(f: Facts, name: str) -> Any:
    return next(r for r in judge(f) if r.name == name)


BAD = {"author_rpps": "1111111111", "patient": {"last_name": "Zorglub"}}
GOOD = {"author_rpps": "10002170750", "context": {"id": "1"}, "patient": {"last_name": "Z"}}


def test_the_facts_hold_names_and_a_fingerprint_never_values() -> None:
    stored = create_facts(BAD, is_known_practitioner=lambda rpps: False)
    assert stored["fields"] == ["author_rpps", "patient", "patient.last_name"]
    assert "Zorglub" not in str(stored) and "1111111111" not in str(stored)
    assert body_fingerprint({"a": 1, "b": [1, 2]}) == body_fingerprint({"b": [1, 2], "a": 1})
    assert body_fingerprint({"a": 1}) != body_fingerprint({"a": 2})
    assert field_names([1, 2]) == []
    # A name the document does not have is only counted: it could be a value.
    odd = {"Zorglub Ombeline": 1, "patient": {"nir": "x", "Ombeline": 2}, "text": "t"}
    assert field_names(odd) == ["patient", "patient.nir", "text", "[2 unknown]"]


def test_nothing_to_judge_waits_then_fails_or_is_omitted_at_finish() -> None:
    running = results(facts(resilience=True))
    assert set(running.values()) == {"wait"}
    done = judge(facts(resilience=True, finished=True))
    assert {r.name: r.result for r in done} == {
        **{t.name: "fail" for t in TESTS if not t.optional},
        "retry_after_respected": "omit",
    }
    assert not passed(done)
    assert results(facts())["retry_after_respected"] == "skip"  # not asked for


def test_a_corrected_422_passes_and_the_same_body_again_fails() -> None:
    fixed = one(
        facts(create(1, 422, BAD), create(2, 200, GOOD, draft="d1")), "validation_error_fixed"
    )
    assert fixed.result == "pass"
    assert [e.id for e in fixed.evidence] == ["c1", "c2"]
    # The same body after its 422 fails, even when a corrected create follows.
    again = dict(reversed(list(BAD.items())))
    resent = one(
        facts(create(1, 422, BAD), create(2, 422, again), create(3, 200, GOOD, draft="d1")),
        "validation_error_fixed",
    )
    assert resent.result == "fail" and "same body" in resent.message
    assert [e.id for e in resent.evidence] == ["c1", "c2"]
    assert "Zorglub" not in str(resent)


def test_create_valid_needs_an_author_of_the_directory() -> None:
    unknown = {"author_rpps": "10001234565"}
    assert results(facts(create(1, 200, unknown, draft="d1")))["create_valid"] == "wait"
    assert results(facts(create(1, 200, GOOD, draft="d1")))["create_valid"] == "pass"
    assert results(facts(create(1, 200, GOOD, draft="d1")))["context_sent"] == "pass"


def upload(
    n: int, draft: str, status: int, parts: int | None, codes: tuple[str, ...] = ()
) -> Entry:
    path = f"/api/interop/v1/drafts/{draft}/files/"
    stored = {"kind": "upload", "file_parts": parts} if parts is not None else None
    return Entry(f"u{n}", at(n), "POST", path, status, draft, 5.0, codes, stored)


def test_files_before_the_visit_and_none_after() -> None:
    entries = [create(1, 200, GOOD, draft="d1"), upload(2, "d1", 200, 2)]
    before = facts(*entries, visited={"d1": at(3)})
    got = results(before)
    assert got["files_before_visit"] == got["multiple_files"] == "pass"
    assert got["redirect_visited"] == got["no_upload_after_visit"] == "pass"
    late = upload(4, "d1", 409, None, ("draft_locked",))
    after = one(facts(*entries, late, visited={"d1": at(3)}), "no_upload_after_visit")
    assert after.result == "fail" and "draft_locked" in after.message
    assert after.evidence[0].id == "u4"
    single = facts(create(1, 200, GOOD, draft="d1"), upload(2, "d1", 200, 1))
    assert results(single)["multiple_files"] == "wait"


def delivery(n: int, status: int | None, error: str | None = None) -> DeliveryFact:
    return DeliveryFact(
        f"e{n}", "d1", "draft.status_changed", at(n), status, error, at(n), attempted=True
    )


def test_webhooks_first_attempts() -> None:
    base = [create(1, 200, GOOD, draft="d1")]
    good = one(
        facts(*base, deliveries=[delivery(2, 204), delivery(3, 200)]), "webhook_acknowledged"
    )
    assert good.result == "pass" and [e.kind for e in good.evidence] == ["delivery", "delivery"]
    missing = "no webhook URL registered for this key: PUT /_sandbox/webhook"
    none = one(facts(*base, deliveries=[delivery(2, None, missing)]), "webhook_acknowledged")
    assert none.result == "fail" and "no webhook URL" in none.message
    refused = one(facts(*base, deliveries=[delivery(2, 500)]), "webhook_acknowledged")
    assert refused.result == "fail" and "500" in refused.message
    # A draft not created in the session (a receiver check's) never counts.
    other = DeliveryFact("e9", "other", "x", at(2), 500, None, at(2), attempted=True)
    assert results(facts(*base, deliveries=[other]))["webhook_acknowledged"] == "wait"


def test_retry_after_is_measured_from_the_answer_of_the_503() -> None:
    injected = Entry("c1", at(0), "POST", CREATE, 503, None, 500.0, ("injected_fault",), None)
    soon = create(2, 200, GOOD, draft="d1")  # 1.5 s after the answer
    late = create(3, 200, GOOD, draft="d1")  # 2.5 s after the answer
    assert results(facts(injected, soon, resilience=True))["retry_after_respected"] == "fail"
    assert results(facts(injected, late, resilience=True))["retry_after_respected"] == "pass"
    assert results(facts(injected, resilience=True))["retry_after_respected"] == "wait"


def test_every_test_cites_requirements_of_its_kind() -> None:
    omnidoc = {"create_valid", "context_sent", "validation_error_fixed", "files_before_visit",
               "multiple_files", "redirect_visited", "no_upload_after_visit"}  # fmt: skip
    for spec in TESTS:
        prefix = "OMD-" if spec.name in omnidoc else "SBX-"
        assert spec.requirements and all(r.startswith(prefix) for r in spec.requirements)
        assert all(r in BY_ID for r in spec.requirements)
    assert [t.name for t in TESTS if t.optional] == ["retry_after_respected"]


def test_the_readme_lists_every_requirement_and_test() -> None:
    from tests.readme import section

    text = section("## Prove your integration")
    for requirement in BY_ID:
        assert f"`{requirement}`" in text, requirement
    for spec in TESTS:
        assert f"`{spec.name}`" in text, spec.name


def test_a_passed_receiver_check_is_the_evidence() -> None:
    from app.testkit.judge import CheckFact

    failed = CheckFact("k1", at(1), False, "receiver check failed: 12 case(s), failed: valid")
    passed_check = CheckFact("k2", at(2), True, "receiver check passed: 12 case(s), none failed")
    waiting = one(facts(checks=[failed]), "receiver_check_passed")
    assert waiting.result == "wait" and waiting.evidence[0].id == "k1"
    assert one(facts(checks=[failed], finished=True), "receiver_check_passed").result == "fail"
    ok = one(facts(checks=[failed, passed_check]), "receiver_check_passed")
    assert ok.result == "pass" and [(e.kind, e.id) for e in ok.evidence] == [
        ("receiver_check", "k2")
    ]


def test_results_roll_up_into_a_requirement_as_inferno_does() -> None:
    from app.testkit.judge import rollup

    assert rollup(["pass", "fail", "pass"]) == "fail"
    assert rollup(["pass", "wait"]) == "wait"
    assert rollup(["pass", "pass"]) == "pass"
    assert rollup(["skip"]) == "skip" and rollup(["omit"]) == "omit"
    assert rollup([]) is None
