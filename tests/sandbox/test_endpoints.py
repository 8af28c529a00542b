"""/_sandbox routes and the report route through the in-process app."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.models import Draft
from app.reports import service as reports
from tests.helpers import AUTHOR, KEY_B, RECIPIENT, assert_problem, auth, create_draft, wait_ready
from tests.receiver import Receiver

READY = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT}


def _step(
    client: TestClient, draft_id: str, step: str, key: str = "sandbox-key-a", **kw: Any
) -> httpx.Response:
    response: httpx.Response = client.post(
        f"/_sandbox/drafts/{draft_id}/{step}", headers=auth(key), **kw
    )
    return response


def _drive(client: TestClient, draft_id: str, *steps: str) -> None:
    for step in steps:
        response = _step(client, draft_id, step)
        assert response.status_code == 200, response.text


def test_visit_draft_twice_is_a_no_op(client: TestClient) -> None:
    draft_id = create_draft(client)
    first = _step(client, draft_id, "visit").json()
    second = _step(client, draft_id, "visit")
    assert second.status_code == 200
    assert first["status"] == second.json()["status"] == "draft"
    assert first["visited_at"] == second.json()["visited_at"]


def test_helpers_answer_the_pull_view(client: TestClient) -> None:
    draft_id = create_draft(client, {**READY, "context": {"ref": "x"}})
    _drive(client, draft_id, "visit", "publish")
    view = _step(client, draft_id, "complete", json={"report_text": "RAS"}).json()
    assert view == client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).json()
    assert view["status"] == "completed"
    assert view["context"] == {"ref": "x"}
    assert view["billing"]["currency"] == "EUR"


def test_publish_draft_without_recipient(client: TestClient) -> None:
    draft_id = create_draft(client, {"author_rpps": AUTHOR})
    _drive(client, draft_id, "visit")
    problem = assert_problem(_step(client, draft_id, "publish"), 409, "draft_incomplete")
    assert problem["missing"] == ["recipient_rpps"]


def test_publish_draft_with_the_author_in_the_body(client: TestClient) -> None:
    draft_id = create_draft(client, {"recipient_rpps": RECIPIENT})
    _drive(client, draft_id, "visit")
    response = _step(client, draft_id, "publish", json={"author_rpps": AUTHOR})
    assert response.json()["author_rpps"] == AUTHOR


def test_publish_draft_with_the_recipient_in_the_body(client: TestClient) -> None:
    draft_id = create_draft(client, {"author_rpps": AUTHOR})
    _drive(client, draft_id, "visit")
    response = _step(client, draft_id, "publish", json={"recipient_rpps": RECIPIENT})
    assert response.status_code == 200, response.text
    assert response.json()["recipient_rpps"] == RECIPIENT


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"author_rpps": "10000000008"}, "author_rpps", "unknown_author_rpps"),
        ({"author_rpps": "123"}, "author_rpps", "rpps_format"),
        ({"recipient_rpps": 10001234565}, "recipient_rpps", "not_a_string"),
        ({"recipient": RECIPIENT}, "recipient", "unknown_field"),
    ],
)
def test_publish_draft_checks_the_body_as_at_creation(
    client: TestClient, body: dict[str, object], field: str, code: str
) -> None:
    draft_id = create_draft(client, {"recipient_rpps": RECIPIENT})
    _drive(client, draft_id, "visit")
    problem = assert_problem(
        _step(client, draft_id, "publish", json=body), 422, "validation_failed"
    )
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]
    assert client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).json()["status"] == (
        "draft"
    )


def test_publish_draft_warns_about_the_bodys_rpps(client: TestClient) -> None:
    draft_id = create_draft(client, {"author_rpps": AUTHOR})
    _drive(client, draft_id, "visit")
    response = _step(client, draft_id, "publish", json={"recipient_rpps": "10000000000"})
    assert response.status_code == 200
    warnings = json.loads(response.headers["omnidoc-sandbox-warnings"])
    assert {"field": "recipient_rpps", "code": "rpps_luhn"} in warnings
    [entry, *_] = client.get("/_sandbox/requests", headers=auth()).json()["items"]
    assert {w["code"] for w in entry["warnings"]} == {"rpps_luhn", "unknown_recipient_rpps"}


def test_publish_draft_body_must_be_an_object(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    _drive(client, draft_id, "visit")
    assert_problem(_step(client, draft_id, "publish", json=[1]), 422, "validation_failed")
    assert_problem(_step(client, draft_id, "publish", content=b"{"), 400, "invalid_json")


@pytest.mark.parametrize(
    ("steps", "step"),
    [
        ((), "publish"),
        ((), "complete"),
        (("visit",), "complete"),
        (("visit", "publish", "complete"), "cancel"),
        (("cancel",), "publish"),
        (("cancel",), "cancel"),
    ],
)
def test_impossible_transitions(client: TestClient, steps: tuple[str, ...], step: str) -> None:
    draft_id = create_draft(client, READY)
    _drive(client, draft_id, *steps)
    problem = assert_problem(_step(client, draft_id, step), 409, "invalid_transition")
    assert "current_status" in problem


def test_publish_temporary_draft_says_to_visit_first(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    problem = assert_problem(_step(client, draft_id, "publish"), 409, "invalid_transition")
    assert "redirect_url" in problem["detail"]
    assert f"POST /_sandbox/drafts/{draft_id}/visit" in problem["detail"]


def test_complete_draft_says_what_comes_first(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    _drive(client, draft_id, "visit")
    problem = assert_problem(_step(client, draft_id, "complete"), 409, "invalid_transition")
    assert f"First publish it (POST /_sandbox/drafts/{draft_id}/publish" in problem["detail"]


def test_publish_cancelled_draft_says_it_is_final(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    _drive(client, draft_id, "cancel")
    problem = assert_problem(_step(client, draft_id, "publish"), 409, "invalid_transition")
    assert problem["detail"].endswith("'cancelled' is final.")


def test_publish_draft_unknown_author_names_rpps_of_the_directory(client: TestClient) -> None:
    draft_id = create_draft(client, {"recipient_rpps": RECIPIENT})
    _drive(client, draft_id, "visit")
    response = _step(client, draft_id, "publish", json={"author_rpps": "10000000008"})
    [error] = assert_problem(response, 422, "validation_failed")["errors"]
    assert error["code"] == "unknown_author_rpps"
    assert f"e.g. {AUTHOR}, {RECIPIENT}" in error["message"]


def test_list_deliveries_bad_wait_speaks_of_the_query_parameter(client: TestClient) -> None:
    response = client.get("/_sandbox/webhooks/deliveries?wait=99", headers=auth())
    problem = assert_problem(response, 422, "validation_failed")
    assert (
        problem["detail"]
        == "The query parameter wait is not valid; see `errors`. Nothing was done."
    )
    [error] = problem["errors"]
    assert (error["field"], error["code"]) == ("wait", "less_than_equal")
    assert error["message"].startswith("Query parameter wait: Input should be less than or equal")
    assert "Expected: Seconds (≤ 30, fractions allowed)" in error["message"]


def test_helpers_are_scoped_to_the_key(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    for step in ("visit", "publish", "complete", "cancel"):
        assert_problem(_step(client, draft_id, step, key=KEY_B), 404, "draft_not_found")
    assert_problem(_step(client, "not-a-uuid", "visit"), 404, "draft_not_found")


def test_helpers_need_a_key(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(f"/_sandbox/drafts/{draft_id}/visit")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(client.get("/_sandbox/webhooks/deliveries"), 401, "unauthorized")
    assert_problem(
        client.put("/_sandbox/webhook", json={"url": "http://x.test"}), 401, "unauthorized"
    )


def test_set_webhook_generates_a_secret(client: TestClient) -> None:
    answer = client.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/h"}, headers=auth())
    assert answer.status_code == 200
    assert answer.json()["secret"].startswith("whsec_")
    assert client.get("/_sandbox/webhook", headers=auth()).json() == answer.json()
    assert client.get("/_sandbox/webhook", headers=auth(KEY_B)).json() == {
        "url": None,
        "secret": None,
    }


def test_set_webhook_keeps_a_given_secret(client: TestClient) -> None:
    body = {"url": "https://vendor.test/h", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    assert client.put("/_sandbox/webhook", json=body, headers=auth()).json() == body


def test_put_webhook_without_secret_keeps_the_current_one(client: TestClient) -> None:
    first = client.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/a"}, headers=auth())
    moved = client.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/b"}, headers=auth())
    assert moved.status_code == 200
    assert moved.json() == {"url": "http://127.0.0.1:9/b", "secret": first.json()["secret"]}
    assert client.get("/_sandbox/webhook", headers=auth()).json() == moved.json()


def test_put_webhook_rotates_the_secret_only_when_asked(client: TestClient) -> None:
    first = client.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/a"}, headers=auth())
    body = {"url": "http://127.0.0.1:9/a", "rotate_secret": True}
    rotated = client.put("/_sandbox/webhook", json=body, headers=auth()).json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != first.json()["secret"]
    both = {**body, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    chosen = client.put("/_sandbox/webhook", json=both, headers=auth())
    assert chosen.json()["secret"] == both["secret"]  # a new secret, the one given


def test_delete_webhook_without_fixtures_webhook_answers_nulls(client: TestClient) -> None:
    client.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/a"}, headers=auth())
    nulls = {"url": None, "secret": None}
    answer = client.delete("/_sandbox/webhook", headers=auth())
    assert (answer.status_code, answer.json()) == (200, nulls)
    assert client.get("/_sandbox/webhook", headers=auth()).json() == nulls
    assert client.delete("/_sandbox/webhook", headers=auth()).json() == nulls  # idempotent
    assert_problem(client.delete("/_sandbox/webhook"), 401, "unauthorized")


def test_delete_webhook_returns_to_the_fixtures_webhook(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(
        "api_keys:\n  - key: k-hooked\n    name: Hooked\n"
        "    webhook_url: http://127.0.0.1:9000/hook\n"
        "    webhook_secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
        "practitioners: []\n"
    )
    fixture_hook = {
        "url": "http://127.0.0.1:9000/hook",
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    settings = Settings(data_dir=tmp_path / "data", fixtures=fixtures)
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        mine = client.put(
            "/_sandbox/webhook", json={"url": "http://127.0.0.1:9/mine"}, headers=auth("k-hooked")
        )
        assert mine.json() == {**fixture_hook, "url": "http://127.0.0.1:9/mine"}  # secret kept
        answer = client.delete("/_sandbox/webhook", headers=auth("k-hooked"))
        assert (answer.status_code, answer.json()) == (200, fixture_hook)
        assert client.get("/_sandbox/webhook", headers=auth("k-hooked")).json() == fixture_hook


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.0.1:8443/hook",
        "http://2852039166/",  # 169.254.169.254, as the system resolver reads it
    ],
)
def test_put_webhook_refuses_a_link_local_target(client: TestClient, url: str) -> None:
    before = client.get("/_sandbox/webhook", headers=auth()).json()
    response = client.put("/_sandbox/webhook", json={"url": url}, headers=auth())
    assert_problem(response, 422, "validation_failed")
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("url", "link_local_target")
    assert client.get("/_sandbox/webhook", headers=auth()).json() == before  # nothing stored


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/h",
        "http://[::1]:9/h",
        "http://10.0.0.7/h",
        "http://192.168.1.20/h",
        "http://172.17.0.1:9000/h",
        "http://host.docker.internal:9000/h",
    ],
)
def test_put_webhook_allows_loopback_and_private_targets(client: TestClient, url: str) -> None:
    response = client.put("/_sandbox/webhook", json={"url": url}, headers=auth())
    assert (response.status_code, response.json()["url"]) == (200, url)


@pytest.mark.parametrize("body", [{"url": "javascript:alert(1)"}, {"url": ""}, {}, []])
def test_set_webhook_rejects_a_bad_url(client: TestClient, body: object) -> None:
    assert_problem(
        client.put("/_sandbox/webhook", json=body, headers=auth()), 422, "validation_failed"
    )


def test_list_deliveries_wait_answers_once_an_event_exists(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    _drive(client, draft_id, "visit", "publish")
    started = time.monotonic()
    items = client.get("/_sandbox/webhooks/deliveries?wait=10", headers=auth()).json()["items"]
    assert time.monotonic() - started < 5
    [item] = items
    assert set(item) >= {"id", "webhook_id", "draft_id", "status", "url", "payload", "attempts"}
    assert item["draft_id"] == draft_id
    assert item["payload"]["data"]["status"] == "in_progress"
    assert client.get("/_sandbox/webhooks/deliveries", headers=auth(KEY_B)).json() == {"items": []}


def test_list_deliveries_wait_times_out_empty(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    _drive(client, draft_id, "cancel")
    [item] = client.get("/_sandbox/webhooks/deliveries", headers=auth()).json()["items"]
    started = time.monotonic()
    response = client.get(
        f"/_sandbox/webhooks/deliveries?after={item['id']}&wait=0.3", headers=auth()
    )
    assert response.json() == {"items": []}
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    "query", ["wait=31", "wait=-1", "wait=abc", "wait=nan", "after=unknown", "after=%00"]
)
def test_list_deliveries_rejects_bad_parameters(client: TestClient, query: str) -> None:
    response = client.get(f"/_sandbox/webhooks/deliveries?{query}", headers=auth())
    assert_problem(response, 422, "validation_failed")


@pytest.mark.parametrize("delivery_id", ["nope", "%00", "0" * 36])
def test_redeliver_unknown_delivery(client: TestClient, delivery_id: str) -> None:
    url = f"/_sandbox/webhooks/deliveries/{delivery_id}/redeliver"
    assert_problem(client.post(url, headers=auth()), 404, "delivery_not_found")


def test_get_report(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    _drive(client, draft_id, "visit", "publish")
    url = f"/api/interop/v1/drafts/{draft_id}/report"
    assert_problem(client.get(url, headers=auth()), 409, "report_not_ready")
    _step(client, draft_id, "complete", json={"report_text": "Avis rendu: RAS."})
    assert_problem(client.get(url, headers=auth(KEY_B)), 404, "draft_not_found")
    response = client.get(url, headers=auth())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Avis rendu: RAS." in text
    assert "SANDBOX" in text


def test_get_report_renders_once(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    renders: list[str] = []
    render = reports.render_report

    def counted(draft: Draft, **kw: Any) -> bytes:
        renders.append(draft.id)
        return render(draft, **kw)

    monkeypatch.setattr(reports, "render_report", counted)
    draft_id = create_draft(client, READY)
    _drive(client, draft_id, "visit", "publish", "complete")
    url = f"/api/interop/v1/drafts/{draft_id}/report"
    first, second = (client.get(url, headers=auth()) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert renders == [draft_id]


def test_reset_vendor_deletes_a_stored_report(client: TestClient) -> None:
    draft_id = create_draft(client, READY)
    _drive(client, draft_id, "visit", "publish", "complete")
    url = f"/api/interop/v1/drafts/{draft_id}/report"
    assert client.get(url, headers=auth()).status_code == 200
    assert client.post("/_sandbox/reset", headers=auth()).json()["deleted"]["drafts"] == 1
    assert_problem(client.get(url, headers=auth()), 404, "draft_not_found")


def test_inbox_records_any_request(client: TestClient) -> None:
    answer = client.post(
        "/_sandbox/inbox/demo",
        content=b"\xff\x00binary",
        headers={"Authorization": "Bearer secret-value", "X-Test": "1"},
    )
    assert answer.status_code == 200
    [item] = client.get("/_sandbox/inbox/demo").json()["items"]
    assert item["id"] == answer.json()["id"]
    assert item["method"] == "POST"
    assert item["headers"]["x-test"] == "1"
    assert item["headers"]["authorization"] == "[redacted]"
    assert (item["body_encoding"], item["size"]) == ("base64", 8)
    assert client.get("/_sandbox/inbox/other").json() == {"items": []}
    after = client.get(f"/_sandbox/inbox/demo?after={item['id']}&wait=0.1").json()
    assert after == {"items": []}


def test_inbox_keeps_the_newest_items(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.sandbox.inbox.KEEP_PER_NAME", 2)
    for n in range(3):
        client.post("/_sandbox/inbox/demo", content=str(n).encode())
    items = client.get("/_sandbox/inbox/demo").json()["items"]
    assert [i["body"] for i in items] == ["2", "1"]


def test_inbox_limits(client: TestClient) -> None:
    assert_problem(
        client.post("/_sandbox/inbox/bad%20name", content=b"x"), 422, "validation_failed"
    )
    big = b"x" * (1024 * 1024 + 1)
    assert_problem(client.post("/_sandbox/inbox/demo", content=big), 413, "body_too_large")


@pytest.fixture
def admin_client(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "d", database_url=database_url, admin_token="adm")
    with TestClient(create_app(settings)) as test_client:
        wait_ready(test_client)
        yield test_client


def test_inbox_listing_is_admin_scope(admin_client: TestClient) -> None:
    assert admin_client.post("/_sandbox/inbox/demo", content=b"{}").status_code == 200
    response = admin_client.get("/_sandbox/inbox/demo")
    assert_problem(response, 401, "admin_unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(
        admin_client.get("/_sandbox/inbox/demo", headers=auth("nope")), 401, "admin_unauthorized"
    )
    ok = admin_client.get("/_sandbox/inbox/demo", headers={"Authorization": "Bearer adm"})
    assert len(ok.json()["items"]) == 1


def test_openapi_marks_the_sandbox_defined_parts(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    sandbox = {p: ops for p, ops in paths.items() if p.startswith("/_sandbox")}
    assert len(sandbox) >= 8
    for ops in sandbox.values():
        for op in ops.values():
            assert op["tags"] == ["Sandbox-defined"]
    report = paths["/api/interop/v1/drafts/{draft_id}/report"]["get"]
    assert "Sandbox-defined" in report["tags"]
    assert "application/pdf" in report["responses"]["200"]["content"]


def test_notifications_reach_a_real_receiver(client: TestClient) -> None:
    receiver = Receiver().start()
    try:
        secret = client.put("/_sandbox/webhook", json={"url": receiver.url}, headers=auth())
        receiver.secret = secret.json()["secret"]
        context = {"dossier": {"id": "Ü-1", "liste": [1, {"a": None}]}, "texte": "l'été 😀"}
        draft_id = create_draft(client, {**READY, "context": context})
        _drive(client, draft_id, "visit", "publish", "complete")
        received = receiver.wait_for(2)
        assert all(r.verified for r in received)
        assert [r.payload["data"]["status"] for r in received] == ["in_progress", "completed"]
        assert all(r.payload["data"]["context"] == context for r in received)
        assert received[1].payload["data"]["report_url"].endswith(f"/{draft_id}/report")
    finally:
        receiver.stop()
