"""Where the sandbox may send requests a key asks for: never to a link-local address.

Link-local ranges (169.254.0.0/16, fe80::/10) hold cloud metadata services; a URL that
names one literally is refused. A minimal version, kept in step with the defects issue.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from app.errors import FieldIssue, ValidationFailed


def check_target_url(url: str, *, field: str = "url") -> None:
    """Refuse a URL whose host is a link-local IP literal (ValidationFailed, 422)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return  # the URL pattern of the body refuses it; nothing to add here
    if not host:
        return
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return  # a name, not an IP literal
    if address.is_link_local:
        message = f"{field} must not point to a link-local address ({address})."
        raise ValidationFailed(message, errors=[FieldIssue(field, "link_local_target", message)])
