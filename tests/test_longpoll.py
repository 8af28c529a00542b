"""The `?wait=` loop shared by the listing calls."""

from __future__ import annotations

import asyncio
import time

from app.longpoll import wait_for_items


def test_wait_for_items_answers_at_once_when_there_are_items() -> None:
    started = time.monotonic()
    assert asyncio.run(wait_for_items(lambda: [1], wait=5)) == [1]
    assert time.monotonic() - started < 1


def test_wait_for_items_returns_what_arrives_during_the_wait() -> None:
    calls: list[int] = []

    def fetch() -> list[str]:
        calls.append(1)
        return ["new"] if len(calls) >= 3 else []

    assert asyncio.run(wait_for_items(fetch, wait=5, interval=0.01)) == ["new"]


def test_wait_for_items_gives_up_empty_after_the_wait() -> None:
    started = time.monotonic()
    assert asyncio.run(wait_for_items(lambda: [], wait=0.2, interval=0.05)) == []
    assert time.monotonic() - started >= 0.2


def test_wait_for_items_stops_when_the_client_leaves() -> None:
    async def gone() -> bool:
        return True

    started = time.monotonic()
    assert asyncio.run(wait_for_items(lambda: [], wait=10, is_disconnected=gone)) == []
    assert time.monotonic() - started < 1
