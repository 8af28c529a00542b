"""Link-local targets refused at registration, as the URL is written (SPEC §7)."""

from __future__ import annotations

import ipaddress

import pytest

from app import targets
from app.errors import ValidationFailed


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.0.1:8443/",
        "http://169.254.255.255",
        "http://[fe80::1]/",
        "http://[FE80::a:b%25eth0]:9000/h",  # a zone id
        "http://[febf::1]/",  # the end of fe80::/10
        "http://[::ffff:169.254.169.254]/",  # IPv4-mapped, dotted
        "http://[::ffff:a9fe:a9fe]/",  # IPv4-mapped, hex
        "http://[64:ff9b::169.254.169.254]/",  # NAT64
        "http://2852039166/",  # the resolver's old IPv4 forms
        "http://0xa9fea9fe/",
        "http://169.254.43518/",
        "http://user:pw@169.254.169.254:80/",
    ],
)
def test_check_target_url_refuses_link_local_literals(url: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        targets.check_target_url(url, field="webhook_url")
    [issue] = caught.value.errors
    assert (issue.field, issue.code) == ("webhook_url", "link_local_target")
    assert "link-local" in issue.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://[::1]:9000/hook",
        "http://localhost:9000/hook",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.0.10/",
        "http://[fd00::1]/",  # unique local, private
        "http://[fec0::1]/",  # just past fe80::/10
        "http://169.253.255.255/",
        "http://169.255.0.1/",
        "http://metadata.google.internal/",  # a name: not resolved at registration
        "http://vendor.test/hook",
        "http://[::1/",  # malformed: other rules refuse it
    ],
)
def test_check_target_url_accepts_the_rest(url: str) -> None:
    targets.check_target_url(url)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("169.254.1.1", True),
        ("fe80::1", True),
        ("::ffff:169.254.1.1", True),
        ("64:ff9b::a9fe:101", True),
        ("127.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("10.0.0.1", False),
        ("::1", False),
    ],
)
def test_is_link_local(address: str, expected: bool) -> None:
    assert targets.is_link_local(ipaddress.ip_address(address)) is expected
