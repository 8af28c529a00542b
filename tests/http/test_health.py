"""Probes, problem+json for the framework's own errors, OpenAPI and offline docs."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_once_started(client: TestClient) -> None:
    assert client.get("/readyz").status_code == 200


def test_unknown_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/interop/v2/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_problem_json(client: TestClient) -> None:
    response = client.delete("/api/interop/v1/drafts")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_error_type_page_explains_the_code(client: TestClient) -> None:
    response = client.get("/errors/draft_locked")
    assert response.status_code == 200
    assert "redirect_url" in response.text


def test_openapi_marks_sandbox_defined_parts(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    create = spec["paths"]["/api/interop/v1/drafts"]["post"]
    assert create["tags"] == ["Omnidoc interop API"]
    assert "DraftCreate" in spec["components"]["schemas"]
    assert "vendorKey" in spec["components"]["securitySchemes"]
    assert "application/problem+json" in create["responses"]["422"]["content"]
    get_view = spec["paths"]["/api/interop/v1/drafts/{draft_id}"]["get"]
    assert get_view["tags"] == ["Sandbox-defined"]
    assert "Sandbox-defined" in spec["info"]["description"]


def test_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    asset = page.text.split('src="')[1].split('"')[0]
    assert client.get(asset).status_code == 200
