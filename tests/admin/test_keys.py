"""Keys added and revoked at run time (SPEC §11, app.admin.keys), through the admin scope."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import KEY_A, assert_problem, auth, create_draft
from tests.page_client import SAME_ORIGIN

KEYS = "/_sandbox/admin/keys"


def add_key(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(KEYS, json={"name": "Vendor C", **body}, headers=SAME_ORIGIN)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def listed(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get(KEYS)
    assert response.status_code == 200, response.text
    return {k["key"]: k for k in response.json()["items"]}


def test_a_new_key_is_random_and_usable_at_once(client: TestClient) -> None:
    first, second = add_key(client), add_key(client, name="Vendor D")
    assert first["key"].startswith("sbx_") and len(first["key"]) > 40
    assert first["key"] != second["key"]
    assert first["name"] == "Vendor C"
    assert first["webhook_url"] is None and first["webhook_secret"] is None
    draft_id = create_draft(client, key=first["key"])
    mine = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth(first["key"]))
    assert mine.status_code == 200
    theirs = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth(second["key"]))
    assert_problem(theirs, 404, "draft_not_found")


def test_the_listing_names_each_key_s_source(client: TestClient) -> None:
    created = add_key(client, webhook_url="http://127.0.0.1:9/hook")
    keys = listed(client)
    assert keys[KEY_A]["source"] == "fixtures"
    assert keys[created["key"]]["source"] == "runtime"
    assert list(keys)[-1] == created["key"]  # the fixtures' first, then the run-time ones
    assert keys[created["key"]]["webhook_url"] == "http://127.0.0.1:9/hook"
    assert keys[created["key"]]["webhook_secret"] == created["webhook_secret"]
    assert keys[created["key"]]["webhook_source"] == "fixtures"  # the key's own, as a fixture's
    assert created["webhook_secret"].startswith("whsec_")


def test_a_webhook_url_is_checked_as_a_target(client: TestClient) -> None:
    refused = client.post(
        KEYS,
        json={"name": "Vendor C", "webhook_url": "http://169.254.169.254/hook"},
        headers=SAME_ORIGIN,
    )
    body = assert_problem(refused, 422, "validation_failed")
    assert body["errors"][0]["field"] == "webhook_url"
    assert_problem(
        client.post(KEYS, json={"name": ""}, headers=SAME_ORIGIN), 422, "validation_failed"
    )
    extra = client.post(KEYS, json={"name": "C", "key": "mine"}, headers=SAME_ORIGIN)
    assert_problem(extra, 422, "validation_failed")


def test_a_revoked_key_is_refused_at_once_and_its_data_stays(client: TestClient) -> None:
    key = add_key(client)["key"]
    draft_id = create_draft(client, key=key)
    assert client.delete(f"{KEYS}/{key}", headers=SAME_ORIGIN).status_code == 204
    refused = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth(key))
    assert_problem(refused, 401, "unauthorized")
    assert key not in listed(client)
    owners = {d["id"]: d["owner_key"] for d in client.get("/_sandbox/admin/drafts").json()["items"]}
    assert owners[draft_id] == key  # visible in admin scope until a reset
    assert_problem(client.delete(f"{KEYS}/{key}", headers=SAME_ORIGIN), 404, "key_not_found")
    reset = client.post(f"{KEYS}/{key}/reset", headers=SAME_ORIGIN)  # its data, at last
    assert reset.status_code == 200, reset.text
    assert reset.json()["deleted"]["drafts"] == 1
    assert client.get("/_sandbox/admin/drafts").json()["items"] == []
    gone = client.post(f"{KEYS}/{key}/reset", headers=SAME_ORIGIN)  # no entry, no data
    assert_problem(gone, 404, "key_not_found")


def test_keys_of_the_fixtures_cannot_be_revoked(client: TestClient) -> None:
    assert_problem(client.delete(f"{KEYS}/{KEY_A}", headers=SAME_ORIGIN), 409, "fixture_key")
    assert create_draft(client, key=KEY_A)
    unknown = client.delete(f"{KEYS}/sbx_unknown", headers=SAME_ORIGIN)
    assert_problem(unknown, 404, "key_not_found")


def test_a_run_time_key_resets_and_survives_the_admin_reset(client: TestClient) -> None:
    key = add_key(client)["key"]
    create_draft(client, key=key)
    create_draft(client, key=KEY_A)
    reset = client.post(f"{KEYS}/{key}/reset", headers=SAME_ORIGIN)
    assert reset.status_code == 200, reset.text
    assert reset.json()["deleted"]["drafts"] == 1
    client.post("/_sandbox/admin/reset", headers=SAME_ORIGIN)
    assert key in listed(client)  # a reset wipes data, not the team's keys
    assert create_draft(client, key=key)


def test_a_run_time_key_s_webhook_gets_its_events(client: TestClient) -> None:
    created = add_key(client, webhook_url="http://127.0.0.1:9/hook")
    vendor = client.get("/_sandbox/webhook", headers=auth(created["key"]))
    assert vendor.status_code == 200, vendor.text
    assert vendor.json()["url"] == "http://127.0.0.1:9/hook"
    assert vendor.json()["secret"] == created["webhook_secret"]
