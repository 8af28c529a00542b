"""The webhook delivery worker: one per process, started by the lifespan.

It loads, signs, sends and records (README, "Receive notifications"). The outbox wakes it
after a commit of this process that made an event due; it polls the database for
everything else (other processes' events, retries falling due, attempts due while the
server was down). The database steps, including the atomic claim, live in app.notifications.outbox.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from app.config import Settings
from app.fixtures import Fixtures
from app.models import utcnow
from app.notifications import outbox
from app.notifications.outbox import Claimed, Outcome
from app.notifications.webhooks import signed_headers
from app.workers import PollingWorker, in_thread

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("omnidoc_sandbox.webhooks")

# What the vendor sees in the failed attempt: the event is kept and retried on the schedule.
NO_ENDPOINT = (
    "no webhook URL registered for this key: PUT /_sandbox/webhook, then POST "
    "/_sandbox/webhooks/deliveries/{id}/redeliver with this delivery's id to send it now "
    "(else it waits for its next retry, if any: OMNIDOC_WEBHOOK_RETRY_SCHEDULE)"
)
RESPONSE_BODY_MAX = 1024
# Attempts in flight at once: in all, and to one key's receiver.
MAX_IN_FLIGHT = 32
PER_RECEIVER = 4
# How often the leases of attempts in flight are renewed (app.outbox.LEASE is longer).
HEARTBEAT_SECONDS = 1.0
# At shutdown, how long attempts in flight may finish: one cut off is sent again after
# the restart, a duplicate for a receiver that had answered.
SHUTDOWN_GRACE_SECONDS = 2.0


class DeliveryWorker(PollingWorker):
    """One per process; `run()` loops until cancelled, `run_once()` is what tests drive.

    Attempts run side by side, each as its own task: at most `max_in_flight` in all and
    `per_receiver` per key (its webhook URL), so one key's slow or hanging receiver takes
    a few slots and never holds back another key's notifications. The loop claims due
    heads as slots free up; it never waits for a batch of attempts to finish.
    """

    name = "webhook worker"
    logger = logger

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        fixtures: Fixtures,
        client: httpx.AsyncClient | None = None,
        poll_interval: float = 0.5,
        max_in_flight: int = MAX_IN_FLIGHT,
        per_receiver: int = PER_RECEIVER,
    ) -> None:
        super().__init__(poll_interval=poll_interval)
        self.engine = engine
        self.settings = settings
        self.fixtures = fixtures
        self.client = client
        self.max_in_flight = max_in_flight
        self.per_receiver = per_receiver
        # Attempts in flight by claim token (a redelivery may claim an event again while
        # its first attempt still runs): their tasks, their claims (renewed by the
        # heartbeat), and how many each key's receiver has.
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._claims: dict[str, Claimed] = {}
        self._per_key: Counter[str] = Counter()

    async def run(self) -> None:
        """Deliver until cancelled: at once after a wake, else when the next attempt is due."""
        self._loop = asyncio.get_running_loop()
        unsubscribe = outbox.NEW_WORK.subscribe(self.engine, self.wake)
        # Its own thread: renewals never queue behind the shared pool's work (journal
        # writes, long polls), which could otherwise let a live lease run out.
        renewer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook-lease")
        heartbeat = asyncio.create_task(self._heartbeat(renewer))
        try:
            await self._loop_forever()
        finally:
            heartbeat.cancel()
            unsubscribe()
            try:
                await self._stop_attempts()
            finally:  # even if cancelled again meanwhile
                renewer.shutdown(wait=True)

    async def _step(self) -> float | None:
        """Fill the free slots; None when more may be due, else how long to sleep. A
        finished attempt wakes us too: its slot is free, its draft's next event due."""
        if await self.fill():
            return None
        if len(self._tasks) >= self.max_in_flight:
            return self.poll_interval
        return await in_thread(
            partial(
                outbox.seconds_until_due,
                self.engine,
                cap=self.poll_interval,
                busy_keys=self._busy_keys(),
            )
        )

    async def run_once(self) -> int:
        """Attempt every head event due now once, within the limits, and wait for them;
        the count attempted (an event that falls due meanwhile waits for the next round)."""
        cutoff = utcnow()
        total = 0
        while started := await self.fill(due_by=cutoff):
            total += started
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        return total

    def _busy_keys(self) -> set[str]:
        return {key for key, count in self._per_key.items() if count >= self.per_receiver}

    async def fill(self, *, due_by: datetime | None = None) -> int:
        """Claim due heads into the free slots and start their attempts; how many started."""
        started = 0
        while (free := self.max_in_flight - len(self._tasks)) > 0:
            heads = await in_thread(
                partial(
                    outbox.due_heads,
                    self.engine,
                    limit=free,
                    busy_keys=self._busy_keys(),
                    due_by=due_by,
                )
            )
            progress = 0
            for head in heads:
                if len(self._tasks) >= self.max_in_flight:
                    break
                if self._per_key[head.owner_key] >= self.per_receiver:
                    continue  # this key's receiver has its share; the next query skips it
                claimed = await in_thread(
                    partial(outbox.claim, self.engine, head.seq, fixtures=self.fixtures),
                    on_cancel=self._release,
                )
                if claimed is not None:  # else another process (or loop) got it first
                    self._start(claimed, head.owner_key)
                    progress += 1
            started += progress
            if not progress:
                break
        return started

    def _start(self, claimed: Claimed, owner_key: str) -> None:
        task = asyncio.create_task(self._attempt(claimed))
        self._tasks[claimed.token] = task
        self._claims[claimed.token] = claimed
        self._per_key[owner_key] += 1

        def done(_: asyncio.Task[None]) -> None:
            self._tasks.pop(claimed.token, None)
            self._claims.pop(claimed.token, None)
            self._per_key[owner_key] -= 1
            if self._per_key[owner_key] <= 0:
                del self._per_key[owner_key]
            self._wake.set()

        task.add_done_callback(done)

    async def _heartbeat(self, renewer: ThreadPoolExecutor) -> None:
        """Renew the leases of the attempts in flight, so no other worker takes them over."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            tokens = list(self._claims)
            if not tokens:
                continue
            try:
                await loop.run_in_executor(renewer, partial(outbox.renew, self.engine, tokens))
            except Exception as exc:
                logger.warning("webhook lease renewal: %s; retrying", type(exc).__name__)

    async def _stop_attempts(self) -> None:
        """Shutdown: let the attempts in flight finish for a moment, then cancel the rest;
        each of those gives its claim back (due again at the next start)."""
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def attempt_now(self, claimed: Claimed) -> None:
        """Make one attempt this caller claimed and wait for it to be recorded, renewing
        its lease meanwhile (the clock's advance: app.sandbox.clock)."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                with suppress(Exception):
                    await in_thread(partial(outbox.renew, self.engine, [claimed.token]))

        heartbeat = asyncio.create_task(renew())
        try:
            await self._attempt(claimed)
        finally:
            heartbeat.cancel()
            with suppress(asyncio.CancelledError):
                await heartbeat

    def _release(self, claimed: Claimed) -> None:
        with suppress(Exception):
            outbox.release(self.engine, claimed)

    async def _attempt(self, claimed: Claimed) -> None:
        try:
            outcome = await self._send(claimed)
        except asyncio.CancelledError:
            self._release(claimed)  # shutting down mid-attempt: due again at next start
            raise
        delays = self.settings.retry_delays
        try:
            status = await in_thread(
                lambda: outbox.record(self.engine, claimed, outcome, delays=delays)
            )
        except Exception as exc:  # unrecorded: the lease runs out and it is attempted again
            logger.warning("webhook record failed (%s)", type(exc).__name__)
            return
        logger.info(
            "webhook attempt delivery=%s webhook_id=%s draft=%s attempt=%d status=%s "
            "duration_ms=%.1f outcome=%s",
            claimed.id,
            claimed.webhook_id,
            claimed.draft_id,
            claimed.attempt_number,
            outcome.status_code if outcome.status_code is not None else "-",
            outcome.duration_ms,
            status,
        )

    async def _send(self, claimed: Claimed) -> Outcome:
        at = utcnow()
        if claimed.endpoint is None:
            return Outcome(at, "", None, 0.0, NO_ENDPOINT, None)
        import httpx  # imported by the client already; here for its exception classes

        from app.notifications.transport import LinkLocalRefused

        url = claimed.endpoint.url
        started = time.perf_counter()
        status_code: int | None = None
        body: str | None = None
        error: str | None = None
        try:
            headers = signed_headers(
                secret=claimed.endpoint.secret,
                webhook_id=claimed.webhook_id,
                payload=claimed.payload,
                at=at,
            )
            async with asyncio.timeout(self.settings.webhook_timeout):
                status_code, body = await self._post(url, claimed.payload, headers)
            if not 200 <= status_code < 300:
                error = f"non-2xx response ({status_code})"
        except LinkLocalRefused as exc:
            error = f"refused: {exc}"
        except (TimeoutError, httpx.TimeoutException):
            error = f"timeout after {self.settings.webhook_timeout:g}s"
        except httpx.HTTPError as exc:
            error = f"connection error ({type(exc).__name__})"
        except Exception as exc:  # a bad secret or URL must not kill the worker
            error = f"cannot send ({type(exc).__name__})"
        duration = (time.perf_counter() - started) * 1000
        return Outcome(at, url, status_code, duration, error, body)

    async def aclose(self) -> None:
        """Close the outbound client, if a delivery ever opened it."""
        if self.client is not None:
            await self.client.aclose()

    async def _post(self, url: str, payload: str, headers: dict[str, str]) -> tuple[int, str]:
        if self.client is None:  # created on first use: most runs send no webhook at all
            from app.notifications.transport import new_client  # with httpx: ~20 MB

            self.client = new_client(self.settings)
        kept = bytearray()
        async with self.client.stream(
            "POST", url, content=payload.encode(), headers=headers
        ) as response:
            async for chunk in response.aiter_bytes():
                kept += chunk[: RESPONSE_BODY_MAX - len(kept)]
                if len(kept) >= RESPONSE_BODY_MAX:
                    break
        text = kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        return response.status_code, text


async def run_worker(engine: Engine, *, settings: Settings, fixtures: Fixtures) -> None:
    """Build the worker and its client for the lifespan; runs until cancelled."""
    # httpx logs every request URL at INFO; our own line (ids, status, timing) is enough.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    worker = DeliveryWorker(engine=engine, settings=settings, fixtures=fixtures)
    try:
        await worker.run()
    finally:
        await worker.aclose()
