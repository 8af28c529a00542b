"""The workers' shared loop: a failing step is retried, None steps again at once, and a
wake from another thread ends the sleep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import pytest

from app.workers import PollingWorker, in_thread


class _Counting(PollingWorker):
    name = "test worker"
    logger = logging.getLogger("omnidoc_sandbox.test_workers")

    def __init__(self) -> None:
        super().__init__(poll_interval=0.01)
        self.steps = 0
        self.asleep = asyncio.Event()

    async def _step(self) -> float | None:
        self.steps += 1
        if self.steps == 1:
            raise RuntimeError("a database hiccup")
        if self.steps == 2:
            return None  # more is due: step again at once
        self.asleep.set()
        return 3600.0  # only a wake ends this sleep


def test_the_loop_survives_a_failing_step_and_wakes_from_another_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> int:
        worker = _Counting()
        worker._loop = asyncio.get_running_loop()
        task = asyncio.create_task(worker._loop_forever())
        await asyncio.wait_for(worker.asleep.wait(), 30)
        worker.asleep.clear()
        threading.Thread(target=worker.wake).start()
        await asyncio.wait_for(worker.asleep.wait(), 30)
        task.cancel()
        return worker.steps

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(scenario()) == 4
    assert "test worker: RuntimeError; retrying" in caplog.text


def test_in_thread_finishes_the_step_when_cancelled_and_gives_back_its_result() -> None:
    given_back: list[str] = []
    started, release = threading.Event(), threading.Event()

    def step() -> str:
        started.set()
        release.wait(30)
        return "claim"

    async def scenario() -> None:
        task = asyncio.create_task(in_thread(step, on_cancel=given_back.append))
        await asyncio.to_thread(started.wait, 30)
        task.cancel()
        release.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert given_back == ["claim"]
