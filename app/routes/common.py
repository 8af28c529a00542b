"""What several routers do the same way: hand a validation report to the caller, its
warnings in the `Omnidoc-Sandbox-Warnings` header (README, "Validation")."""

from __future__ import annotations

import json
from collections.abc import Iterable

from fastapi import Request, Response

from app import callnotes
from app.errors import FieldIssue, ValidationFailed
from app.openapi import WARNINGS_HEADER
from app.validation import ValidationReport


def apply_report(request: Request, response: Response, report: ValidationReport) -> None:
    """Warnings go to the header and, with their messages, to the journal; errors are a 422
    that carries the warnings header too (README, "Validation")."""
    callnotes.of(request.scope).warnings = list(report.warnings)
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
    """ASCII JSON list of {field, code}, cut to `limit` bytes with a final truncated marker."""
    items = [{"field": w.field, "code": w.code} for w in warnings]
    value = json_dumps_ascii(items)
    if len(value) <= limit:
        return value
    marker = json_dumps_ascii({"code": "truncated"})
    kept: list[str] = []
    size = 2 + len(marker)  # the brackets and the marker
    for item in items:
        encoded = json_dumps_ascii(item)
        if size + len(encoded) + 1 > limit:
            break
        kept.append(encoded)
        size += len(encoded) + 1
    return "[" + ",".join([*kept, marker]) + "]"
