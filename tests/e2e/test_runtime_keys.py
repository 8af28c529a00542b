"""Keys at run time across processes (SPEC §11): two servers on one data dir and database,
as two replicas of one deployment. A key added through one is accepted by the other on
the next request; revoked through one, it is refused by both on the next request."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.server import MakeServer
from tests.helpers import AUTHOR, KEY_A, RECIPIENT, auth
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e

TOKEN = "adm-4c2e9b7d"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
DRAFTS = "/api/interop/v1/drafts"
KEYS = "/_sandbox/admin/keys"


def test_a_key_added_on_one_server_is_used_and_revoked_on_both(make_server: MakeServer) -> None:
    env = {"OMNIDOC_ADMIN_TOKEN": TOKEN}
    one, two = make_server(env), make_server(env)
    added = httpx.post(f"{one.base_url}{KEYS}", json={"name": "Vendor C"}, headers=ADMIN)
    assert added.status_code == 201, added.text
    key = added.json()["key"]

    created = httpx.post(f"{two.base_url}{DRAFTS}", json={"author_rpps": AUTHOR}, headers=auth(key))
    assert created.status_code == 200, created.text
    draft_id = created.json()["id"]
    seen = httpx.get(f"{one.base_url}{DRAFTS}/{draft_id}", headers=auth(key))
    assert seen.status_code == 200, seen.text
    journal = httpx.get(f"{two.base_url}/_sandbox/requests", headers=auth(key))
    assert journal.status_code == 200
    assert any(e["path"] == DRAFTS for e in journal.json()["items"])
    listed = httpx.get(f"{two.base_url}{KEYS}", headers=ADMIN).json()["items"]
    assert {k["key"]: k["source"] for k in listed}[key] == "runtime"

    # A vendor key, run-time or not, opens no admin route.
    for server in (one, two):
        for vendor in (key, KEY_A):
            refused = httpx.get(f"{server.base_url}{KEYS}", headers=auth(vendor))
            assert refused.status_code == 401
            assert refused.json()["code"] == "admin_unauthorized"
        fixture = httpx.delete(f"{server.base_url}{KEYS}/{KEY_A}", headers=ADMIN)
        assert fixture.status_code == 409
        assert fixture.json()["code"] == "fixture_key"

    assert httpx.delete(f"{two.base_url}{KEYS}/{key}", headers=ADMIN).status_code == 204
    for server in (two, one):
        refused = httpx.get(f"{server.base_url}{DRAFTS}/{draft_id}", headers=auth(key))
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "unauthorized"
        owners = httpx.get(f"{server.base_url}/_sandbox/admin/drafts", headers=ADMIN).json()
        assert draft_id in {d["id"] for d in owners["items"]}  # its data stays until a reset
    gone = httpx.delete(f"{one.base_url}{KEYS}/{key}", headers=ADMIN)
    assert gone.status_code == 404
    assert gone.json()["code"] == "key_not_found"
    assert httpx.post(f"{one.base_url}{DRAFTS}", json={}, headers=auth(KEY_A)).status_code == 200


def test_a_run_time_key_s_webhook_is_delivered_and_signed(make_server: MakeServer) -> None:
    receiver = Receiver().start()
    try:
        one, two = make_server(), make_server()
        added = httpx.post(
            f"{one.base_url}{KEYS}", json={"name": "Vendor C", "webhook_url": receiver.url}
        )
        assert added.status_code == 201, added.text
        key, receiver.secret = added.json()["key"], added.json()["webhook_secret"]
        ready = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT}
        created = httpx.post(f"{two.base_url}{DRAFTS}", json=ready, headers=auth(key))
        assert created.status_code == 200, created.text
        draft_id = created.json()["id"]
        for step in ("visit", "publish"):
            moved = httpx.post(
                f"{two.base_url}/_sandbox/drafts/{draft_id}/{step}", headers=auth(key)
            )
            assert moved.status_code == 200, moved.text
        (first,) = receiver.wait_for(1)
        assert first.verified  # signed with the secret the 201 gave
        assert first.payload["data"]["status"] == "in_progress"
        assert first.payload["data"]["id"] == draft_id
    finally:
        receiver.stop()
