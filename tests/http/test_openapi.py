"""The OpenAPI document: committed and current, valid, and first-class for generators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from app.http.openapi import CREATE_EXAMPLES
from app.http.openapi_document import render, request_schemas
from app.main import create_app
from app.sandbox.schemas import FaultBody
from tests.helpers import auth

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
PROBLEM = {"schema": {"$ref": "#/components/schemas/Problem"}}
OPERATION_IDS = {
    "createDraft",
    "attachFiles",
    "getDraft",
    "downloadFile",
    "getReport",
    "visitDraft",
    "publishDraft",
    "completeDraft",
    "advanceClock",
    "adminExport",
    "adminImport",
    "exportVendor",
    "cancelDraft",
    "resetVendor",
    "setWebhook",
    "getWebhook",
    "deleteWebhook",
    "listDeliveries",
    "redeliver",
    "listRequests",
    "createFault",
    "listFaults",
    "deleteFaults",
    "recordInbox",
    "listInbox",
    "healthz",
    "readyz",
    "lintPrefill",
    "listAdminDrafts",
    "downloadAdminFile",
    "listAdminRequests",
    "listAdminDeliveries",
    "adminRedeliver",
    "listAdminInboxes",
    "listAdminKeys",
    "waitAdminChanges",
    "adminReset",
    "adminResetKey",
    "listRequirements",
    "createTestSession",
    "getTestSession",
    "finishTestSession",
    "getTestSessionReport",
    "getTestSessionJunit",
    "adminCreateKey",
    "adminRevokeKey",
    "createReceiverCheck",
    "getReceiverCheck",
    "listReceiverChecks",
    "adminCreateReceiverCheck",
    "listAdminReceiverChecks",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    spec: dict[str, Any] = create_app().openapi()
    return spec


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def _walk(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_openapi_document_is_committed_and_current(document: dict[str, Any]) -> None:
    committed = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert committed == document, (
        "docs/openapi.json is out of date: regenerate it with `make openapi` "
        "(omnidoc-sandbox openapi docs/openapi.json) and commit it"
    )
    assert DOCUMENT.read_text(encoding="utf-8") == render(create_app())


def test_openapi_document_is_valid(document: dict[str, Any]) -> None:
    validate(document)


def test_openapi_served_is_the_document(client: TestClient, document: dict[str, Any]) -> None:
    assert client.get("/openapi.json").json() == document


def test_openapi_operation_ids_are_short_and_stable(document: dict[str, Any]) -> None:
    assert {op["operationId"] for _, _, op in _operations(document)} == OPERATION_IDS


def test_openapi_errors_are_problem_json_only(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                assert response["content"] == {"application/problem+json": PROBLEM}, (
                    f"{method} {path} {status}"
                )


def test_openapi_json_answers_are_named_models(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status in ("200", "201") and "application/json" in response.get("content", {}):
                schema = response["content"]["application/json"]["schema"]
                assert schema.get("$ref", "").startswith("#/components/schemas/"), (
                    f"{method} {path} answers a free-form object"
                )


def test_openapi_has_no_framework_validation_error(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert "HTTPValidationError" not in json.dumps(document)


def test_openapi_only_uses_json_schema_keywords(document: dict[str, Any]) -> None:
    # pydantic writes constraints it cannot translate under their own names (ge, le, ...).
    for node in _walk(document["components"]["schemas"]):
        assert not {"ge", "le", "gt", "lt"} & set(node), node


def test_openapi_declares_servers_and_licence(document: dict[str, Any]) -> None:
    assert document["servers"][0]["url"] == "/"
    assert "http://127.0.0.1:8000" in [server["url"] for server in document["servers"]]
    assert document["info"]["license"] == {"name": "MIT", "identifier": "MIT"}


def test_openapi_marks_omnidoc_and_sandbox_parts(document: dict[str, Any]) -> None:
    tags = {op["operationId"]: op["tags"] for _, _, op in _operations(document)}
    omnidoc = {name for name, tag in tags.items() if tag == ["Omnidoc interop API"]}
    assert omnidoc == {"createDraft", "attachFiles"}
    assert all(tag == ["Sandbox-defined"] for name, tag in tags.items() if name not in omnidoc)


def test_openapi_declares_headers(document: dict[str, Any]) -> None:
    create = document["paths"]["/api/interop/v1/drafts"]["post"]["responses"]
    assert "Omnidoc-Sandbox-Warnings" in create["200"]["headers"]
    assert "Omnidoc-Sandbox-Warnings" in create["422"]["headers"]
    assert "Retry-After" in create["default"]["headers"]
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        if "401" in responses:
            assert "WWW-Authenticate" in responses["401"]["headers"], f"{method} {path}"
        if "503" in responses:
            assert "Retry-After" in responses["503"]["headers"], f"{method} {path}"


def test_openapi_binary_answers(document: dict[str, Any]) -> None:
    report = document["paths"]["/api/interop/v1/drafts/{draft_id}/report"]["get"]
    pdf = report["responses"]["200"]["content"]["application/pdf"]["schema"]
    assert pdf == {"type": "string", "format": "binary"}
    download = document["paths"]["/api/interop/v1/drafts/{draft_id}/files/{file_id}"]["get"]
    assert download["responses"]["200"]["content"]["application/octet-stream"]["schema"] == pdf


def test_openapi_identifier_rules(document: dict[str, Any]) -> None:
    patient = document["components"]["schemas"]["Patient"]["properties"]

    def branch(name: str) -> dict[str, Any]:
        schema: dict[str, Any] = patient[name]["anyOf"][0]
        return schema

    assert branch("nir")["pattern"] == "^[0-9]{5}(?:[0-9]{2}|2[ABab])[0-9]{8}$"
    assert "97" in patient["nir"]["description"]  # the checksum, in words
    assert branch("birth_place")["pattern"] == "^(?:2[AB][0-9]{3}|[0-9]{5})$"
    assert branch("phone")["pattern"] == "^0[1-9][0-9]{8}$"
    assert branch("birth_date")["format"] == "date"
    assert document["components"]["schemas"]["Gender"]["enum"] == ["M", "F"]
    create = document["components"]["schemas"]["DraftCreate"]["properties"]
    assert create["author_rpps"]["anyOf"][0]["pattern"] == "^[0-9]{11}$"
    assert "Luhn" in create["author_rpps"]["anyOf"][0]["description"]


@pytest.mark.parametrize("name", sorted(CREATE_EXAMPLES))
def test_openapi_create_examples_succeed_as_they_are(client: TestClient, name: str) -> None:
    example = CREATE_EXAMPLES[name]["value"]
    response = client.post("/api/interop/v1/drafts", json=example, headers=auth())
    assert response.status_code == 200, response.text
    assert "omnidoc-sandbox-warnings" not in response.headers


def _bodies(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    hooks = [(f"webhook {name}", item) for name, item in document["webhooks"].items()]
    for where, methods in [*document["paths"].items(), *hooks]:
        for method, operation in methods.items():
            if "requestBody" in operation:
                yield f"{method} {where}", operation["requestBody"]


def test_openapi_optional_bodies_are_the_model_and_not_required(document: dict[str, Any]) -> None:
    # `anyOf [Model, null]` made openapi-python-client send its UNSET marker on a call
    # without a body (TypeError: Object of type Unset is not JSON serializable).
    for where, body in _bodies(document):
        for media in body["content"].values():
            assert {"type": "null"} not in media["schema"].get("anyOf", []), where
    for action, model in (("publish", "PublishBody"), ("complete", "CompleteBody")):
        body = document["paths"][f"/_sandbox/drafts/{{draft_id}}/{action}"]["post"]["requestBody"]
        assert body["required"] is False
        assert body["content"] == {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}
        }
    create = document["paths"]["/api/interop/v1/drafts"]["post"]["requestBody"]
    assert create.get("required", False) is False
    # One media type: with two, openapi-python-client's code fails on every call.
    inbox = document["paths"]["/_sandbox/inbox/{name}"]["post"]["requestBody"]
    assert (inbox["required"], list(inbox["content"])) == (False, ["application/json"])


def test_openapi_request_schemas_have_no_defaults(document: dict[str, Any]) -> None:
    # openapi-typescript 7 reads a default as "always there": the create body's fields
    # came out required. An optional field of a request is only not required.
    names = request_schemas(document)
    assert {"DraftCreate", "Patient", "PublishBody", "CompleteBody", "FaultBody"} <= names
    for name in names:
        for field, schema in document["components"]["schemas"][name].get("properties", {}).items():
            assert "default" not in schema, f"{name}.{field}"
    # The defaults the sandbox applies are still said, in the fields' descriptions.
    fault = document["components"]["schemas"]["FaultBody"]["properties"]
    for field in ("method", "path", "delay_ms", "times"):
        default = FaultBody.model_fields[field].default
        said = json.dumps(getattr(default, "value", default))
        assert f"Default: `{said}`." in fault[field]["description"], field


def test_openapi_every_operation_says_its_security(document: dict[str, Any]) -> None:
    # No operation leaves its security unsaid: `[]` where none is needed (redocly lint).
    hooks = [(name, item) for name, item in document["webhooks"].items()]
    for where, methods in [*document["paths"].items(), *hooks]:
        for method, operation in methods.items():
            assert "security" in operation, f"{method} {where}"
    public = {"healthz", "readyz", "lintPrefill", "recordInbox", "statusChanged"}
    for name in public:
        assert _operation(document, name)["security"] == [], name


def _operation(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    hooks = [(name, item) for name, item in document["webhooks"].items()]
    for _where, methods in [*document["paths"].items(), *hooks]:
        for operation in methods.values():
            if operation["operationId"] == operation_id:
                return operation  # type: ignore[no-any-return]
    raise AssertionError(operation_id)
