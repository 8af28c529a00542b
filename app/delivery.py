"""The webhook delivery worker: one per process, started by the lifespan.

It loads, signs, sends and records (README, "Receive notifications"). app.outbox wakes it
after a commit of this process that made an event due; it polls the database for
everything else (other processes' events, retries falling due, attempts due while the
server was down). The database steps, including the atomic claim, live in app.outbox.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine

from app import outbox
from app.config import Settings
from app.fixtures import Fixtures
from app.models import utcnow
from app.outbox import Claimed, Outcome
from app.webhooks import signed_headers

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("omnidoc_sandbox.webhooks")
T = TypeVar("T")

# What the vendor sees in the failed attempt: the event is kept and retried on the schedule.
NO_ENDPOINT = (
    "no webhook URL registered for this key: PUT /_sandbox/webhook, then POST "
    "/_sandbox/webhooks/deliveries/{id}/redeliver with this delivery's id to send it now "
    "(else it waits for its next retry, if any: OMNIDOC_WEBHOOK_RETRY_SCHEDULE)"
)
RESPONSE_BODY_MAX = 1024


def new_client(settings: Settings, **kwargs: Any) -> httpx.AsyncClient:
    """The one outbound client: explicit timeouts, no redirects followed (3xx is a failure)."""
    import httpx  # deferred to the first delivery: httpx and its TLS setup cost ~20 MB at start

    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.webhook_timeout), follow_redirects=False, **kwargs
    )


async def _in_thread(
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


class DeliveryWorker:
    """One per process; `run()` loops until cancelled, `run_once()` is what tests drive."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        fixtures: Fixtures,
        client: httpx.AsyncClient | None = None,
        poll_interval: float = 0.5,
        batch: int = 20,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.fixtures = fixtures
        self.client = client
        self.poll_interval = poll_interval
        self.batch = batch
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Look at the outbox now (an event was just enqueued); safe from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Deliver until cancelled: at once after a wake, else when the next attempt is due."""
        self._loop = asyncio.get_running_loop()
        unsubscribe = outbox.NEW_WORK.subscribe(self.engine, self.wake)
        try:
            await self._loop_forever()
        finally:
            unsubscribe()

    async def _loop_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                if await self.run_once():
                    continue  # a delivered head may have released its draft's next event
                delay = await _in_thread(
                    lambda: outbox.seconds_until_due(self.engine, cap=self.poll_interval)
                )
            except Exception as exc:  # a database hiccup must not stop deliveries for good
                logger.warning("webhook worker: %s; retrying", type(exc).__name__)
                delay = self.poll_interval
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def run_once(self) -> int:
        """Attempt every due head event once (in parallel across drafts); the count claimed."""
        seqs = await _in_thread(lambda: outbox.due_seqs(self.engine, limit=self.batch))
        done = await asyncio.gather(*(self._process(seq) for seq in seqs))
        return sum(done)

    def _release(self, claimed: Claimed) -> None:
        with suppress(Exception):
            outbox.release(self.engine, claimed)

    async def _process(self, seq: int) -> bool:
        claimed = await _in_thread(
            lambda: outbox.claim(
                self.engine, seq, fixtures=self.fixtures, timeout=self.settings.webhook_timeout
            ),
            on_cancel=self._release,
        )
        if claimed is None:
            return False  # another process (or loop) got it first
        try:
            outcome = await self._send(claimed)
        except asyncio.CancelledError:
            self._release(claimed)  # shutting down mid-attempt: due again at next start
            raise
        delays = self.settings.retry_delays
        status = await _in_thread(
            lambda: outbox.record(self.engine, claimed, outcome, delays=delays)
        )
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
        return True

    async def _send(self, claimed: Claimed) -> Outcome:
        at = utcnow()
        if claimed.endpoint is None:
            return Outcome(at, "", None, 0.0, NO_ENDPOINT, None)
        import httpx  # imported by the client already; here for its exception classes

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
