"""What the background workers (webhook deliveries, scenario answers) share: a database
step in a thread that shutdown cannot cut short, and the wake-or-poll loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, TypeVar

T = TypeVar("T")


async def in_thread(
    func: Callable[..., T], *args: Any, on_cancel: Callable[[Any], None] | None = None
) -> T:
    """Run a database step in a thread; if shutdown cancels us, let it finish first.

    So no connection is still checked out when the lifespan disposes of the engine, and
    a claim taken just as we are cancelled is given back (`on_cancel`) instead of leaking.
    """
    step = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(step)
    except asyncio.CancelledError:
        with suppress(Exception):
            result = await step
            if on_cancel is not None and result is not None:
                on_cancel(result)
        raise


async def wake_or_poll(
    wake: asyncio.Event,
    step: Callable[[], Awaitable[float | None]],
    *,
    poll_interval: float,
    logger: logging.Logger,
    name: str,
) -> None:
    """Run `step` until cancelled: again at once when it returns None (more is due), else
    once `wake` is set or the seconds it returned have passed. A failing step (a database
    hiccup) is logged and tried again after `poll_interval`, never stops the worker."""
    while True:
        wake.clear()
        try:
            delay = await step()
        except Exception as exc:
            logger.warning("%s: %s; retrying", name, type(exc).__name__)
            delay = poll_interval
        if delay is None:
            continue
        # asyncio.timeout, not wait_for: in 3.11 wait_for returns a wake-up that comes
        # with a cancel and drops the cancel, so shutdown would wait on us forever.
        with suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await wake.wait()
