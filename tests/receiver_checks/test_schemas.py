"""The receiver check's bodies: everything optional for a vendor, the key named for the
dashboard, the webhook's URL and secret rules, nothing unknown."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.receiver_checks.schemas import AdminReceiverCheckBody, ReceiverCheckBody

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _refused_fields(model: type[ReceiverCheckBody], body: object) -> list[tuple[str, ...]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return [tuple(str(part) for part in e["loc"]) for e in caught.value.errors()]


def test_receiver_check_body_may_be_empty() -> None:
    body = ReceiverCheckBody()
    assert (body.url, body.secret, body.context) == (None, None, None)


def test_receiver_check_body_takes_a_url_secret_and_context() -> None:
    body = ReceiverCheckBody.model_validate(
        {"url": "http://127.0.0.1:9000/hook", "secret": SECRET, "context": {"run": 1}}
    )
    assert (body.url, body.secret) == ("http://127.0.0.1:9000/hook", SECRET)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"url": "http://h:65536/"}, "url"),
        ({"secret": "not-a-secret"}, "secret"),
        ({"secret": "whsec_abc"}, "secret"),
        ({"uri": "http://127.0.0.1/"}, "uri"),
    ],
)
def test_receiver_check_body_refuses(body: dict[str, object], field: str) -> None:
    assert _refused_fields(ReceiverCheckBody, body) == [(field,)]


def test_admin_receiver_check_body_needs_the_owner_key() -> None:
    assert _refused_fields(AdminReceiverCheckBody, {}) == [("owner_key",)]
    assert AdminReceiverCheckBody(owner_key="k").owner_key == "k"
