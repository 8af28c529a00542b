"""`/_sandbox/receiver-checks` in process: start a check, read it, list the key's checks."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import KEY_B, assert_problem, auth
from tests.receiver import Receiver

URL = "/_sandbox/receiver-checks"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
UNKNOWN = "5f0c1f7e-6a53-4b8e-9a52-0e7c6f1d2a3b"


def test_create_receiver_check_needs_a_key(client: TestClient) -> None:
    assert_problem(client.post(URL, json={}), 401, "unauthorized")


def test_create_receiver_check_without_a_webhook_is_409(client: TestClient) -> None:
    assert_problem(client.post(URL, json={}, headers=auth()), 409, "no_webhook")


def test_create_receiver_check_refuses_a_link_local_url(client: TestClient) -> None:
    body = {"url": "http://169.254.169.254/hook", "secret": SECRET}
    assert_problem(client.post(URL, json=body, headers=auth()), 422, "validation_failed")


def test_create_receiver_check_refuses_unknown_fields(client: TestClient) -> None:
    body = assert_problem(
        client.post(URL, json={"uri": "x"}, headers=auth()), 422, "validation_failed"
    )
    assert [e["field"] for e in body["errors"]] == ["uri"]


def test_receiver_check_runs_and_is_read_back_finished(client: TestClient) -> None:
    receiver = Receiver(secret=SECRET).start()
    try:
        body = {"url": receiver.url, "secret": SECRET}
        created = client.post(URL, json=body, headers=auth())
        assert created.status_code == 201, created.text
        check = created.json()
        assert (check["status"], check["url"]) == ("running", receiver.url)
        finished = client.get(f"{URL}/{check['id']}?wait=30", headers=auth()).json()
    finally:
        receiver.stop()
    assert finished["status"] != "running"
    assert finished["cases"]
    listed = client.get(URL, headers=auth()).json()["items"]
    assert [c["id"] for c in listed] == [check["id"]]


def test_get_receiver_check_unknown_is_404(client: TestClient) -> None:
    response = client.get(f"{URL}/{UNKNOWN}", headers=auth())
    assert_problem(response, 404, "receiver_check_not_found")


def test_list_receiver_checks_is_per_key_and_empty_at_first(client: TestClient) -> None:
    assert client.get(URL, headers=auth()).json() == {"items": []}
    assert client.get(URL, headers=auth(KEY_B)).json() == {"items": []}


def test_list_receiver_checks_bad_wait_is_422(client: TestClient) -> None:
    assert_problem(client.get(f"{URL}?wait=31", headers=auth()), 422, "validation_failed")
