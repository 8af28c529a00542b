"""Scenario practitioners end to end: real server processes, a real signed-webhook receiver.

Drafts are visited and published through the helpers; nothing calls `complete` or
`cancel` except the test of a manual cancel. Short `after_seconds` come from a fixtures
file of the test, except in the test of the documented 3 s of the default fixtures.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest

from tests.e2e.server import MakeServer, SandboxServer
from tests.helpers import AUTHOR, KEY_A, SCENARIO_PRACTITIONERS, auth
from tests.receiver import Received, Receiver

pytestmark = pytest.mark.e2e

ANSWERS, DECLINES = SCENARIO_PRACTITIONERS
REPORT = "Avis : lésion d'aspect bénin ; surveillance simple."


def _fixtures(tmp_path: Path, *, after_seconds: float) -> dict[str, str]:
    """The env of a server whose scenario practitioners answer after `after_seconds`."""
    path = tmp_path / "fixtures.yaml"
    path.write_text(
        f"""
api_keys:
  - key: {KEY_A}
    name: Vendor A
practitioners:
  - {{rpps: "{AUTHOR}", first_name: Camille, last_name: Durand, specialty: Médecine générale}}
  - rpps: "{ANSWERS}"
    first_name: Élise
    last_name: Marchand
    specialty: Rhumatologie
    autopilot: {{outcome: completed, after_seconds: {after_seconds}, report_text: "{REPORT}"}}
  - rpps: "{DECLINES}"
    first_name: Nicolas
    last_name: Perrin
    specialty: Ophtalmologie
    autopilot: {{outcome: cancelled, after_seconds: {after_seconds}}}
