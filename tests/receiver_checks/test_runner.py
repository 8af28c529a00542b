"""The battery sent over real sockets to real receivers: each gets exactly its verdicts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from app.models import utcnow
from app.receiver_checks.battery import HINT_CONNECTION, HINT_REDIRECT, build_battery
from app.receiver_checks.runner import run_battery
from app.receiver_checks.schemas import CaseResult, Verdict
from tests.e2e.server import free_port
from tests.receiver_checks import receivers
from tests.receiver_checks.receivers import BEHAVIOURS, EXPECTED_FAILURES, SECRET, serving

DRAFT_ID = "6b1f8a2e-1111-4222-8333-444455556666"


def _run(url: str, *, request_timeout: float = 10.0, **kwargs: Any) -> list[CaseResult]:
    battery = build_battery(secret=SECRET, draft_id=DRAFT_ID, now=utcnow())
    return asyncio.run(run_battery(battery, url=url, request_timeout=request_timeout, **kwargs))


def _names(results: list[CaseResult], verdict: Verdict) -> set[str]:
    return {result.name for result in results if result.verdict == verdict}


@pytest.mark.parametrize("receiver", sorted(BEHAVIOURS))
def test_run_battery_grades_each_receiver(receiver: str) -> None:
    with serving(BEHAVIOURS[receiver]) as url:
        results = _run(url)
    failures, warnings = EXPECTED_FAILURES[receiver]
    assert len(results) == 12
    assert _names(results, Verdict.FAIL) == failures
    assert _names(results, Verdict.WARN) == warnings
    for result in results:
        assert (result.hint is None) == (result.verdict == Verdict.PASS), result.name


def test_run_battery_never_follows_a_redirect() -> None:
    with serving(receivers.redirects) as url:
        results = _run(url)
    assert {r.verdict for r in results} == {Verdict.FAIL}
    assert {r.status_code for r in results} == {307}
    assert {r.hint for r in results} == {HINT_REDIRECT}


def test_run_battery_fails_on_5xx_even_for_reject_cases() -> None:
    with serving(receivers.server_error) as url:
        results = _run(url)
    assert {r.verdict for r in results} == {Verdict.FAIL}


def test_run_battery_connection_error_has_no_status() -> None:
    results = _run(f"http://127.0.0.1:{free_port()}/hook")
    assert {(r.verdict, r.status_code, r.hint) for r in results} == {
        (Verdict.FAIL, None, HINT_CONNECTION)
    }


def test_run_battery_times_out() -> None:
    def hangs(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        time.sleep(1.0)
        return 204, {}

    with serving(hangs) as url:
        results = _run(url, request_timeout=0.2)
    assert {(r.verdict, r.status_code) for r in results} == {(Verdict.FAIL, None)}
    assert "timeout" in results[0].detail


def test_run_battery_reports_each_case_as_judged() -> None:
    seen: list[str] = []

    async def on_case(result: CaseResult) -> None:
        seen.append(result.name)

    with serving(receivers.correct) as url:
        results = _run(url, on_case=on_case)
    assert seen == [result.name for result in results]
