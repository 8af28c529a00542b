"""The battery: twelve cases in SPEC order, signed so that a correct verifier (the
`standardwebhooks` library) accepts exactly the accept cases; how answers are judged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from standardwebhooks import Webhook, WebhookVerificationError

from app.receiver_checks import battery
from app.receiver_checks.battery import Answer, build_battery, judge
from app.receiver_checks.schemas import Expect, Verdict
from tests.receiver_checks.receivers import ACCEPT_CASES, REJECT_CASES, SECRET

DRAFT_ID = "6b1f8a2e-1111-4222-8333-444455556666"
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _battery() -> battery.Battery:
    return build_battery(secret=SECRET, draft_id=DRAFT_ID, now=NOW)


def _case(name: str) -> battery.Case:
    return next(case for case in _battery().cases if case.name == name)


def test_build_battery_names_the_cases_in_order() -> None:
    cases = _battery().cases
    assert [case.name for case in cases] == [*ACCEPT_CASES, *REJECT_CASES]
    assert [case.expect for case in cases] == [Expect.ACCEPT] * 7 + [Expect.REJECT] * 5
    assert [d.name for d in _case("out_of_order").deliveries] == [
        "out_of_order.completed",
        "out_of_order.in_progress",
    ]


def test_build_battery_verifies_as_expected_with_the_library() -> None:
    with time_machine.travel(NOW, tick=False):
        for case in _battery().cases:
            for delivery in case.deliveries:
                try:
                    Webhook(SECRET).verify(delivery.body, delivery.headers)
                    verdict = Expect.ACCEPT
                except WebhookVerificationError:
                    verdict = Expect.REJECT
                assert verdict == case.expect, delivery.name


def test_build_battery_duplicate_repeats_valid_exactly() -> None:
    valid, duplicate = _case("valid").deliveries[0], _case("duplicate").deliveries[0]
    assert (duplicate.headers, duplicate.body) == (valid.headers, valid.body)


def test_build_battery_out_of_order_events_go_back_in_time() -> None:
    import json

    completed, in_progress = (json.loads(d.body) for d in _case("out_of_order").deliveries)
    assert completed["data"]["status"] == "completed"
    assert in_progress["data"]["status"] == "in_progress"
    assert in_progress["timestamp"] < completed["timestamp"]
    headers = [d.headers["webhook-timestamp"] for d in _case("out_of_order").deliveries]
    assert headers == [str(int(NOW.timestamp()))] * 2


def test_build_battery_non_ascii_is_raw_utf8_outside_context() -> None:
    body = _case("non_ascii").deliveries[0].body
    for text in ("é", "œ", "…", "🩺"):
        assert text in body
    assert "\\u" not in body


def test_build_battery_signature_cases() -> None:
    rotated = _case("multiple_signatures").deliveries[0].headers["webhook-signature"]
    assert len(rotated.split(" ")) == 2
    assert "webhook-signature" not in _case("missing_signature").deliveries[0].headers
    tampered = _case("tampered_body").deliveries[0].body
    original = _case("valid").deliveries[0].body
    assert len(tampered) == len(original)
    assert sum(a != b for a, b in zip(tampered, original, strict=True)) == 1
    stamps = {
        name: int(_case(name).deliveries[0].headers["webhook-timestamp"])
        for name in ("stale_timestamp", "future_timestamp")
    }
    assert stamps == {
        "stale_timestamp": int(NOW.timestamp()) - 600,
        "future_timestamp": int(NOW.timestamp()) + 600,
    }


@pytest.mark.parametrize(
    ("name", "answer", "verdict", "hint"),
    [
        ("valid", Answer(204, 5.0), Verdict.PASS, None),
        ("valid", Answer(401, 5.0), Verdict.FAIL, battery.HINTS["valid"]),
        ("valid", Answer(200, 2500.0), Verdict.WARN, battery.HINT_SLOW),
        ("unknown_type", Answer(500, 5.0), Verdict.FAIL, battery.HINTS["unknown_type"]),
        ("bad_signature", Answer(401, 5.0), Verdict.PASS, None),
        ("bad_signature", Answer(200, 5.0), Verdict.FAIL, battery.HINTS["bad_signature"]),
        ("bad_signature", Answer(500, 5.0), Verdict.FAIL, battery.HINT_SERVER_ERROR_ON_REJECT),
        ("bad_signature", Answer(302, 5.0), Verdict.FAIL, battery.HINT_REDIRECT),
        ("valid", Answer(None, 5.0, error="timeout"), Verdict.FAIL, battery.HINT_TIMEOUT),
        ("valid", Answer(None, 5.0, error="connection"), Verdict.FAIL, battery.HINT_CONNECTION),
    ],
)
def test_judge(name: str, answer: Answer, verdict: Verdict, hint: str | None) -> None:
    result = judge(_case(name), [answer])
    assert (result.verdict, result.hint) == (verdict, hint)
    assert result.status_code == answer.status_code
    assert result.detail


def test_judge_out_of_order_takes_the_slowest_and_the_last() -> None:
    result = judge(_case("out_of_order"), [Answer(204, 2100.0), Answer(202, 10.0)])
    assert (result.verdict, result.status_code, result.duration_ms) == (Verdict.WARN, 202, 2100.0)
    failed = judge(_case("out_of_order"), [Answer(204, 10.0), Answer(409, 10.0)])
    assert failed.verdict == Verdict.FAIL
    assert failed.hint == battery.HINTS["out_of_order"]
