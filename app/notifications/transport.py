"""The outbound transport of deliveries: never connects to a link-local address.

Registration refuses a link-local IP literal (app.targets), but a *name* may
resolve to one (a vendor's DNS, `/etc/hosts`, or a name that changes its answer after
registration: DNS rebinding). So the check runs where the socket is opened: the name is
resolved once, every address is checked, and the connection goes to one of those very
addresses, never to the name, which a second lookup could answer differently. That is a
network backend of httpcore (the layer under httpx that opens sockets); TLS still checks
the certificate against the URL's name, which httpcore passes on its own.

Imported on the first delivery only, with httpx (about 20 MB at start otherwise).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx

from app import targets
from app.config import Settings


class LinkLocalRefused(Exception):
    """The target's name resolves to a link-local address: no connection was made."""

    def __init__(self, host: str, address: str) -> None:
        self.host, self.address = host, address
        super().__init__(f"{host} resolves to the link-local address {address}: not sent")


class _NoLinkLocalBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address, then connect to a checked address (in the resolver's
    order, the next one when one refuses, as the default backend would)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:  # an unknown name: the same error as without this backend
            raise httpcore.ConnectError(str(exc)) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        for address in addresses:
            if targets.is_link_local(ipaddress.ip_address(address.partition("%")[0])):
                raise LinkLocalRefused(host, address)
        last: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                last = exc
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's signature)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def no_link_local_transport() -> httpx.AsyncHTTPTransport:
    """httpx's own transport, its connection pool opening sockets through the check.

    httpx has no public parameter for httpcore's network backend, so the pool's is wrapped
    after construction (httpx and httpcore are pinned; a test sends to a link-local
    address through this transport and fails if the wrapping stops taking effect). A
    proxy from the environment (`HTTP_PROXY`) would connect on its own: the delivery
    client does not read the environment.
    """
    transport = httpx.AsyncHTTPTransport()
    pool: Any = transport._pool
    pool._network_backend = _NoLinkLocalBackend(pool._network_backend)
    return transport


def new_client(settings: Settings, **kwargs: Any) -> httpx.AsyncClient:
    """The one outbound client: explicit timeouts, no redirects followed (3xx is a failure),
    never a link-local address, even one a name resolves to (no_link_local_transport).
    No proxy from the environment: a proxy would open the connection itself, unchecked."""
    kwargs.setdefault("transport", no_link_local_transport())
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.webhook_timeout),
        follow_redirects=False,
        trust_env=False,
        **kwargs,
    )
