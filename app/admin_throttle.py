"""Slows admin-token guessing: per client, LIMIT wrong tokens in a
WINDOW, then 429 `admin_too_many_failures` with Retry-After until the window ends.

The state is a bounded in-process structure (one per app, so per worker), not a table:
a wrong token then costs no database write (failures are what an attacker controls, and
each write would take the SQLite write lock from the drafts), and it stays small
whatever the number of clients (the oldest entries go beyond MAX_CLIENTS). With N
workers a client gets N times LIMIT tries per window: still a few a second at most,
against some 330 a second before. A restart forgets it, as it should a stale lockout.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

LIMIT = 10
WINDOW_SECONDS = 60.0
MAX_CLIENTS = 4096


class FailureThrottle:
    """Wrong admin tokens per client address, in fixed windows."""

    def __init__(
        self,
        *,
        limit: int = LIMIT,
        window: float = WINDOW_SECONDS,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.max_clients, self._clock = limit, window, max_clients, clock
        self._failures: OrderedDict[str, tuple[float, int]] = OrderedDict()  # window start, n
        self._lock = threading.Lock()  # admin checks run in the thread pool

    def retry_after(self, client: str) -> int | None:
        """Seconds this client must wait before its next try, None when it may try now."""
        with self._lock:
            entry = self._failures.get(client)
            if entry is None:
                return None
            elapsed = self._clock() - entry[0]
            if elapsed >= self.window:
                del self._failures[client]
                return None
            return max(1, math.ceil(self.window - elapsed)) if entry[1] >= self.limit else None

    def failed(self, client: str) -> None:
        """Count one wrong token from this client."""
        with self._lock:
            now = self._clock()
            entry = self._failures.pop(client, None)
            if entry is None or now - entry[0] >= self.window:
                entry = (now, 0)
            self._failures[client] = (entry[0], entry[1] + 1)  # newest last
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
