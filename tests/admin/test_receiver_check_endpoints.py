"""`/_sandbox/admin/receiver-checks`: the dashboard checks any key's receiver and lists
every key's checks (admin scope; open while OMNIDOC_ADMIN_TOKEN is unset)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.helpers import KEY_A, KEY_B, assert_problem, wait_ready
from tests.page_client import OTHER_SITE, SAME_ORIGIN
from tests.receiver import Receiver

URL = "/_sandbox/admin/receiver-checks"
TOKEN = "admin-token-for-tests-0123456789"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_admin_create_receiver_check_of_an_unknown_key_is_422(client: TestClient) -> None:
    response = client.post(URL, json={"owner_key": "nobody"}, headers=SAME_ORIGIN)
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("owner_key", "unknown_key")]


def test_admin_create_receiver_check_from_another_site_is_403(client: TestClient) -> None:
    response = client.post(URL, json={"owner_key": KEY_A}, headers=OTHER_SITE)
    assert_problem(response, 403, "cross_origin_request")
    assert client.get(URL).json() == {"items": []}


def test_admin_create_receiver_check_of_a_key_without_webhook_is_409(client: TestClient) -> None:
    response = client.post(URL, json={"owner_key": KEY_A}, headers=SAME_ORIGIN)
    assert_problem(response, 409, "no_webhook")


def test_admin_receiver_check_runs_for_the_key_and_is_listed(client: TestClient) -> None:
    receiver = Receiver(secret=SECRET).start()
    try:
        body = {"owner_key": KEY_B, "url": receiver.url, "secret": SECRET}
        created = client.post(URL, json=body, headers=SAME_ORIGIN)
        assert created.status_code == 201, created.text
        check = created.json()
        assert (check["owner_key"], check["status"]) == (KEY_B, "running")
        vendor_view = f"/_sandbox/receiver-checks/{check['id']}?wait=30"
        finished = client.get(vendor_view, headers={"Authorization": f"Bearer {KEY_B}"})
    finally:
        receiver.stop()
    assert finished.json()["status"] != "running"
    assert [c["id"] for c in client.get(URL).json()["items"]] == [check["id"]]
    assert [c["id"] for c in client.get(URL, params={"owner_key": KEY_B}).json()["items"]] == [
        check["id"]
    ]
    assert client.get(URL, params={"owner_key": KEY_A}).json() == {"items": []}


def test_admin_receiver_checks_need_the_token_when_one_is_set(
    tmp_path: Path, database_url: str | None
) -> None:
    settings = Settings(data_dir=tmp_path / "d", database_url=database_url, admin_token=TOKEN)
    with TestClient(create_app(settings)) as guarded:
        wait_ready(guarded)
        assert_problem(guarded.get(URL), 401, "admin_unauthorized")
        signed = guarded.get(URL, headers={"Authorization": f"Bearer {TOKEN}"})
        assert signed.json() == {"items": []}
