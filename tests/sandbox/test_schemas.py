"""The control plane's bodies: the helpers' publish and complete bodies, fault rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.sandbox.schemas import CompleteBody, FaultBody, FaultMethod, PublishBody
from tests.helpers import AUTHOR, RECIPIENT


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"report_text": "nul\x00"}, "invalid_character"),
        ({"report_text": "\ud800"}, "invalid_character"),
        ({"report_text": "x" * 20_001}, "too_long"),
        ({"report_text": 42}, "string_type"),
        ({"text": "?"}, "extra_forbidden"),
    ],
)
def test_complete_body_refuses(body: object, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CompleteBody.model_validate(body)
    assert [error["type"] for error in caught.value.errors()] == [code]


def test_publish_body_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        PublishBody.model_validate({"author_rpps": AUTHOR, "recipient": RECIPIENT})


def test_fault_body_defaults_to_one_use_on_any_interop_call() -> None:
    body = FaultBody(status=503)
    assert (body.method, body.path, body.delay_ms, body.times) == (
        FaultMethod.ANY,
        "/api/interop/v1/*",
        0,
        1,
    )


def test_fault_body_takes_a_json_integer_written_as_a_float() -> None:
    body = FaultBody.model_validate({"status": 503.0, "times": 3.0})
    assert (body.status, body.times) == (503, 3)


@pytest.mark.parametrize("value", ["503", True, 503.5])
def test_fault_body_refuses_a_status_that_is_no_integer(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        FaultBody.model_validate({"status": value})
    assert [e["loc"] for e in caught.value.errors()] == [("status",)]


def test_fault_body_without_status_or_delay_has_no_effect() -> None:
    with pytest.raises(ValidationError) as caught:
        FaultBody.model_validate({"times": 2})
    assert [e["type"] for e in caught.value.errors()] == ["no_effect"]


def test_fault_body_delay_alone_is_enough() -> None:
    assert FaultBody(delay_ms=100).status is None
