"""`omnidoc-sandbox test-kit`: open a session, run the vendor's own tests, finish, report.

Talks to a running sandbox over HTTP only (httpx), so it works against the Docker image
in CI as well as a local server; imported by the CLI only when the command runs.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app import urls

SESSIONS = "/_sandbox/test-sessions"


class KitError(Exception):
    """The sandbox could not be asked (unreachable, wrong key, a session already running)."""


@dataclass
class Outcome:
    session: dict[str, Any]
    command_status: int
    page: str

    @property
    def ok(self) -> bool:
        return self.command_status == 0 and self.session["status"] == "passed"


def _checked(answer: httpx.Response, expected: int) -> Any:
    if answer.status_code != expected:
        try:
            problem = answer.json()
            detail = f"{problem.get('code')}: {problem.get('detail') or problem.get('title')}"
        except ValueError:
            detail = answer.text[:200]
        raise KitError(
            f"{answer.request.method} {answer.request.url.path} → {answer.status_code} ({detail})"
        )
    return answer.json() if expected != 0 else None


def _run_command(command: list[str], *, url: str, key: str, timeout: float | None) -> int:
    env = {**os.environ, "SANDBOX_URL": url, "SANDBOX_KEY": key}
    try:
        # The vendor's own command, as it typed it: running it is this command's purpose.
        done = subprocess.run(command, env=env, timeout=timeout, check=False)  # noqa: S603
        return done.returncode
    except FileNotFoundError:
        return 127
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        return 124


def run(
    *,
    url: str,
    key: str,
    command: list[str],
    resilience: bool = False,
    timeout: float | None = None,
    junit: Path | None = None,
    pdf: Path | None = None,
) -> Outcome:
    """The whole run; reports are written whatever the outcome of COMMAND."""
    base = url.rstrip("/")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        try:
            opened = _checked(client.post(SESSIONS, json={"resilience": resilience}), 201)
        except httpx.TransportError as exc:
            raise KitError(f"cannot reach the sandbox at {base} ({type(exc).__name__})") from None
        session_id = opened["id"]
        status = 0
        try:
            status = _run_command(command, url=base, key=key, timeout=timeout)
        finally:
            finished = _checked(client.post(f"{SESSIONS}/{session_id}/finish"), 200)
            if junit is not None:
                answer = client.get(f"{SESSIONS}/{session_id}/junit.xml")
                if answer.status_code == 200:
                    junit.write_bytes(answer.content)
            if pdf is not None:
                answer = client.get(f"{SESSIONS}/{session_id}/report.pdf")
                if answer.status_code == 200:
                    pdf.write_bytes(answer.content)
    return Outcome(
        session=finished, command_status=status, page=urls.test_session_page(base, session_id)
    )


def table(outcome: Outcome) -> str:
    """Each test's result, one line each, then the verdict."""
    tests = outcome.session["tests"]
    width = max(len(t["name"]) for t in tests)
    lines = [f"{'test':<{width}}  result  message"]
    for test in tests:
        name = test["name"] + (" (optional)" if test["optional"] else "")
        lines.append(f"{name:<{width + 11}}  {test['result']:<6}  {test['message']}")
    lines.append("")
    lines.append(f"session {outcome.session['id']}: {outcome.session['status']}")
    lines.append(f"command exit status: {outcome.command_status}")
    lines.append(f"report page: {outcome.page}")
    return "\n".join(lines)
