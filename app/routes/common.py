"""What several routers do the same way: hand a validation report to the caller."""

from __future__ import annotations

from fastapi import Request, Response

from app import callnotes
from app.errors import ValidationFailed, warnings_header
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
