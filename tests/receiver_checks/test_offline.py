"""check-receiver and receiver-vectors without a server: the vectors verified by the
`standardwebhooks` library at their `now`, the table and the JUnit report."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import time_machine
from standardwebhooks import Webhook, WebhookVerificationError

from app.models import utcnow
from app.receiver_checks import offline
from app.receiver_checks.schemas import CheckStatus
from tests.receiver_checks.receivers import (
    SECRET,
    accepts_everything,
    correct,
    serving,
)


def _verifies(secret: str, vector: dict[str, object]) -> str:
    try:
        Webhook(secret).verify(vector["body"], vector["headers"])  # type: ignore[arg-type]
    except WebhookVerificationError:
        return "reject"
    return "accept"


def test_vectors_give_their_expect_at_their_now() -> None:
    document = offline.vectors(secret=SECRET, now=utcnow())
    assert document["secret"] == SECRET
    names = [vector["name"] for vector in document["vectors"]]
    assert len(names) == 13
    assert "out_of_order.completed" in names and "out_of_order.in_progress" in names
    with time_machine.travel(document["now"], tick=False):
        for vector in document["vectors"]:
            assert _verifies(SECRET, vector) == vector["expect"], vector["name"]


def test_check_receiver_passes_a_correct_receiver() -> None:
    with serving(correct) as url:
        check = offline.check_receiver(url=url, secret=SECRET, request_timeout=5.0)
    assert check.status == CheckStatus.PASSED
    assert (check.id, check.draft_id) == (None, None)
    assert "PASSED: 12 cases, 0 failed" in offline.table(check)


def test_junit_carries_each_failure_and_its_hint() -> None:
    with serving(accepts_everything) as url:
        check = offline.check_receiver(url=url, secret=SECRET, request_timeout=5.0)
    suite = ET.fromstring(offline.junit(check)).find("testsuite")
    assert suite is not None and suite.get("tests") == "12" and suite.get("failures") == "5"
    failed = {
        case.get("name"): case.find("failure")
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    }
    assert set(failed) == {
        "bad_signature",
        "missing_signature",
        "tampered_body",
        "stale_timestamp",
        "future_timestamp",
    }
    hints = {case.name: case.hint for case in check.cases}
    for name, failure in failed.items():
        assert failure is not None and failure.get("message") == hints[str(name)]
