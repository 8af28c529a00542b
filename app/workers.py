"""What the background workers (webhook deliveries, scenario answers) share: a database
step in a thread that shutdown cannot cut short, and the wake-or-poll loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any, ClassVar, TypeVar

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


class PollingWorker:
    """A worker of this process, woken by the commits that give it work and polling for
    the rest (other processes' work, what falls due); a subclass writes `_step`."""

    name: ClassVar[str]
    logger: ClassVar[logging.Logger]

    def __init__(self, *, poll_interval: float) -> None:
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Look for work now (a commit just gave some); safe from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _step(self) -> float | None:
        """Do what is due: None when more may be due at once, else how long to sleep."""
        raise NotImplementedError

    async def _loop_forever(self) -> None:
        """Step until cancelled, sleeping between steps until woken or the delay is over. A
        failing step (a database hiccup) is logged and tried again, never stops the worker."""
        while True:
            self._wake.clear()
            try:
                delay = await self._step()
            except Exception as exc:
                self.logger.warning("%s: %s; retrying", self.name, type(exc).__name__)
                delay = self.poll_interval
            if delay is None:
                continue
            # asyncio.timeout, not wait_for: in 3.11 wait_for returns a wake-up that comes
            # with a cancel and drops the cancel, so shutdown would wait on us forever.
            with suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
