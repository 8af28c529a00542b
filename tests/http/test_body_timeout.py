"""BodyTimeoutMiddleware on its own: which waits for `receive` it times, which it leaves."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from app.errors import BodyTimeout
from app.http.body_timeout import BodyTimeoutMiddleware

TIMEOUT = 0.05


def _scope() -> dict[str, Any]:
    runtime = SimpleNamespace(settings=SimpleNamespace(body_timeout=TIMEOUT))
    return {"type": "http", "app": SimpleNamespace(state=SimpleNamespace(runtime=runtime))}


def _client(messages: list[dict[str, Any]], then_wait: float) -> Any:
    """A `receive` that hands out `messages` at once, then waits `then_wait` s for a disconnect."""
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(then_wait)
        return {"type": "http.disconnect"}

    return receive


async def _run(messages: list[dict[str, Any]], then_wait: float, reads: int) -> list[str]:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        for _ in range(reads):
            seen.append((await receive())["type"])

    async def send(message: Any) -> None:
        pass

    await BodyTimeoutMiddleware(app)(_scope(), _client(messages, then_wait), send)
    return seen


def test_body_timeout_on_a_stalled_body() -> None:
    first = {"type": "http.request", "body": b"{", "more_body": True}
    with pytest.raises(BodyTimeout) as raised:
        asyncio.run(_run([first], then_wait=10 * TIMEOUT, reads=2))
    assert raised.value.status == 408
    assert raised.value.headers == {"Connection": "close"}


def test_body_timeout_leaves_a_complete_body_alone() -> None:
    whole = {"type": "http.request", "body": b"{}", "more_body": False}
    # After the body, a wait for the disconnect may take longer than the timeout.
    seen = asyncio.run(_run([whole], then_wait=4 * TIMEOUT, reads=2))
    assert seen == ["http.request", "http.disconnect"]
