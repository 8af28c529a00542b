"""The deliveries' transport: resolves once, refuses a link-local address, connects to a
checked address."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.notifications.transport import LinkLocalRefused, no_link_local_transport
from tests.receiver import Receiver


def _post(url: str) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=no_link_local_transport(), timeout=5) as client:
            return await client.post(url, content=b"{}")

    return asyncio.run(go())


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166:9/hook",  # the resolver reads a bare number as an IPv4 address
        "http://[fe80::1]:9/hook",
    ],
)
def test_link_local_address_is_refused_before_connecting(url: str) -> None:
    with pytest.raises(LinkLocalRefused) as raised:
        _post(url)
    assert raised.value.address in ("169.254.169.254", "fe80::1")
    assert "not sent" in str(raised.value)


def test_name_resolving_to_loopback_is_sent() -> None:
    receiver = Receiver(secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").start()
    try:
        response = _post(receiver.url.replace("127.0.0.1", "localhost"))
    finally:
        receiver.stop()
    assert response.status_code in (200, 204, 400, 401)  # reached: the receiver answered
    assert len(receiver.received) == 1


def test_unknown_name_is_a_connect_error() -> None:
    with pytest.raises(httpx.ConnectError):
        _post("http://no-such-host.invalid/hook")


def test_refused_port_is_a_connect_error() -> None:
    with pytest.raises(httpx.ConnectError):
        _post("http://127.0.0.1:9/hook")
