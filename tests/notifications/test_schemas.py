"""The webhook registration body: an http(s) URL, an optional secret, nothing else."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.notifications.schemas import WebhookBody


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": "ftp://x.test/h"}, "url"),
        ({"url": "/relative"}, "url"),
        ({"url": "http://x.test:99999/"}, "url"),
        ({"url": 7}, "url"),
        ({"url": "http://x.test/h", "secret": "nope"}, "secret"),
        ({"url": "http://x.test/h", "secret": "whsec_A"}, "secret"),
        ({"url": "http://x.test/h", "extra": 1}, "extra"),
        ({"url": "http:// x.test/"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": "http://[::::]/h"}, "url"),
        ({"url": "http://[fe80::1]/h"}, "url"),
        ({"url": "http://x.test/h", "rotate_secret": "yes"}, "rotate_secret"),
    ],
)
def test_webhook_body_rejects_bad_input(body: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WebhookBody.model_validate(body)
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/hook", "https://x.test", "http://[::1]:8080/h?a=b#c", "http://h:65535"],
)
def test_webhook_body_accepts_urls(url: str) -> None:
    assert WebhookBody(url=url).url == url
