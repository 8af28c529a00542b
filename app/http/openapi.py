"""What a route declares for the OpenAPI document: its tag, its problem responses on
`application/problem+json` (only the codes it answers), declared headers and links, binary
bodies, the create and upload bodies with their examples. app/http/openapi_document.py
builds the document from the routes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.errors import ApiError, InjectedFault, NotReady, Unauthorized
from app.http.problems import PROBLEM_JSON

OMNIDOC = "Omnidoc interop API"
SANDBOX = "Sandbox-defined"
WARNINGS_HEADER = "Omnidoc-Sandbox-Warnings"
SCHEMA_REF = "#/components/schemas/{model}"

# `openapi_extra` of an operation that needs no credentials: said, not left to guess
# (an operation without `security` could have been forgotten; `redocly lint` flags it).
PUBLIC: dict[str, Any] = {"security": []}

_HEADERS: dict[str, dict[str, Any]] = {
    "WWW-Authenticate": {
        "description": "`Bearer`: the scheme to authenticate with.",
        "schema": {"type": "string", "example": "Bearer"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0, "example": 1},
    },
    WARNINGS_HEADER: {
        "description": 'Warnings as an ASCII JSON list of `{"field", "code"}` (at most 4 KiB, '
        'cut with a last `{"code": "truncated"}`); the request journal has their messages.',
        "schema": {"type": "string", "example": '[{"field":"recipient_rpps","code":"rpps_luhn"}]'},
    },
}


def _problem(classes: list[type[ApiError]], headers: Iterable[str] = ()) -> dict[str, Any]:
    codes = "; ".join(f"`{cls.code}`: {cls.title}" for cls in classes)
    response: dict[str, Any] = {
        "description": codes,
        "content": {PROBLEM_JSON: {"schema": {"$ref": SCHEMA_REF.format(model="Problem")}}},
    }
    names = [*headers]
    if any(issubclass(cls, Unauthorized) for cls in classes):
        names.append("WWW-Authenticate")
    if any(issubclass(cls, NotReady) for cls in classes):
        names.append("Retry-After")
    if names:
        response["headers"] = {name: _HEADERS[name] for name in names}
    return response


def problems(
    *errors: type[ApiError], faults: bool = False, ready: bool = True, warned: bool = False
) -> dict[int | str, dict[str, Any]]:
    """The `responses` of an operation: one problem response per status it can answer.

    `faults`: an interop operation, which a fault rule can make answer any 400-599;
    `ready`: 503 `not_ready` while the database is starting; `warned`: a 422 that
    also carries the warnings header.
    """
    by_status: dict[int, list[type[ApiError]]] = {}
    classes: tuple[type[ApiError], ...] = (*errors, NotReady) if ready else errors
    for cls in classes:
        by_status.setdefault(cls.status, []).append(cls)
    responses: dict[int | str, dict[str, Any]] = {
        status: _problem(group, [WARNINGS_HEADER] if warned and status == 422 else [])
        for status, group in sorted(by_status.items())
    }
    if faults:
        responses["default"] = _problem([InjectedFault], ["Retry-After"])
        responses["default"]["description"] = (
            "`injected_fault`: a fault rule of your key (POST /_sandbox/faults) answered "
            "with the status it names, 400-599 (`Retry-After` on 429 and 503)."
        )
    return responses


def success(
    description: str, *, warned: bool = False, links: dict[str, dict[str, str]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A 200: `warned`, it may carry the warnings header; `links`, operation id → parameters
    taken from this answer (OpenAPI links, which tools follow from one call to the next)."""
    response: dict[str, Any] = {"description": description}
    if warned:
        response["headers"] = {WARNINGS_HEADER: _HEADERS[WARNINGS_HEADER]}
    if links:
        response["links"] = {
            target: {"operationId": target, "parameters": parameters}
            for target, parameters in links.items()
        }
    return {200: response}


# What a created draft's id leads to.
DRAFT_LINKS = {
    target: {"draft_id": "$response.body#/id"}
    for target in (
        "getDraft",
        "attachFiles",
        "visitDraft",
        "publishDraft",
        "completeDraft",
        "cancelDraft",
        "getReport",
    )
}


def binary(*media_types: str, description: str) -> dict[int | str, dict[str, Any]]:
    """A 200 whose body is bytes (a generated client gets them as a file)."""
    schema = {"type": "string", "format": "binary"}
    return {
        200: {"description": description, "content": {m: {"schema": schema} for m in media_types}}
    }


# The document's own create example, with a practitioner of the default fixtures, so
# "Try it out" succeeds as is; then every field of the document, valid.
CREATE_EXAMPLES: dict[str, Any] = {
    "document": {
        "summary": "The Omnidoc document's example (with a fixture RPPS)",
        "value": {
            "author_rpps": "10002170750",
            "patient": {"first_name": "Jeanne", "last_name": "Dupuis"},
            "context": {"id": "1234"},
        },
    },
    "every_field": {
        "summary": "Every field of the document, valid",
        "value": {
            "author_rpps": "10002170750",
            "recipient_rpps": "10001234565",
            "patient": {
                "first_name": "Pierre",
                "last_name": "Dupont",
                "birth_name": "Pasteur",
                "birth_place": "59158",
                "nir": "194095915812390",
                "nir_cert": "194095915812390",
                "gender": "M",
                "birth_date": "1994-09-10",
                "birth_order": 1,
                "regime": "01",
                "centre": "1111",
                "caisse": "111",
                "gestion": "10",
                "address": "APPARTEMENT 1 BATIMENT GRAVIER\nRESIDENCE DES DUCHMOLLES\n"
                "72546 REFERINUM SUR SARTHE",
                "phone": "0666666666",
                "email": "louis.dupont@example.com",
            },
            "text": "Le patient présente des signes de …",
            "context": {"id": "1234"},
        },
    },
}

CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {"$ref": SCHEMA_REF.format(model="DraftCreate")},
                "examples": CREATE_EXAMPLES,
            }
        },
    }
}

ATTACH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string", "format": "binary", "minLength": 1},
                            "description": "One or more files (not empty), each part with a "
                            "filename; at most OMNIDOC_MAX_FILES_PER_DRAFT per draft.",
                        }
                    },
                }
            }
        },
    }
}
