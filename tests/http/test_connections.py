"""The connection guards' arithmetic; the guards themselves (head timeout, per-address
share, shutdown) run against a real server in tests/e2e/test_connections_e2e.py."""

from __future__ import annotations

from app.http.connections import PER_ADDRESS_SHARE, per_address_limit


def test_one_address_may_hold_most_slots_but_never_all() -> None:
    assert per_address_limit(500) == 400
    assert per_address_limit(20) == 16
    assert per_address_limit(2) == 1
    assert per_address_limit(1) == 1


def test_per_address_share_leaves_slots_to_others() -> None:
    assert 0 < PER_ADDRESS_SHARE < 1
    for slots in range(2, 100):
        assert 1 <= per_address_limit(slots) < slots
