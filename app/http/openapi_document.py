"""The OpenAPI document: what FastAPI cannot infer from the routes and app.schemas.

Servers, licence, tags, the description, the webhook, the shared models, and the clean-ups
of FastAPI's rendering; what each route declares (problems, headers, bodies) is in
app/http/openapi.py. docs/openapi.json is this document, kept current by a test
(`make openapi`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import FastAPI, Header
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from app.errors import FieldIssue
from app.http.openapi import OMNIDOC, PUBLIC, SANDBOX, SCHEMA_REF
from app.schemas import DraftCreate, Problem, StatusChangedEvent

TITLE = "omnidoc-sandbox"

DESCRIPTION = """\
**Unofficial** local stand-in for the Omnidoc téléexpertise interop API
(document "Interopérabilité Omnidoc v1.4").

* Operations tagged **Omnidoc interop API** follow the Omnidoc document: paths, fields,
  the `{"id", "redirect_url"}` success body, multipart field `file`.
* Operations tagged **Sandbox-defined** (downstream notifications, pull view, report,
  test helpers, admin) are this sandbox's own contract: the Omnidoc document leaves the
  downstream side to each integration. They are not Omnidoc's API.
* Every error is RFC 9457 `application/problem+json` (schema `Problem`) with a `code`;
  `type` is `/errors/<code>`, a page of the sandbox that explains it.
* Timestamps are UTC with milliseconds and a `Z`: `2026-11-26T10:00:00.000Z`.

**Notifications (sandbox-defined).** Each change of a key's draft to `in_progress`,
`completed` or `cancelled` POSTs a `StatusChangedEvent` (see *webhooks*) to the key's
webhook URL (fixtures, or `PUT /_sandbox/webhook`), signed per Standard Webhooks
(`webhook-id`, the same on every retry, `webhook-timestamp`, `webhook-signature`). First
attempt at once; a non-2xx answer, a timeout (`OMNIDOC_WEBHOOK_TIMEOUT`) or a connection
error is retried after each delay of `OMNIDOC_WEBHOOK_RETRY_SCHEDULE`, then the delivery
is `failed`. A draft's notifications arrive in order. Inspect and replay them with
`GET /_sandbox/webhooks/deliveries` and `POST /_sandbox/webhooks/deliveries/{id}/redeliver`.

**Request journal and faults (sandbox-defined).** `GET /_sandbox/requests` lists the key's
last `OMNIDOC_JOURNAL_SIZE` calls of the interop API and of the `POST /_sandbox/drafts/…`
helpers, newest first, with every error and warning *with its message*. `POST
/_sandbox/faults` makes the key's next matching interop calls answer a status (code
`injected_fault`, any status 400-599: the `default` response of the interop operations)
and/or wait first.

**Scenario practitioners (sandbox-defined).** A practitioner of the fixtures may carry an
`autopilot`: drafts sent to it answer by themselves, a set time after they enter
`in_progress`, like test card numbers. In the default fixtures `10006789019` completes
after 3 s (with a report) and `10007890121` cancels after 3 s; the pull view's
`autopilot_due_at` says when (null when no automatic answer is pending).
"""

TAGS = [
    {"name": OMNIDOC, "description": "Follows the Omnidoc document."},
    {"name": SANDBOX, "description": "The sandbox's own contract; not part of Omnidoc's API."},
]
SERVERS = [
    {"url": "/", "description": "The sandbox serving this document."},
    {"url": "http://127.0.0.1:8000", "description": "`omnidoc-sandbox serve` (the default)."},
]
LICENSE = {"name": "MIT", "identifier": "MIT"}


def operation_id(route: APIRoute) -> str:
    """`create_draft` → `createDraft`: one name per operation, stable across versions."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _add_model(components: dict[str, Any], model: type[Any], mode: JsonSchemaMode) -> None:
    """Add a model and its definitions; FastAPI's own rendering of a model wins (the same
    model, without `default: null`: Patient is both the create body's and the pull view's)."""
    schema = TypeAdapter(model).json_schema(ref_template=SCHEMA_REF, mode=mode)
    for name, definition in [*schema.pop("$defs", {}).items(), (model.__name__, schema)]:
        components.setdefault(name, definition)


