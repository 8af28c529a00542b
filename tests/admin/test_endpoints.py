"""The admin scope `/_sandbox/admin/…` (open: no OMNIDOC_ADMIN_TOKEN): every key's data."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session

from app.admin.changes import ChangeWatch
from app.config import Settings
from app.db import create_db_engine, create_schema
from app.models import InboxItem
from tests.helpers import (
    AUTHOR,
    KEY_A,
    KEY_B,
    RECIPIENT,
    SCENARIO_PRACTITIONERS,
    assert_problem,
    auth,
    create_draft,
)
from tests.page_client import OTHER_SITE, SAME_ORIGIN, post_page

ADMIN = "/_sandbox/admin"
READY = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT}
PNG = b"\x89PNG\r\n\x1a\nsynthetic"


def items(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{ADMIN}/{path}", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def drive(client: TestClient, draft_id: str, *steps: str, key: str = KEY_A) -> None:
    for step in steps:
        response = client.post(f"/_sandbox/drafts/{draft_id}/{step}", headers=auth(key))
        assert response.status_code == 200, response.text


def cursor(client: TestClient, **params: Any) -> str:
    response = client.get(f"{ADMIN}/changes", params=params)
    assert response.status_code == 200, response.text
    value: str = response.json()["cursor"]
    return value


def wait_for(client: TestClient, check: Any, timeout: float = 10.0) -> None:
    """Long-poll the change cursor until `check()` holds (no fixed sleep)."""
    deadline = time.monotonic() + timeout
    last = cursor(client)
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        last = cursor(client, since=last, wait=1)


def test_list_admin_drafts_every_key_and_the_url_page(client: TestClient) -> None:
    mine = create_draft(client, {"patient": {"first_name": "Pierre"}})
    theirs = create_draft(client, key=KEY_B)
    page = post_page(client, "/interop/drafts/new", {"patient_last_name": "Dupont"})
    assert page.status_code == 303
    listed = items(client, "drafts")
    owners = {d["id"]: d["owner_key"] for d in listed}
    assert owners[mine] == KEY_A
    assert owners[theirs] == KEY_B
    [ownerless] = [d for d in listed if d["owner_key"] is None]
    assert ownerless["status"] == "draft"
    assert ownerless["patient"] == {"last_name": "Dupont"}
    assert [d["id"] for d in listed][1:] == [theirs, mine]  # newest first


def test_list_admin_drafts_timestamps_and_autopilot(client: TestClient) -> None:
    draft_id = create_draft(
        client, {"author_rpps": AUTHOR, "recipient_rpps": SCENARIO_PRACTITIONERS[0]}
    )
    drive(client, draft_id, "visit", "publish")
    [draft] = [d for d in items(client, "drafts") if d["id"] == draft_id]
    assert draft["status"] == "in_progress"
    for stamp in ("created_at", "visited_at", "published_at"):
        assert draft[stamp].endswith("Z")
    assert (draft["completed_at"], draft["cancelled_at"]) == (None, None)
    assert draft["autopilot_due_at"] > draft["published_at"]
    assert draft["redirect_url"].endswith(f"/interop/drafts/{draft_id}")


def test_download_admin_file(client: TestClient) -> None:
    draft_id = create_draft(client)
    files = [("file", ("scan dos é.png", PNG, "image/png"))]
    upload = client.post(f"/api/interop/v1/drafts/{draft_id}/files/", files=files, headers=auth())
    assert upload.status_code == 200
    [draft] = items(client, "drafts")
    [listed] = draft["files"]
    assert listed["filename"] == "scan dos é.png"
    response = client.get(listed["url"])
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-security-policy"] == "sandbox"


def test_download_admin_file_unknown(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.get(f"{ADMIN}/drafts/{draft_id}/files/{draft_id}")
    assert_problem(response, 404, "file_not_found")
    assert_problem(client.get(f"{ADMIN}/drafts/x/files/y"), 404, "file_not_found")


def test_list_admin_requests_every_key_with_errors_in_french(client: TestClient) -> None:
    create_draft(client, key=KEY_B)
    bad = {"patient": {"nir": "11111111111111", "phone": "066666666"}}
    response = client.post("/api/interop/v1/drafts", json=bad, headers=auth())
    assert response.status_code == 422
    newest, older = items(client, "requests")
    assert (newest["owner_key"], newest["status"], older["owner_key"]) == (KEY_A, 422, KEY_B)
    by_field = {e["field"]: e for e in newest["errors"]}
    assert by_field["patient.nir"]["code"] == "nir_format"
    assert by_field["patient.nir"]["message_fr"].startswith("15 caractères attendus")
    assert by_field["patient.phone"]["message_fr"].startswith("Doit comporter 10 chiffres")
    assert by_field["patient.nir"]["message"]  # the API's own sentence stays


def test_list_admin_requests_of_one_key_after_a_cursor(client: TestClient) -> None:
    create_draft(client)
    [first] = items(client, "requests")
    create_draft(client, key=KEY_B)
    create_draft(client)
    newer = items(client, "requests", after=first["id"], owner_key=KEY_A)
    assert [e["owner_key"] for e in newer] == [KEY_A]
    unknown = client.get(f"{ADMIN}/requests", params={"after": "nope"})
    assert_problem(unknown, 422, "validation_failed")


def test_list_admin_requests_long_polls(client: TestClient) -> None:
    create_draft(client)
    [first] = items(client, "requests")
    answers: list[list[dict[str, Any]]] = []
    waiter = threading.Thread(
        target=lambda: answers.append(items(client, "requests", after=first["id"], wait=10))
    )
    waiter.start()
    create_draft(client, key=KEY_B)
    waiter.join()
    assert [e["owner_key"] for e in answers[0]] == [KEY_B]


def test_list_admin_deliveries_every_key(client: TestClient) -> None:
    for key in (KEY_A, KEY_B):
        draft_id = create_draft(client, READY, key=key)
        drive(client, draft_id, "visit", "publish", key=key)
    deliveries = items(client, "deliveries")
    assert [d["owner_key"] for d in deliveries] == [KEY_B, KEY_A]
    assert all(d["payload"]["data"]["status"] == "in_progress" for d in deliveries)
    assert items(client, "deliveries", owner_key=KEY_A)[0]["owner_key"] == KEY_A


def test_admin_redeliver_adds_an_attempt(tmp_path: Path, database_url: str | None) -> None:
    from app.main import create_app
    from tests.helpers import wait_ready

    settings = Settings(
        data_dir=tmp_path / "d", database_url=database_url, webhook_retry_schedule=""
    )
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        draft_id = create_draft(client, READY, key=KEY_B)
        drive(client, draft_id, "visit", "publish", key=KEY_B)

        def delivery() -> dict[str, Any]:
            return items(client, "deliveries")[0]

        wait_for(client, lambda: delivery()["status"] == "failed")  # no webhook URL: 1 try
        response = client.post(
            f"{ADMIN}/deliveries/{delivery()['id']}/redeliver", headers=SAME_ORIGIN
        )
        assert response.status_code == 200, response.text
        assert response.json()["owner_key"] == KEY_B
        wait_for(client, lambda: len(delivery()["attempts"]) == 2)
        assert delivery()["attempts"][1]["error"].startswith("no webhook URL registered")


def test_admin_redeliver_unknown(client: TestClient) -> None:
    missing = f"{ADMIN}/deliveries/00000000-0000-4000-8000-000000000000/redeliver"
    assert_problem(client.post(missing), 404, "delivery_not_found")
    assert_problem(client.post(f"{ADMIN}/deliveries/x/redeliver"), 404, "delivery_not_found")


def test_admin_redeliver_from_another_site(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    drive(client, draft_id, "visit", "publish")
    delivery_id = items(client, "deliveries")[0]["id"]
    response = client.post(f"{ADMIN}/deliveries/{delivery_id}/redeliver", headers=OTHER_SITE)
    assert_problem(response, 403, "cross_origin_request")


def test_list_admin_inboxes(client: TestClient) -> None:
    for name in ("vendor-a", "vendor-b", "vendor-a"):
        assert client.post(f"/_sandbox/inbox/{name}", content=b"{}").status_code == 200
    inboxes = items(client, "inboxes")
    assert [(i["name"], i["count"]) for i in inboxes] == [("vendor-a", 2), ("vendor-b", 1)]
    assert inboxes[0]["last_received_at"].endswith("Z")


def test_list_admin_keys_with_their_webhooks(client: TestClient) -> None:
    registered = client.put(
        "/_sandbox/webhook", json={"url": "http://127.0.0.1:9/hook"}, headers=auth(KEY_B)
    ).json()
    keys = {k["key"]: k for k in items(client, "keys")}
    assert set(keys) == {KEY_A, KEY_B}
    assert keys[KEY_A]["name"] == "Vendor A"
    assert (keys[KEY_A]["webhook_url"], keys[KEY_A]["webhook_source"]) == (None, None)
    assert keys[KEY_B]["webhook_url"] == "http://127.0.0.1:9/hook"
    assert keys[KEY_B]["webhook_secret"] == registered["secret"]
    assert keys[KEY_B]["webhook_source"] == "registered"


def test_wait_admin_changes_moves_on_each_change(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    seen = [cursor(client)]
    assert cursor(client, since=seen[0]) == seen[0]  # nothing changed: the same cursor
    for step in ("visit", "publish", "cancel"):
        drive(client, draft_id, step)
        seen.append(cursor(client))
    client.post("/_sandbox/inbox/demo", content=b"x")
    seen.append(cursor(client))
    assert len(set(seen)) == len(seen)


def test_wait_admin_changes_holds_until_a_change(client: TestClient) -> None:
    before = cursor(client)
    answers: list[str] = []
    waiter = threading.Thread(target=lambda: answers.append(cursor(client, since=before, wait=10)))
    waiter.start()
    create_draft(client)
    waiter.join()
    assert answers[0] not in ("", before)


WAITERS = 40


def test_wait_admin_changes_queries_once_per_change_not_per_waiter(client: TestClient) -> None:
    """Many dashboards waiting share one cursor: the aggregates run once per change (and
    at most once a second while nothing changes), never once per waiter and look."""
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    cursor_queries: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "autopilot_move" in statement and "inbox_item" in statement:  # the aggregates
            cursor_queries.append(statement)

    before = cursor(client)
    event.listen(engine, "before_cursor_execute", count)
    try:
        answers: list[str] = []
        waiters = [
            threading.Thread(target=lambda: answers.append(cursor(client, since=before, wait=20)))
            for _ in range(WAITERS)
        ]
        for waiter in waiters:
            waiter.start()
        # Held for 1.5 s: each waiter on its own would have looked 6 times by now.
        time.sleep(1.5)
        assert answers == []
        create_draft(client)  # one change (two commits: the draft, its journal entry)
        for waiter in waiters:
            waiter.join(timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # (The create writes the draft, then its journal entry: a waiter may see either.)
    assert len(answers) == WAITERS and before not in answers
    # Once after the change (twice when a waiter looked between its statement and its
    # commit), plus the once-a-second looks for other processes' writes: a handful for
    # 40 waiters, where each waiter's own polling made over 200.
    assert len(cursor_queries) <= 8, len(cursor_queries)


def test_admin_reset_wipes_everything(client: TestClient, settings: Settings) -> None:
    client.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/h"}, headers=auth())
    fault = {"path": "/api/interop/v1/drafts/*/report", "status": 503}
    client.post("/_sandbox/faults", json=fault, headers=auth(KEY_B))
    client.post("/_sandbox/inbox/demo", content=b"{}")
    for key in (KEY_A, KEY_B):
        draft_id = create_draft(client, {**READY, "recipient_rpps": SCENARIO_PRACTITIONERS[0]}, key)
        files = [("file", ("a.png", PNG, "image/png"))]
        client.post(f"/api/interop/v1/drafts/{draft_id}/files/", files=files, headers=auth(key))
    drive(client, draft_id, "visit", "publish", key=KEY_B)  # books an automatic answer
    post_page(client, "/interop/drafts/new", {"patient_last_name": "Dupont"})
    assert len([f for f in settings.files_dir.glob("*") if f.is_file()]) == 2

    response = client.post(f"{ADMIN}/reset", headers=SAME_ORIGIN)

    assert response.status_code == 200, response.text
    deleted = response.json()["deleted"]
    assert (deleted["drafts"], deleted["files"], deleted["inbox"]) == (3, 2, 1)
    assert (deleted["faults"], deleted["webhooks"], deleted["autopilot"]) == (1, 1, 1)
    assert deleted["deliveries"] == 1 and deleted["journal"] >= 6
    for path in ("drafts", "requests", "deliveries", "inboxes"):
        assert items(client, path) == [], path
    assert [f for f in settings.files_dir.glob("*") if f.is_file()] == []
    assert client.get("/_sandbox/faults", headers=auth(KEY_B)).json() == {"items": []}
    assert client.get("/_sandbox/webhook", headers=auth()).json() == {"url": None, "secret": None}
    assert create_draft(client)  # the fixtures' keys still work


def test_admin_reset_from_another_site(client: TestClient) -> None:
    draft_id = create_draft(client)
    assert_problem(client.post(f"{ADMIN}/reset", headers=OTHER_SITE), 403, "cross_origin_request")
    assert client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).status_code == 200


def test_change_watch_sees_its_writes_at_once_and_other_processes_within_its_max_age(
    settings: Settings,
) -> None:
    """A write through the watched engine makes the cursor stale at once; one through
    another engine (another server process on the same database) within max_age."""
    mine, other = create_db_engine(settings), create_db_engine(settings)
    try:
        create_schema(mine)
        watch = ChangeWatch(mine, max_age=0.3)
        first = watch.compute()
        assert watch.fresh() == first  # no write since: from memory
        with Session(mine) as session:
            session.add(InboxItem(name="mine", method="POST"))
            session.commit()
        assert watch.fresh() is None
        second = watch.compute()
        assert second != first
        with Session(other) as session:
            session.add(InboxItem(name="other", method="POST"))
            session.commit()
        deadline = time.monotonic() + 10
        while watch.compute() == second:
            assert time.monotonic() < deadline, "another engine's write never seen"
            time.sleep(0.05)
    finally:
        mine.dispose()
        other.dispose()


def test_admin_reset_of_one_key_is_its_vendor_reset(client: TestClient) -> None:
    hook = client.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/h"}, headers=auth())
    fault = {"path": "/api/interop/v1/nothing-matches", "status": 503}
    client.post("/_sandbox/faults", json=fault, headers=auth())
    draft_a = create_draft(client, READY)
    files = [("file", ("a.png", PNG, "image/png"))]
    client.post(f"/api/interop/v1/drafts/{draft_a}/files/", files=files, headers=auth())
    drive(client, draft_a, "visit", "publish")
    draft_b = create_draft(client, READY, KEY_B)

    response = client.post(f"{ADMIN}/keys/{KEY_A}/reset", headers=SAME_ORIGIN)

    assert response.status_code == 200, response.text
    deleted = response.json()["deleted"]
    assert (deleted["drafts"], deleted["files"], deleted["deliveries"], deleted["faults"]) == (
        1,
        1,
        1,
        1,
    )
    assert deleted["journal"] >= 4  # create, attach, visit, publish
    assert set(deleted) == {"drafts", "files", "deliveries", "journal", "faults"}
    assert client.get(f"/api/interop/v1/drafts/{draft_a}", headers=auth()).status_code == 404
    assert client.get("/_sandbox/webhook", headers=auth()).json() == hook.json()  # kept
    # The other key is untouched.
    assert client.get(f"/api/interop/v1/drafts/{draft_b}", headers=auth(KEY_B)).status_code == 200
    assert [d["id"] for d in items(client, "drafts")] == [draft_b]


def test_admin_reset_of_an_unknown_key(client: TestClient) -> None:
    response = client.post(f"{ADMIN}/keys/no-such-key/reset", headers=SAME_ORIGIN)
    assert_problem(response, 404, "key_not_found")
    assert "no-such-key" not in response.text  # a key is not echoed


def test_admin_reset_of_one_key_from_another_site(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(f"{ADMIN}/keys/{KEY_A}/reset", headers=OTHER_SITE)
    assert_problem(response, 403, "cross_origin_request")
    assert client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).status_code == 200
