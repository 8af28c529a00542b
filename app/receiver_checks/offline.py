"""The receiver check without a server: `omnidoc-sandbox check-receiver` and
`omnidoc-sandbox receiver-vectors` (README, "Check your webhook receiver")."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from app.models import new_id, utcnow
from app.receiver_checks.battery import build_battery
from app.receiver_checks.runner import run_battery
from app.receiver_checks.schemas import ReceiverCheck, Verdict
from app.receiver_checks.service import status_of
from app.sandbox.schemas import WEBHOOK_URL_PATTERN

# The example secret of Standard Webhooks' documentation: vectors stay the same run to run.
VECTORS_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105  (a public example)


def check_receiver(*, url: str, secret: str, request_timeout: float) -> ReceiverCheck:
    """Send the battery about a made-up draft; the check as the API shows one (no ids).

    ValueError for a URL the sandbox would not send to, or a secret that is not base64.
    """
    if not re.fullmatch(WEBHOOK_URL_PATTERN, url):
        raise ValueError("the URL must be http(s)://host[:port][/path], as a webhook's")
    started = utcnow()
    battery = build_battery(secret=secret, draft_id=new_id(), now=started)
    results = asyncio.run(run_battery(battery, url=url, request_timeout=request_timeout))
    return ReceiverCheck(
        id=None,
        url=url,
        status=status_of(results),
        started_at=started,
        finished_at=utcnow(),
        draft_id=None,
        cases=results,
    )


def vectors(*, secret: str, now: datetime) -> dict[str, Any]:
    """The battery as static test vectors: one per delivery, with the instant to verify at."""
    battery = build_battery(secret=secret, draft_id=new_id(), now=now)
    return {
        "secret": secret,
        "now": int(battery.now.timestamp()),
        "vectors": [
            {
                "name": delivery.name,
                "headers": delivery.headers,
                "body": delivery.body,
                "expect": case.expect.value,
            }
            for case in battery.cases
            for delivery in case.deliveries
        ],
    }


_MARKS = {Verdict.PASS: "pass", Verdict.WARN: "WARN", Verdict.FAIL: "FAIL"}


def table(check: ReceiverCheck) -> str:
    """One line per case (name, expected, verdict, answer, time), each hint under its case."""
    rows = [("case", "expect", "verdict", "status", "ms")]
    for case in check.cases:
        status = str(case.status_code) if case.status_code is not None else "-"
        rows.append(
            (case.name, case.expect.value, _MARKS[case.verdict], status, f"{case.duration_ms:.0f}")
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        hint = check.cases[index - 1].hint if index else None
        if hint:
            lines.append(f"    → {hint}")
    failed = sum(case.verdict == Verdict.FAIL for case in check.cases)
    warned = sum(case.verdict == Verdict.WARN for case in check.cases)
    lines.append(
        f"{check.status.value.upper()}: {len(check.cases)} cases, {failed} failed, "
        f"{warned} warned ({check.url})"
    )
    return "\n".join(lines)


def junit(check: ReceiverCheck) -> str:
    """A JUnit XML report: one testcase per case; a failure carries the hint and detail."""
    suite = ET.Element(
        "testsuite",
        name="receiver-check",
        tests=str(len(check.cases)),
        failures=str(sum(case.verdict == Verdict.FAIL for case in check.cases)),
        errors="0",
        skipped="0",
        timestamp=check.started_at.isoformat(),
    )
    for case in check.cases:
        testcase = ET.SubElement(
            suite,
            "testcase",
            classname="receiver-check",
            name=case.name,
            time=f"{case.duration_ms / 1000:.3f}",
        )
        if case.verdict == Verdict.FAIL:
            failure = ET.SubElement(testcase, "failure", message=case.hint or "", type="fail")
            failure.text = case.detail
        else:
            out = ET.SubElement(testcase, "system-out")
            out.text = (
                case.detail if case.verdict == Verdict.PASS else f"warn: {case.hint}\n{case.detail}"
            )
    suites = ET.Element("testsuites", name="omnidoc-sandbox receiver check")
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
