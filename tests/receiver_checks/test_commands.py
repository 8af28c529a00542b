"""`omnidoc-sandbox check-receiver` and `receiver-vectors`, run as the console script a
vendor's CI runs: exit codes, the table, --json, the JUnit file parsed."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import time_machine
from standardwebhooks import Webhook, WebhookVerificationError

from tests.e2e.server import console_script
from tests.receiver_checks.receivers import (
    ACCEPT_CASES,
    BEHAVIOURS,
    EXPECTED_FAILURES,
    REJECT_CASES,
    SECRET,
    accepts_everything,
    correct,
    serving,
)

EXPECTED_ORDER = (*ACCEPT_CASES, *REJECT_CASES)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_check_receiver_exits_0_when_passed(tmp_path: Path) -> None:
    report = tmp_path / "receiver.xml"
    with serving(correct) as url:
        result = _run("check-receiver", url, "--secret", SECRET, "--junit", str(report))
    assert result.returncode == 0, result.stderr
    assert "PASSED: 12 cases, 0 failed, 0 warned" in result.stdout
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert [case.get("name") for case in suite.iter("testcase")] == list(EXPECTED_ORDER)
    assert suite.get("tests") == "12" and suite.get("failures") == "0"


def test_check_receiver_exits_1_with_failures_in_junit(tmp_path: Path) -> None:
    report = tmp_path / "receiver.xml"
    with serving(accepts_everything) as url:
        result = _run("check-receiver", url, "--secret", SECRET, "--junit", str(report))
    assert result.returncode == 1
    assert "FAILED: 12 cases, 5 failed" in result.stdout
    root = ET.parse(report).getroot()
    failures = {
        case.get("name"): case.find("failure")
        for case in root.iter("testcase")
        if case.find("failure") is not None
    }
    assert set(failures) == EXPECTED_FAILURES["accepts_everything"][0]
    bad = failures["bad_signature"]
    assert bad is not None and "another secret" in (bad.get("message") or "")


def test_check_receiver_json_is_the_api_check() -> None:
    with serving(BEHAVIOURS["reserialises"]) as url:
        result = _run("check-receiver", url, "--secret", SECRET, "--json")
    assert result.returncode == 1
    check = json.loads(result.stdout)
    assert set(check) == {
        "id", "url", "status", "started_at", "finished_at", "draft_id", "cases"
    }  # fmt: skip
    assert (check["id"], check["draft_id"], check["status"]) == (None, None, "failed")
    assert [c["name"] for c in check["cases"] if c["verdict"] == "fail"] == ["non_ascii"]
    assert set(check["cases"][0]) == {
        "name", "expect", "verdict", "status_code", "duration_ms", "detail", "hint"
    }  # fmt: skip


def test_check_receiver_refuses_a_link_local_url() -> None:
    result = _run("check-receiver", "http://169.254.169.254/hook", "--secret", SECRET)
    assert result.returncode == 2
    assert "link-local" in result.stderr


def test_receiver_vectors_verify_to_their_expect() -> None:
    result = _run("receiver-vectors", "--secret", "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"secret", "now", "vectors"}
    secret = document["secret"]
    assert secret == "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="
    with time_machine.travel(document["now"], tick=False):
        for vector in document["vectors"]:
            assert set(vector) == {"name", "headers", "body", "expect"}
            try:
                Webhook(secret).verify(vector["body"], vector["headers"])
                got = "accept"
            except WebhookVerificationError:
                got = "reject"
            assert got == vector["expect"], vector["name"]
