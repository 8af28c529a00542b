"""A validation report handed to the caller: warnings in a header, errors as a 422."""

from __future__ import annotations

import json

import pytest
from fastapi import Request, Response

from app import callnotes
from app.drafts.validation import ValidationReport
from app.drafts.validation_report import apply_report, json_dumps_ascii, warnings_header
from app.errors import FieldIssue, ValidationFailed
from app.http.openapi import WARNINGS_HEADER

WARNING = FieldIssue("patient.nri", "unknown_field", "patient.nri is not an Omnidoc field.")
ERROR = FieldIssue("patient.gender", "gender_invalid", "Must be M or F.")


def _request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": []})


def test_apply_report_puts_warnings_in_the_header_and_the_notes() -> None:
    request, response = _request(), Response()
    hints = {"patient.nri": "did you mean patient.nir?"}
    apply_report(request, response, ValidationReport(errors=(), warnings=(WARNING,), hints=hints))
    assert json.loads(response.headers[WARNINGS_HEADER]) == [
        {"field": "patient.nri", "code": "unknown_field"}
    ]
    notes = callnotes.of(request.scope)
    assert notes.warnings == [WARNING]
    assert notes.hints == hints


def test_apply_report_without_warnings_sets_no_header() -> None:
    response = Response()
    apply_report(_request(), response, ValidationReport(errors=(), warnings=()))
    assert WARNINGS_HEADER not in response.headers


def test_apply_report_with_errors_raises_422_carrying_the_warnings_header() -> None:
    request = _request()
    report = ValidationReport(errors=(ERROR,), warnings=(WARNING,))
    with pytest.raises(ValidationFailed) as raised:
        apply_report(request, Response(), report)
    assert raised.value.status == 422
    assert raised.value.errors == (ERROR,)
    assert json.loads(raised.value.headers[WARNINGS_HEADER])[0]["field"] == "patient.nri"
    assert callnotes.of(request.scope).warnings == [WARNING]  # the journal still has them


def test_json_dumps_ascii_escapes_and_is_compact() -> None:
    assert json_dumps_ascii({"a": "é", "b": [1, 2]}) == '{"a":"\\u00e9","b":[1,2]}'


def test_warnings_header_is_cut_at_4_kib() -> None:
    issues = [FieldIssue(f"patient.field_{i:04d}", "unknown_field", "m") for i in range(500)]
    header = warnings_header(issues)
    assert len(header) <= 4096
    assert header.isascii()
    decoded = json.loads(header)
    assert decoded[-1] == {"code": "truncated"}
    assert decoded[0] == {"field": "patient.field_0000", "code": "unknown_field"}
    assert len(warnings_header(issues[:3])) < 200
    assert json.loads(warnings_header(issues[:3]))[-1]["field"] == "patient.field_0002"
    assert warnings_header([FieldIssue("é", "x", "")]) == '[{"field":"\\u00e9","code":"x"}]'


@pytest.mark.parametrize("limit", range(40, 160, 7))
def test_warnings_header_keeps_as_many_as_fit(limit: int) -> None:
    issues = [FieldIssue(f"f{i}", "c", "m") for i in range(20)]  # {"field":"fN","code":"c"}
    header = warnings_header(issues, limit=limit)
    kept = json.loads(header)[:-1]
    assert len(header) <= limit
    assert kept == [{"field": f"f{i}", "code": "c"} for i in range(len(kept))]
    assert len(header) + len(',{"field":"f10","code":"c"}') > limit  # one more would not fit
