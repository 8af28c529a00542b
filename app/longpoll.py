"""`?wait=` long-polling for the listing calls tests wait on (deliveries, inbox, journal).

The loop asks the database, not process memory, so a row written by another server
process on the same database ends the wait too (SPEC §6).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

MAX_WAIT_SECONDS = 30.0
POLL_INTERVAL = 0.1


async def wait_for_items(
    fetch: Callable[[], Sequence[T]],
    *,
    wait: float,
    is_disconnected: Callable[[], Awaitable[bool]] | None = None,
    interval: float = POLL_INTERVAL,
) -> Sequence[T]:
    """Call `fetch` (in a thread) until it returns something or `wait` seconds have passed."""
    deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT_SECONDS)
    while True:
        items = await asyncio.to_thread(fetch)
        remaining = deadline - time.monotonic()
        if items or remaining <= 0:
            return items
        if is_disconnected is not None and await is_disconnected():
            return items  # nobody is listening any more
        await asyncio.sleep(min(interval, remaining))