def _drop_default_validation_errors(document: dict[str, Any]) -> None:
    """FastAPI documents a 422 on every operation with parameters; ours say where it is real."""
    paths = [*document.get("paths", {}).values(), *document.get("webhooks", {}).values()]
    for path in paths:
        for operation in path.values():
            responses = operation.get("responses", {})
            content = responses.get("422", {}).get("content", {})
            if "application/json" in content and "HTTPValidationError" in str(content):
                del responses["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def _operations(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for path in [*document.get("paths", {}).values(), *document.get("webhooks", {}).values()]:
        yield from path.values()


def _optional_bodies(document: dict[str, Any]) -> None:
    """An optional JSON body is the model with `required: false`, not `anyOf [model, null]`.

    FastAPI describes `body: Model | None = None` as a schema that may be null; generated
    clients then send something when given nothing (openapi-python-client: its `UNSET`
    marker, which it cannot serialise). Absent is how the sandbox reads it either way.
    """
    for operation in _operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        for media in body.get("content", {}).values():
            choices = media.get("schema", {}).get("anyOf", [])
            refs = [choice for choice in choices if "$ref" in choice]
            if len(choices) == 2 and len(refs) == 1 and {"type": "null"} in choices:
                media["schema"] = refs[0]
                body["required"] = False


def _referenced(node: object) -> Iterable[str]:
    """The component schema names a part of the document refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith(SCHEMA_REF.format(model="")):
            yield ref.removeprefix(SCHEMA_REF.format(model=""))
        for value in node.values():
            yield from _referenced(value)
    elif isinstance(node, list):
        for value in node:
            yield from _referenced(value)


def request_schemas(document: dict[str, Any]) -> set[str]:
    """The component schemas a request body uses, directly or through another schema."""
    schemas = document.get("components", {}).get("schemas", {})
    todo = [name for op in _operations(document) for name in _referenced(op.get("requestBody"))]
    found: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(_referenced(schemas.get(name)))
    return found


def _no_request_defaults(document: dict[str, Any]) -> None:
    """No `default` on a request schema's properties: an optional field is simply not required.

    Generators read a default as "always there" (openapi-typescript 7 makes such fields
    required in the body's type); the sandbox applies the same defaults when a field is
    absent, so a non-null default moves into the field's description.
    """
    schemas = document.get("components", {}).get("schemas", {})
    for name in sorted(request_schemas(document)):
        for field in schemas[name].get("properties", {}).values():
            if "default" not in field:
                continue
            default = field.pop("default")
            if default is not None:
                said = f"Default: `{json.dumps(default)}`."
                field["description"] = f"{field.get('description', '')} {said}".strip()


def _document_webhooks(app: FastAPI) -> None:
    @app.webhooks.post(
        "telexpertise.status_changed",
        tags=[SANDBOX],
        operation_id="statusChanged",
        openapi_extra=PUBLIC,  # sent by the sandbox, signed; not a call that takes a key
        responses={200: {"description": "Any 2xx marks the delivery `delivered`."}},
    )
    def status_changed(
        body: StatusChangedEvent,
        webhook_id: Annotated[str, Header(alias="webhook-id")],
        webhook_timestamp: Annotated[str, Header(alias="webhook-timestamp")],
        webhook_signature: Annotated[str, Header(alias="webhook-signature")],
    ) -> None:
        """A draft of your key changed status: POSTed to your webhook URL, signed."""


def install(app: FastAPI) -> None:
    """Make `app.http.openapi()` return the completed document (cached like FastAPI's)."""
    _document_webhooks(app)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        _add_model(components, Problem, "serialization")
        _add_model(components, FieldIssue, "serialization")
        _add_model(components, DraftCreate, "validation")  # documents the create body
        _drop_default_validation_errors(document)
        _optional_bodies(document)
        _no_request_defaults(document)
        document["components"]["schemas"] = dict(sorted(components.items()))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def render(app: FastAPI) -> str:
    """The document as committed in docs/openapi.json: stable key order, UTF-8, a newline."""
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
