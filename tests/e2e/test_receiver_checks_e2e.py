"""The receiver check through the API of a real server, against real receivers: the five
receivers of issue 22 graded exactly, defaults, the check's draft, isolation, 409s, and a
check cut off by a restart."""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx
import pytest

from app.receiver_checks.service import RESTARTED
from tests.e2e.server import MakeServer, SandboxServer
from tests.helpers import KEY_A, KEY_B, auth
from tests.receiver_checks.receivers import BEHAVIOURS, EXPECTED_FAILURES, SECRET, serving

pytestmark = pytest.mark.e2e

CHECKS = "/_sandbox/receiver-checks"


def _finished(base_url: str, check_id: str, key: str = KEY_A) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = httpx.get(
            f"{base_url}{CHECKS}/{check_id}", params={"wait": 30}, headers=auth(key), timeout=40
        )
        assert answer.status_code == 200, answer.text
        check: dict[str, Any] = answer.json()
        if check["status"] != "running":
            return check
    raise AssertionError("the check did not finish")


def _start(base_url: str, key: str = KEY_A, **body: Any) -> httpx.Response:
    return httpx.post(f"{base_url}{CHECKS}", json=body, headers=auth(key), timeout=10)


@pytest.mark.parametrize("receiver", sorted(BEHAVIOURS))
def test_create_receiver_check_grades_each_receiver(
    module_sandbox: SandboxServer, receiver: str
) -> None:
    with serving(BEHAVIOURS[receiver]) as url:
        answer = _start(module_sandbox.base_url, url=url, secret=SECRET)
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "running"
        check = _finished(module_sandbox.base_url, answer.json()["id"])
    failures, warnings = EXPECTED_FAILURES[receiver]
    verdicts = {case["name"]: case["verdict"] for case in check["cases"]}
    assert len(check["cases"]) == 12
    assert {name for name, v in verdicts.items() if v == "fail"} == failures
    assert {name for name, v in verdicts.items() if v == "warn"} == warnings
    assert check["status"] == ("failed" if failures else "passed")


def test_create_receiver_check_defaults_to_the_webhook(module_sandbox: SandboxServer) -> None:
    base = module_sandbox.base_url
    with serving(BEHAVIOURS["correct"]) as url:
        registered = httpx.put(
            f"{base}/_sandbox/webhook", json={"url": url, "secret": SECRET}, headers=auth(KEY_B)
        )
        assert registered.status_code == 200
        answer = _start(base, KEY_B)
        assert answer.status_code == 201, answer.text
        check = _finished(base, answer.json()["id"], KEY_B)
    assert (check["url"], check["status"]) == (url, "passed")
    draft = httpx.get(f"{base}/api/interop/v1/drafts/{check['draft_id']}", headers=auth(KEY_B))
    assert draft.status_code == 200
    assert draft.json()["context"] == {"receiver_check": check["id"]}
    deliveries = httpx.get(f"{base}/_sandbox/webhooks/deliveries", headers=auth(KEY_B)).json()
    assert all(item["draft_id"] != check["draft_id"] for item in deliveries["items"])
    listed = httpx.get(f"{base}{CHECKS}", headers=auth(KEY_B)).json()["items"]
    assert listed[0]["id"] == check["id"]


def test_get_receiver_check_of_another_key(module_sandbox: SandboxServer) -> None:
    base = module_sandbox.base_url
    with serving(BEHAVIOURS["correct"]) as url:
        check_id = _start(base, url=url, secret=SECRET).json()["id"]
        _finished(base, check_id)
    other = httpx.get(f"{base}{CHECKS}/{check_id}", headers=auth(KEY_B))
    assert other.status_code == 404
    assert other.json()["code"] == "receiver_check_not_found"
    listed = httpx.get(f"{base}{CHECKS}", headers=auth(KEY_B)).json()["items"]
    assert check_id not in {item["id"] for item in listed}


def test_create_receiver_check_one_running_per_key(module_sandbox: SandboxServer) -> None:
    base = module_sandbox.base_url

    def slow(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        time.sleep(0.3)
        return 204, {}

    with serving(slow) as url:
        first = _start(base, url=url, secret=SECRET)
        assert first.status_code == 201
        second = _start(base, url=url, secret=SECRET)
        assert second.status_code == 409
        assert second.json()["code"] == "receiver_check_running"
        _finished(base, first.json()["id"])


def test_create_receiver_check_without_webhook(sandbox: SandboxServer) -> None:
    answer = _start(sandbox.base_url)
    assert answer.status_code == 409
    assert answer.json()["code"] == "no_webhook"
    link_local = _start(sandbox.base_url, url="http://169.254.169.254/x", secret=SECRET)
    assert link_local.status_code == 422


def test_receiver_check_cut_off_by_a_restart(make_server: MakeServer) -> None:
    server = make_server({"OMNIDOC_WEBHOOK_TIMEOUT": "30"})

    def hangs(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        time.sleep(20)
        return 204, {}

    with serving(hangs) as url:
        check_id = _start(server.base_url, url=url, secret=SECRET).json()["id"]
        server.stop(signal.SIGKILL)  # no chance to record anything
        server.start()
        check = _finished(server.base_url, check_id)
    assert check["status"] == "failed"
    assert len(check["cases"]) == 12
    assert all(RESTARTED in case["detail"] for case in check["cases"])


def test_admin_create_receiver_check(module_sandbox: SandboxServer) -> None:
    base = module_sandbox.base_url
    admin = f"{base}/_sandbox/admin/receiver-checks"
    unknown = httpx.post(admin, json={"owner_key": "nobody", "url": "http://127.0.0.1:9/x"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "owner_key"
    foreign = httpx.post(
        admin, json={"owner_key": KEY_A}, headers={"Origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    assert foreign.json()["code"] == "cross_origin_request"
    with serving(BEHAVIOURS["fails_unknown_types"]) as url:
        answer = httpx.post(admin, json={"owner_key": KEY_A, "url": url, "secret": SECRET})
        assert answer.status_code == 201, answer.text
        check_id = answer.json()["id"]
        assert answer.json()["owner_key"] == KEY_A
        _finished(base, check_id)
    listed = httpx.get(admin, params={"owner_key": KEY_A}).json()["items"]
    assert listed[0]["id"] == check_id
    unknown_type = next(case for case in listed[0]["cases"] if case["name"] == "unknown_type")
    assert unknown_type["verdict"] == "fail"
    assert unknown_type["title_fr"] == "Type d'événement inconnu"
    assert unknown_type["hint_fr"].startswith("Ignorez les types d'événements")
