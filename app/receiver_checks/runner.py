"""Sends a battery to a receiver with httpx and judges each case as its answers come.

As the delivery worker sends (app.delivery): redirects never followed, the timeout of
OMNIDOC_WEBHOOK_TIMEOUT, only the start of each answer read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from app.receiver_checks.battery import Answer, Battery, Delivery, judge
from app.receiver_checks.schemas import CaseResult

RESPONSE_READ_MAX = 1024  # bytes of an answer read; the rest is never waited for

OnCase = Callable[[CaseResult], Awaitable[None]]


def new_client(request_timeout: float) -> httpx.AsyncClient:
    """The check's client: explicit timeouts, redirects never followed (a 3xx fails)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(request_timeout), follow_redirects=False)


async def send(
    client: httpx.AsyncClient, url: str, delivery: Delivery, request_timeout: float
) -> Answer:
    """POST one delivery; the answer's status, time and first bytes, or why there is none."""
    started = time.perf_counter()
    kept = bytearray()
    try:
        async with asyncio.timeout(request_timeout):
            async with client.stream(
                "POST", url, content=delivery.body.encode(), headers=delivery.headers
            ) as response:
                async for chunk in response.aiter_bytes():
                    kept += chunk[: RESPONSE_READ_MAX - len(kept)]
                    if len(kept) >= RESPONSE_READ_MAX:
                        break
                status = response.status_code
    except (TimeoutError, httpx.TimeoutException):
        return Answer(None, _ms(started), error="timeout")
    except httpx.HTTPError:
        return Answer(None, _ms(started), error="connection")
    excerpt = kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return Answer(status, _ms(started), excerpt=excerpt)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def run_battery(
    battery: Battery,
    *,
    url: str,
    request_timeout: float,
    client: httpx.AsyncClient | None = None,
    on_case: OnCase | None = None,
) -> list[CaseResult]:
    """Send every case in order, each delivery after the previous answer; the verdicts."""
    own = client is None
    client = client or new_client(request_timeout)
    results = []
    try:
        for case in battery.cases:
            answers = [await send(client, url, d, request_timeout) for d in case.deliveries]
            result = judge(case, answers)
            results.append(result)
            if on_case is not None:
                await on_case(result)
    finally:
        if own:
            await client.aclose()
    return results
