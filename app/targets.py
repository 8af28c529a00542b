"""Where the sandbox may send a request it builds itself (a webhook, a receiver check).

Never to a link-local address (169.254.0.0/16, fe80::/10): on a cloud machine that is the
metadata service, and an attempt's `response_body` would hand its answer to whoever
registered the URL (SPEC §7). Loopback and private addresses stay allowed: a vendor's
receiver is on 127.0.0.1, in a container next door or on the office network.

Twice: at registration, on the URL as written (an IP literal; a name is not resolved
there, no DNS at registration); and at send time, on every address the name resolves
to (app.delivery's transport), since a name can point anywhere, and change.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from app.errors import FieldIssue, ValidationFailed

LINK_LOCAL_CODE = "link_local_target"
# IPv6 forms that carry an IPv4 address the kernel (or a NAT64 gateway) sends to.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_link_local(address: IPAddress) -> bool:
    """169.254.0.0/16 or fe80::/10, also written as an IPv4-mapped or NAT64 IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped.is_link_local
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF).is_link_local
    return address.is_link_local


def literal_address(host: str) -> IPAddress | None:
    """The address a host of a URL names by itself, as the system resolver reads it (also
    `2852039166` or `169.254.43518`, the old IPv4 forms); None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):  # not an IPv4 form; ValueError for a NUL
        return None


def link_local_host(url: str) -> str | None:
    """The URL's host when it is a link-local IP literal, else None (names are not resolved)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:  # an unbalanced bracket: another rule refuses the URL
        return None
    if not host:
        return None
    address = literal_address(host)
    return host if address is not None and is_link_local(address) else None


def refusal(host: str, *, field: str = "url") -> str:
    """The message of a refused target."""
    return (
        f"{field} points at a link-local address ({host}; 169.254.0.0/16, fe80::/10), where a "
        "cloud machine's metadata service answers: the sandbox never sends there. Loopback "
        "and private addresses are fine."
    )


def check_target_url(url: str, *, field: str = "url") -> None:
    """Refuse a target URL whose host is a link-local IP literal: 422 naming `field`."""
    host = link_local_host(url)
    if host is not None:
        raise ValidationFailed(
            errors=[FieldIssue(field, LINK_LOCAL_CODE, refusal(host, field=field))]
        )
