"""The URL method ("Méthode n°1 : URL"): parse a prefill fragment, lint it with the API's rules.

One module for the `/interop/drafts/new` page (its lint endpoint and its form) and for
`omnidoc-sandbox check-url`, so the browser and the command decode and judge alike.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote_to_bytes, urlsplit

from sqlalchemy import Engine

from app.db import write_session
from app.drafts import service as drafts
from app.drafts import state_machine
from app.drafts.validation import PATIENT_FIELDS, validate_draft
from app.errors import FieldIssue
from app.models import Draft, DraftStatus

NEW_DRAFT_PATH = "/interop/drafts/new"

# The document's 18 parameters, in its order, each with the body field it fills.
PARAMETERS: dict[str, str] = {
    **{f"patient_{name}": f"patient.{name}" for name in PATIENT_FIELDS},
    "recipient_rpps": "recipient_rpps",
    "text": "text",
}
# The document writes the address's line breaks as a literal backslash-n (README, "Pages").
BACKSLASH_N_BREAKS = frozenset({"patient_address"})
MAX_PARAMETERS = 200
_MAX_NAME_SHOWN = 100
_FIELD_TO_PARAMETER = {body_field: name for name, body_field in PARAMETERS.items()}
_HINTS = {
    "author_rpps": "the author is the signed-in practitioner, not a parameter of the URL method",
}

# What opening a prefill link leaves behind, as `check-url` says it (the page and the
# README say the same): exactly what the page removes and what no script can.
HISTORY_NOTE = (
    "history: the page removes the link's data from the address bar and from the tab's "
    "session history (Back/Forward) at once (history.replaceState). It does NOT remove it "
    "from the browser's own history database, which has already recorded the whole link "
    "(it shows in the history list and in address-bar suggestions; no script can erase "
    "it). For demos, open prefill links in a private window; with real patient data, "
    "prefer the API (POST /api/interop/v1/drafts, then its redirect_url), which keeps it "
    "out of links."
)

Verdict = Literal["ok", "warning", "error", "unknown"]


@dataclass(frozen=True)
class Parameter:
    """One `name=value` pair of a fragment, percent-decoded; `utf8` False if it was not UTF-8."""

    name: str
    value: str
    utf8: bool = True


@dataclass(frozen=True)
class ParameterReport:
    """What the lint says of one parameter: its verdict and every issue about it."""

    name: str
    value: str
    field: str | None  # the body field it fills, None when not a parameter of the method
    verdict: Verdict
    issues: tuple[FieldIssue, ...] = ()


@dataclass(frozen=True)
class LintReport:
    """The lint of a whole fragment (or form): per parameter, plus issues of the URL itself."""

    parameters: tuple[ParameterReport, ...]
    url_issues: tuple[FieldIssue, ...] = ()
    url_errors: int = 0
    values: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """Errors that would make Omnidoc refuse the prefilled draft."""
        return self.url_errors + sum(p.verdict == "error" for p in self.parameters)

    @property
    def warnings(self) -> int:
        return sum(p.verdict in ("warning", "unknown") for p in self.parameters) + (
            len(self.url_issues) - self.url_errors
        )

    @property
    def ok(self) -> bool:
        return self.errors == 0


def _decode(text: str) -> tuple[str, bool]:
    """Percent-decode as UTF-8 (a `+` stays a `+`); False when the bytes are not UTF-8."""
    raw = unquote_to_bytes(text)
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), False


def parse_fragment(fragment: str) -> list[Parameter]:
    """`a=1&b=2` (with or without the leading `#`) → decoded parameters, in order."""
    parameters = []
    for pair in fragment.removeprefix("#").split("&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name, name_ok = _decode(raw_name)
        value, value_ok = _decode(raw_value)
        if name in BACKSLASH_N_BREAKS:
            value = value.replace("\\n", "\n")
        parameters.append(Parameter(name, value, name_ok and value_ok))
    return parameters


def body_from_values(values: Mapping[str, str]) -> dict[str, Any]:
    """The API body these parameter values make; empty values are left out.

    `patient_birth_order` becomes the integer the API stores when it is one digit, so a
    draft made from a URL or a form reads back like one made through the API.
    """
    body: dict[str, Any] = {}
    for name, body_field in PARAMETERS.items():
        value = values.get(name, "")
        if value == "":
            continue
        if name == "patient_birth_order" and value in tuple("123456789"):
            body.setdefault("patient", {})["birth_order"] = int(value)
        elif body_field.startswith("patient."):
            body.setdefault("patient", {})[body_field.removeprefix("patient.")] = value
        else:
            body[body_field] = value
    return body


def values_from_draft(draft: Draft) -> dict[str, str]:
    """The form values of a stored draft (the inverse of body_from_values)."""
    patient = draft.patient or {}
    values: dict[str, str] = {}
    for name, body_field in PARAMETERS.items():
        if body_field.startswith("patient."):
            value = patient.get(body_field.removeprefix("patient."))
        else:
            value = getattr(draft, body_field)
        values[name] = "" if value is None else str(value)
    return values


def suggestion(name: str) -> str | None:
    """The parameter an unknown name most likely meant (`patient_firstname`), if any."""
    close = difflib.get_close_matches(name, list(PARAMETERS), n=1, cutoff=0.7)
    return close[0] if close else None


def _unknown_issue(name: str, *, strict: bool) -> FieldIssue:
    shown = name if len(name) <= _MAX_NAME_SHOWN else name[:_MAX_NAME_SHOWN] + "…"
    hint = _HINTS.get(name)
    if hint is None and (close := suggestion(name)):
        hint = f"did you mean {close}?"
    message = f"{shown} is not a parameter of the URL method" + (f"; {hint}" if hint else ".")
    if strict:
        message += " (an error because --strict is on)"
    return FieldIssue(shown, "unknown_parameter", message)


def lint_parameters(
    parameters: Iterable[Parameter],
    *,
    is_known_practitioner: Callable[[str], bool],
    strict: bool = False,
) -> LintReport:
    """Judge each parameter with the API's own rules (validate_draft), strings as URLs give."""
    params = list(parameters)
    url_issues: list[FieldIssue] = []
    if len(params) > MAX_PARAMETERS:
        url_issues.append(
            FieldIssue("", "too_many_parameters", f"only the first {MAX_PARAMETERS} are checked.")
        )
        params = params[:MAX_PARAMETERS]
    values: dict[str, str] = {}
    for param in params:
        if param.name in PARAMETERS and param.name not in values:
            values[param.name] = param.value
    report = validate_draft(
        body_from_values(values),
        strict=strict,
        is_known_practitioner=is_known_practitioner,
        birth_order_from_url=True,
    )
    by_parameter: dict[str, list[tuple[FieldIssue, bool]]] = {}
    for issue, is_error in [(i, True) for i in report.errors] + [
        (i, False) for i in report.warnings
    ]:
        name = _FIELD_TO_PARAMETER.get(issue.field, issue.field)
        # The rules name the API field (patient.nir); a URL's reader knows patient_nir.
        message = issue.message.replace(issue.field, name, 1) if issue.field else issue.message
        by_parameter.setdefault(name, []).append((FieldIssue(name, issue.code, message), is_error))
    seen: set[str] = set()
    reports = []
    for param in params:
        reports.append(_judge(param, seen=seen, found=by_parameter, strict=strict))
        seen.add(param.name)
    return LintReport(tuple(reports), tuple(url_issues), 0, values)


