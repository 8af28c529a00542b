"""The HTTP protocol `serve` runs: uvicorn's httptools protocol with three guards (SPEC §7).

uvicorn waits for a request head as long as a client likes and counts every open socket
against `--limit-concurrency`, so sockets that send nothing (or trickle header bytes)
could hold every slot and a fresh `GET /healthz` would get 503. This subclass, passed to
uvicorn as its `http` protocol class (a public extension point), adds:

- a head timeout: a connection whose request head is not complete `head_timeout`
  seconds (10 by default) after it opened, or after the first byte of a later request
  on a kept-alive connection, is closed (idle kept-alive connections are closed by
  uvicorn's own `timeout_keep_alive`);
- a per-address share: one client address may hold at most PER_ADDRESS_SHARE of the
  `OMNIDOC_MAX_CONNECTIONS` slots; a connection beyond it is closed as it opens, so the
  other addresses always find a slot;
- shutdown: uvicorn calls `shutdown()` on every open connection at SIGTERM; the first
  call ends every held `?wait=` request at once (app.longpoll.end_all_waits), so the
  process exits within 2 s instead of waiting out the long-polls (SPEC §6).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app import longpoll
from app.config import get_settings

logger = logging.getLogger("omnidoc_sandbox.connections")

# The part of the connection slots one client address may hold; the rest stays for others.
PER_ADDRESS_SHARE = 0.8
_WARN_EVERY_SECONDS = 10.0


def per_address_limit(max_connections: int) -> int:
    """Connections one address may hold: PER_ADDRESS_SHARE of the slots, at least 1, and
    always at least one slot fewer than all of them."""
    return max(1, min(int(max_connections * PER_ADDRESS_SHARE), max_connections - 1))


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head timeout, a per-address share and the
    long-polls ended at shutdown (module docstring)."""

    _last_warning = 0.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.head_timeout = get_settings().head_timeout  # SPEC §7: 10 s
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self._over_address_share():
            transport.close()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:  # a later request on a kept-alive connection
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()

    def shutdown(self) -> None:
        longpoll.end_all_waits()
        super().shutdown()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _over_address_share(self) -> bool:
        if self.limit_concurrency is None or self.client is None:
            return False
        address = self.client[0]
        held = 0
        for connection in self.connections:
            client = getattr(connection, "client", None)
            if isinstance(client, tuple) and client[0] == address:
                held += 1
        if held <= per_address_limit(self.limit_concurrency):
            return False
        now = time.monotonic()
        if now - GuardedHttpProtocol._last_warning > _WARN_EVERY_SECONDS:
            GuardedHttpProtocol._last_warning = now
            logger.warning(
                "one client address holds %d connections (at most %d of the %d of "
                "OMNIDOC_MAX_CONNECTIONS): closing its newest",
                held - 1,
                per_address_limit(self.limit_concurrency),
                self.limit_concurrency,
            )
        return True