""",
        encoding="utf-8",
    )
    return {"OMNIDOC_FIXTURES": str(path)}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


_CLIENTS: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def _api(server: SandboxServer) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, headers=auth(KEY_A), timeout=40)
    _CLIENTS.append(client)
    return client


def _register(api: httpx.Client, receiver: Receiver) -> None:
    response = api.put("/_sandbox/webhook", json={"url": receiver.url})
    assert response.status_code == 200, response.text
    receiver.secret = response.json()["secret"]


def _published(api: httpx.Client, recipient: str) -> dict[str, Any]:
    """Create a draft to `recipient`, visit and publish it with the helpers; its view."""
    created = api.post(
        "/api/interop/v1/drafts",
        json={"author_rpps": AUTHOR, "recipient_rpps": recipient, "context": {"to": recipient}},
    )
    assert created.status_code == 200, created.text
    view: dict[str, Any] = {}
    for step in ("visit", "publish"):
        response = api.post(f"/_sandbox/drafts/{created.json()['id']}/{step}")
        assert response.status_code == 200, response.text
        view = response.json()
    assert view["status"] == "in_progress"
    return view


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _event(received: list[Received], draft_id: str, status: str) -> dict[str, Any]:
    [found] = [
        r.payload
        for r in received
        if r.payload["data"]["id"] == draft_id and r.payload["data"]["status"] == status
    ]
    assert isinstance(found, dict)
    return found


def _notified(received: list[Received], draft_id: str) -> list[str]:
    return [r.payload["data"]["status"] for r in received if r.payload["data"]["id"] == draft_id]


def _until(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """Poll with a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_default_scenario_practitioners_answer_after_3_seconds(
    sandbox: SandboxServer, receiver: Receiver
) -> None:
    """The default fixtures, as documented: completes after 3 s with a report, cancels."""
    api = _api(sandbox)
    _register(api, receiver)
    answered, declined = _published(api, ANSWERS), _published(api, DECLINES)
    for view in (answered, declined):
        due = _instant(view["autopilot_due_at"]) - _instant(view["published_at"])
        assert due == timedelta(seconds=3)

    received = receiver.wait_for(4, timeout=30)  # two in_progress, then the answers

    assert all(r.verified for r in received)
    completed = _event(received, answered["id"], "completed")["data"]
    assert completed["previous_status"] == "in_progress"
    assert completed["context"] == {"to": ANSWERS}
    assert completed["billing"]["acts"][0]["rpps"] == ANSWERS
    cancelled = _event(received, declined["id"], "cancelled")["data"]
    assert (cancelled["report_url"], cancelled["billing"]) == (None, None)
    final = api.get(f"/api/interop/v1/drafts/{answered['id']}").json()
    assert final["status"] == "completed"
    assert final["autopilot_due_at"] is None
    assert _instant(final["completed_at"]) >= _instant(answered["autopilot_due_at"])
    pdf = api.get(completed["report_url"])
    assert pdf.status_code == 200
    text = " ".join(pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert "Avis : tableau compatible avec une arthrose digitale" in text
    gone = api.get(f"/api/interop/v1/drafts/{declined['id']}").json()
    assert (gone["status"], gone["autopilot_due_at"]) == ("cancelled", None)
    assert f"scenario : {ANSWERS} answers 'completed' 3 s after publication" in sandbox.log()


def test_autopilot_answer_due_during_a_restart_happens_at_start(
    make_server: MakeServer, receiver: Receiver, tmp_path: Path
) -> None:
    server = make_server(_fixtures(tmp_path, after_seconds=2))
    api = _api(server)
    _register(api, receiver)
    view = _published(api, ANSWERS)
    server.stop()  # the answer falls due while the server is down
    due = _instant(view["autopilot_due_at"])
    _until(lambda: datetime.now(UTC) > due, "the due time passing")
    restarted_at = datetime.now(UTC)
    server.start()

    received = receiver.wait_for(2)

    assert _notified(received, view["id"]) == ["in_progress", "completed"]
    final = api.get(f"/api/interop/v1/drafts/{view['id']}").json()
    assert final["status"] == "completed"
    assert _instant(final["completed_at"]) >= restarted_at
    pdf = api.get(f"/api/interop/v1/drafts/{view['id']}/report")
    assert pdf.status_code == 200


def test_autopilot_with_two_workers_moves_each_draft_once(
    make_server: MakeServer, receiver: Receiver, tmp_path: Path
) -> None:
    server = make_server(_fixtures(tmp_path, after_seconds=0.5), "--workers", "2")
    _until(
        lambda: server.log().count("ready: database and fixtures loaded") == 2,
        "both workers ready",
    )
    api = _api(server)
    _register(api, receiver)
    views = [_published(api, (ANSWERS, DECLINES)[n % 2]) for n in range(6)]

    received = receiver.wait_for(12, timeout=30)

    for n, view in enumerate(views):
        outcome = ("completed", "cancelled")[n % 2]
        assert _notified(received, view["id"]) == ["in_progress", outcome]
        performed = re.findall(rf"autopilot draft={view['id']} outcome=(\w+)", server.log())
        assert performed == [outcome]
    # The receiver answers before the worker records the attempt: wait for the records.
    deliveries: list[dict[str, Any]] = []

    def all_recorded() -> bool:
        deliveries[:] = api.get("/_sandbox/webhooks/deliveries").json()["items"]
        return all(d["status"] == "delivered" for d in deliveries)

    _until(all_recorded, "every delivery recorded")
    assert len(deliveries) == 12
    assert all(len(d["attempts"]) == 1 for d in deliveries)


def test_manual_cancel_before_the_due_time_wins(
    make_server: MakeServer, receiver: Receiver, tmp_path: Path
) -> None:
    server = make_server(_fixtures(tmp_path, after_seconds=2))
    api = _api(server)
    _register(api, receiver)
    view = _published(api, ANSWERS)
    cancelled = api.post(f"/_sandbox/drafts/{view['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["autopilot_due_at"] is None

    # The worker's pass at the due time: it drops the booked answer, nothing more.
    _until(
        lambda: f"autopilot draft={view['id']} outcome=left_alone" in server.log(),
        "the worker's pass at the due time",
    )

    assert _notified(receiver.wait_for(2), view["id"]) == ["in_progress", "cancelled"]
    final = api.get(f"/api/interop/v1/drafts/{view['id']}").json()
    assert (final["status"], final["completed_at"]) == ("cancelled", None)
    deliveries = api.get("/_sandbox/webhooks/deliveries").json()["items"]
    assert len(deliveries) == 2
    assert "autopilot worker:" not in server.log()  # no error on the way
    assert "Traceback" not in server.log()