def _judge(
    param: Parameter,
    *,
    seen: set[str],
    found: dict[str, list[tuple[FieldIssue, bool]]],
    strict: bool,
) -> ParameterReport:
    name = param.name
    if name not in PARAMETERS:
        issue = _unknown_issue(name, strict=strict)
        return ParameterReport(
            issue.field, param.value, None, "error" if strict else "unknown", (issue,)
        )
    body_field = PARAMETERS[name]
    if name in seen:
        issue = FieldIssue(
            name, "repeated_parameter", f"{name} is repeated: the first value is used."
        )
        return ParameterReport(name, param.value, body_field, "warning", (issue,))
    if param.value == "":
        issue = FieldIssue(name, "empty_parameter", f"{name} is empty: it is ignored.")
        return ParameterReport(name, "", body_field, "warning", (issue,))
    issues = [issue for issue, _ in found.get(name, [])]
    has_error = any(is_error for _, is_error in found.get(name, []))
    if not param.utf8:
        message = f"{name} is not UTF-8 once percent-decoded (é is %C3%A9, not %E9)."
        issues.insert(0, FieldIssue(name, "percent_encoding", message))
        has_error = True
    verdict: Verdict = "error" if has_error else "warning" if issues else "ok"
    return ParameterReport(name, param.value, body_field, verdict, tuple(issues))


def lint_values(
    values: Mapping[str, str], *, is_known_practitioner: Callable[[str], bool]
) -> LintReport:
    """Lint form values keyed by parameter name (the page's fields are named so)."""
    params = [Parameter(name, str(value)) for name, value in values.items() if value != ""]
    return lint_parameters(params, is_known_practitioner=is_known_practitioner)


def check_url(
    url: str, *, is_known_practitioner: Callable[[str], bool], strict: bool = False
) -> LintReport:
    """Lint a whole prefill URL: its path, where its parameters are, then each of them."""
    if "://" not in url and not url.startswith(("/", "#")):
        url = "//" + url  # "app.omnidoc.fr/interop/drafts/new#…" pasted without a scheme
    parts = urlsplit(url)
    issues: list[FieldIssue] = []
    errors = 0
    if parts.path != NEW_DRAFT_PATH and not url.startswith("#"):
        shown = parts.path[:200] or "(none)"
        issues.append(
            FieldIssue("", "wrong_path", f"the path must be {NEW_DRAFT_PATH}, got {shown}.")
        )
        errors += 1
    if parts.query:
        in_query = {p.name for p in parse_fragment(parts.query)} & set(PARAMETERS)
        where = "the query string reaches the server and its logs; use the fragment (#)"
        if in_query:
            names = ", ".join(sorted(in_query))
            issues.append(FieldIssue("", "parameters_in_query", f"{names} in the query: {where}."))
            errors += 1
        else:
            issues.append(FieldIssue("", "query_string", f"a query string is present: {where}."))
    lint = lint_parameters(
        parse_fragment(parts.fragment), is_known_practitioner=is_known_practitioner, strict=strict
    )
    return LintReport(
        lint.parameters,
        (*issues, *lint.url_issues),
        errors,
        lint.values,
    )


def create_prefilled_draft(engine: Engine, *, values: Mapping[str, str], base_url: str) -> Draft:
    """Store the form's draft as `draft` (already on its page), owned by no key, no context.

    Through transition(), like every status change; an ownerless draft notifies no one.
    """
    draft = Draft.model_validate(
        drafts.new_draft_row(owner_key=None, body=body_from_values(values))
    )
    with write_session(engine) as session:
        session.add(draft)
        session.flush()
        state_machine.transition(session, draft=draft, to=DraftStatus.DRAFT, base_url=base_url)
    return draft
