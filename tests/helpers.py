"""What many tests share: the default fixtures' keys and practitioners, auth, assertions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from fastapi.testclient import TestClient

KEY_A = "sandbox-key-a"
KEY_B = "sandbox-key-b"
AUTHOR = "10002170750"  # in the default fixtures
RECIPIENT = "10001234565"
# The practitioners the default fixtures must hold (all pass the RPPS check digit).
SPEC_PRACTITIONERS = (
    "10002170750",
    "10001234565",
    "10002345675",
    "10003456786",
    "10004567896",
    "10005678908",
)
# The scenario practitioners of the default fixtures: completes after 3 s, cancels after 3 s.
SCENARIO_PRACTITIONERS = ("10006789019", "10007890121")


def auth(key: str = KEY_A) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def wait_ready(client: TestClient, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError("sandbox did not become ready")
        time.sleep(0.02)


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """A problem+json answer with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def create_draft(
    client: TestClient, body: Mapping[str, object] | None = None, key: str = KEY_A
) -> str:
    response = client.post("/api/interop/v1/drafts", json=body or {}, headers=auth(key))
    assert response.status_code == 200, response.text
    draft_id: str = response.json()["id"]
    return draft_id


async def cancel_as_woken(worker: Any) -> bool:
    """Run a worker until it idles on its wake-up event, then wake and cancel it at once;
    True when the cancel won. asyncio.wait_for (3.11) returned such a wake-up and dropped
    the cancel: the worker ran on and the server's shutdown hung."""
    running = asyncio.create_task(worker.run())
    deadline = asyncio.get_running_loop().time() + 10
    while not getattr(worker._wake, "_waiters", None):  # idle, waiting to be woken
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    worker._wake.set()
    await asyncio.sleep(0)  # the wake-up is in, its waiter not yet resumed
    running.cancel()
    await asyncio.wait({running}, timeout=10)
    return running.cancelled()
