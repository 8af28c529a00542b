"""What several routers do the same way: hand a validation report to the caller, its
warnings in the `Omnidoc-Sandbox-Warnings` header (README, "Validation")."""

from __future__ import annotations

import json
from collections.abc import Iterable

from fastapi import Request, Response

from app import callnotes
from app.drafts.validation import ValidationReport
from app.errors import FieldIssue, ValidationFailed
from app.http.openapi import WARNINGS_HEADER


def apply_report(request: Request, response: Response, report: ValidationReport) -> None:
    """Warnings go to the header and, with their messages, to the journal; errors are a 422
    that carries the warnings header too (README, "Validation")."""
    notes = callnotes.of(request.scope)
    notes.warnings = list(report.warnings)
    notes.hints.update(report.hints)
    headers = {WARNINGS_HEADER: warnings_header(report.warnings)} if report.warnings else {}
    if report.errors:
        raise ValidationFailed(
            f"{len(report.errors)} field(s) break the rules; see `errors`.",
            errors=report.errors,
            headers=headers,
        )
    response.headers.update(headers)


def json_dumps_ascii(value: object) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def warnings_header(warnings: Iterable[FieldIssue], limit: int = 4096) -> str:
    """ASCII JSON list of {field, code}, cut to `limit` bytes with a final truncated marker.

    Built item by item and stopped at the limit: a body of 100,000 unknown fields costs
    the same header as one of 100.
    """
    marker = json_dumps_ascii({"code": "truncated"})
    kept: list[str] = []
    size = 2  # the brackets
    for warning in warnings:
        encoded = json_dumps_ascii({"field": warning.field, "code": warning.code})
        if size + len(encoded) + len(kept) > limit:  # len(kept): the commas so far
            break
        kept.append(encoded)
        size += len(encoded)
    else:
        return "[" + ",".join(kept) + "]"
    # Cut: drop items until the marker fits too.
    while kept and size + len(marker) + len(kept) > limit:
        size -= len(kept.pop())
    return "[" + ",".join([*kept, marker]) + "]"
