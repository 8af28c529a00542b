"""The integration test kit (SPEC §9) judging scripted vendors against a real server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.e2e.server import MakeServer, SandboxServer, console_script
from tests.receiver_checks.receivers import SECRET, correct, serving

pytestmark = pytest.mark.e2e

REQUIRED = [
    "create_valid",
    "context_sent",
    "validation_error_fixed",
    "files_before_visit",
    "multiple_files",
    "redirect_visited",
    "no_upload_after_visit",
    "webhook_acknowledged",
    "receiver_check_passed",
    "report_fetched",
]
# Synthetic, and distinctive: none of these may appear in a report.
PATIENT = {
    "first_name": "Ombeline",
    "last_name": "Zorglubien",
    "nir": "194095915812390",
    "birth_date": "1994-09-10",
    "phone": "0611223344",
}
TEXT = "Lésion pigmentée Quetzalcoatl à évaluer"
PATIENT_VALUES = [*PATIENT.values(), TEXT, "Zorglubien", "0611223344"]
GOOD_BODY = {
    "author_rpps": "10002170750",
    "recipient_rpps": "10001234565",
    "patient": PATIENT,
    "text": TEXT,
    "context": {"id": "dossier-42"},
}
BAD_BODY = {**GOOD_BODY, "author_rpps": "1111111111"}  # the document's 10-digit example
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% synthetic\n"


def vendor(server: SandboxServer, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=40
    )


def results(session: dict[str, Any]) -> dict[str, str]:
    return {t["name"]: t["result"] for t in session["tests"]}


def kit_test(session: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in session["tests"] if t["name"] == name)


def poll_session(
    client: httpx.Client, session_id: str, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        session: dict[str, Any] = client.get(f"/_sandbox/test-sessions/{session_id}").json()
        if until(session) or time.monotonic() > deadline:
            return session
        time.sleep(0.1)


def open_session(client: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = client.post("/_sandbox/test-sessions", json=body)
    assert answer.status_code == 201, answer.text
    session: dict[str, Any] = answer.json()
    return session


def upload_two(client: httpx.Client, draft_id: str) -> httpx.Response:
    files = [("file", ("a.png", PNG, "image/png")), ("file", ("b.pdf", PDF, "application/pdf"))]
    return client.post(f"/api/interop/v1/drafts/{draft_id}/files/", files=files)


def create_and_visit(client: httpx.Client) -> str:
    created = client.post("/api/interop/v1/drafts", json=GOOD_BODY)
    assert created.status_code == 200, created.text
    draft_id: str = created.json()["id"]
    assert upload_two(client, draft_id).status_code == 200
    # The user follows redirect_url: the page's first GET is the visit.
    assert httpx.get(created.json()["redirect_url"], timeout=30).status_code == 200
    return draft_id


def publish_and_complete(client: httpx.Client, draft_id: str) -> None:
    assert client.post(f"/_sandbox/drafts/{draft_id}/publish").status_code == 200
    assert client.post(f"/_sandbox/drafts/{draft_id}/complete").status_code == 200


def receiver_check(client: httpx.Client, **body: str) -> dict[str, Any]:
    """A receiver check (§8) of the key, waited for until it is finished."""
    started = client.post("/_sandbox/receiver-checks", json=body)
    assert started.status_code == 201, started.text
    check: dict[str, Any] = started.json()
    while check["status"] == "running":
        check = client.get(f"/_sandbox/receiver-checks/{check['id']}", params={"wait": 30}).json()
    return check


def good_vendor(client: httpx.Client, receiver: str) -> dict[str, Any]:
    webhook = {"url": receiver, "secret": SECRET}
    assert client.put("/_sandbox/webhook", json=webhook).status_code == 200
    session = open_session(client)
    # Nothing judged yet: every required test waits; the optional one is not asked for.
    assert {t["name"]: t["result"] for t in session["tests"] if not t["optional"]} == {
        name: "wait" for name in REQUIRED
    }
    assert results(session)["retry_after_respected"] == "skip"
    refused = client.post("/api/interop/v1/drafts", json=BAD_BODY)
    assert refused.status_code == 422
    draft_id = create_and_visit(client)  # the corrected body
    publish_and_complete(client, draft_id)
    report = client.get(f"/api/interop/v1/drafts/{draft_id}/report")
    assert report.status_code == 200
    assert receiver_check(client)["status"] == "passed"  # the key's webhook, signatures checked
    return poll_session(
        client, session["id"], lambda s: results(s)["webhook_acknowledged"] != "wait"
    )


def careless_vendor(client: httpx.Client, receiver: str) -> dict[str, Any]:
    session = open_session(client)
    # Its receiver is right, but it never registers it as the key's webhook.
    assert receiver_check(client, url=receiver, secret=SECRET)["status"] == "passed"
    assert client.post("/api/interop/v1/drafts", json=BAD_BODY).status_code == 422
    # The same body again, as JSON (keys in another order): it cannot pass either.
    again = dict(reversed(list(BAD_BODY.items())))
    assert client.post("/api/interop/v1/drafts", json=again).status_code == 422
    draft_id = create_and_visit(client)
    late = upload_two(client, draft_id)
    assert (late.status_code, late.json()["code"]) == (409, "draft_locked")
    publish_and_complete(client, draft_id)  # no webhook registered; never fetches the report
    return poll_session(
        client, session["id"], lambda s: results(s)["webhook_acknowledged"] != "wait"
    )


def finish(client: httpx.Client, session_id: str) -> dict[str, Any]:
    answer = client.post(f"/_sandbox/test-sessions/{session_id}/finish")
    assert answer.status_code == 200, answer.text
    finished: dict[str, Any] = answer.json()
    return finished


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def test_good_vendor_passes_and_gets_its_evidence(module_sandbox: SandboxServer) -> None:
    with vendor(module_sandbox, "sandbox-key-a") as client, serving(correct) as receiver:
        live = good_vendor(client, receiver)
        assert live["status"] == "running"
        done = finish(client, live["id"])
    got = results(done)
    assert got == {**{name: "pass" for name in REQUIRED}, "retry_after_respected": "skip"}
    assert done["status"] == "passed"
    check = kit_test(done, "receiver_check_passed")["evidence"]
    assert check[0]["kind"] == "receiver_check" and "none failed" in check[0]["summary"]
    for name in REQUIRED:
        if got[name] in ("pass", "fail"):
            assert kit_test(done, name)["evidence"], name
    for item in kit_test(done, "webhook_acknowledged")["evidence"]:
        assert item["kind"] == "delivery"
    fixed = kit_test(done, "validation_error_fixed")["evidence"]
    assert [e["summary"].split(" → ")[1][:3] for e in fixed] == ["422", "200"]
    assert done["finished_at"] is not None

    # The evidence file and JUnit: the requirement ids, no patient value.
    with vendor(module_sandbox, "sandbox-key-a") as client:
        pdf = client.get(f"/_sandbox/test-sessions/{done['id']}/report.pdf")
        junit = client.get(f"/_sandbox/test-sessions/{done['id']}/junit.xml")
        requirements = client.get("/_sandbox/requirements").json()["items"]
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "SANDBOX" in text and "Dossier de preuves" in text and "Vendor A" in text
    assert "Exigences et résultats" in text
    assert "Une création a reçu la réponse 200" in text.replace("\n", " ")
    ids = [r["id"] for r in requirements]
    assert any(i.startswith("OMD-") for i in ids) and any(i.startswith("SBX-") for i in ids)
    flat = text.replace("\n", "")
    for requirement_id in ids:
        assert requirement_id in flat, requirement_id
    for value in PATIENT_VALUES:
        assert value not in flat, value
        assert value not in junit.text, value
        assert value not in str(done), value
    suite = ET.fromstring(junit.content).find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == set(got)
    assert cases["create_valid"].find("failure") is None
    assert cases["retry_after_respected"].find("skipped") is not None


def test_careless_vendor_fails_exactly_what_it_did_wrong(module_sandbox: SandboxServer) -> None:
    with vendor(module_sandbox, "sandbox-key-b") as client, serving(correct) as receiver:
        live = careless_vendor(client, receiver)
        done = finish(client, live["id"])
        junit = client.get(f"/_sandbox/test-sessions/{done['id']}/junit.xml")
    got = results(done)
    failed = {name for name, result in got.items() if result == "fail"}
    assert failed == {
        "validation_error_fixed",
        "no_upload_after_visit",
        "webhook_acknowledged",
        "report_fetched",
    }
    assert done["status"] == "failed"
    assert {n for n, r in got.items() if r == "pass"} == set(REQUIRED) - failed
    assert got["retry_after_respected"] == "skip"
    message = {t["name"]: t["message"] for t in done["tests"]}
    assert "same body" in message["validation_error_fixed"]
    assert "draft_locked" in message["no_upload_after_visit"]
    assert "no webhook URL" in message["webhook_acknowledged"]
    assert "report" in message["report_fetched"]
    for name in failed:
        assert kit_test(done, name)["evidence"], name
    locked = kit_test(done, "no_upload_after_visit")["evidence"][0]
    assert locked["kind"] == "request" and "409" in locked["summary"]
    suite = ET.fromstring(junit.content).find("testsuite")
    assert suite is not None and suite.get("failures") == str(len(failed))
    for case in suite.iter("testcase"):
        failure = case.find("failure")
        assert (failure is not None) == (case.get("name") in failed)
        if failure is not None:
            assert failure.get("message") == message[str(case.get("name"))]
    # Finishing again changes nothing.
    with vendor(module_sandbox, "sandbox-key-b") as client:
        assert finish(client, done["id"]) == done


@pytest.mark.parametrize(("patience", "expected"), [(0.0, "fail"), (None, "pass")])
def test_resilience_impatient_and_patient_clients(
    module_sandbox: SandboxServer, patience: float | None, expected: str
) -> None:
    with vendor(module_sandbox, "sandbox-key-a") as client:
        session = open_session(client, resilience=True)
        assert results(session)["retry_after_respected"] == "wait"
        first = client.post("/api/interop/v1/drafts", json=GOOD_BODY)
        assert first.status_code == 503
        assert first.headers["retry-after"] == "2"
        # The impatient client retries at once; the patient one waits what it was told.
        wait = float(first.headers["retry-after"]) if patience is None else patience
        time.sleep(wait)
        assert client.post("/api/interop/v1/drafts", json=GOOD_BODY).status_code == 200
        done = finish(client, session["id"])
    test = kit_test(done, "retry_after_respected")
    assert test["result"] == expected, test
    assert len(test["evidence"]) == 2 and "Retry-After: 2" in test["evidence"][0]["summary"]
    if expected == "fail":
        assert "before its Retry-After" in test["message"]


def test_wait_until_finish_and_one_session_per_key(module_sandbox: SandboxServer) -> None:
    with (
        vendor(module_sandbox, "sandbox-key-a") as a,
        vendor(module_sandbox, "sandbox-key-b") as b,
    ):
        session = open_session(a, resilience=True)
        again = a.post("/_sandbox/test-sessions")
        assert (again.status_code, again.json()["code"]) == (409, "session_running")
        # Key isolation: B neither sees A's session nor counts in it.
        hidden = b.get(f"/_sandbox/test-sessions/{session['id']}")
        assert (hidden.status_code, hidden.json()["code"]) == (404, "test_session_not_found")
        assert b.post(f"/_sandbox/test-sessions/{session['id']}/finish").status_code == 404
        assert b.get(f"/_sandbox/test-sessions/{session['id']}/report.pdf").status_code == 404
        assert b.post("/api/interop/v1/drafts", json=GOOD_BODY).status_code == 200
        held = a.get(f"/_sandbox/test-sessions/{session['id']}", params={"wait": 0.3}).json()
        assert held["status"] == "running"
        assert set(results(held).values()) == {"wait"}
        # A waiting GET returns once the session is finished.
        with vendor(module_sandbox, "sandbox-key-a") as finisher:
            answered: list[dict[str, Any]] = []
            waiter = threading.Thread(
                target=lambda: answered.append(
                    a.get(f"/_sandbox/test-sessions/{session['id']}", params={"wait": 30}).json()
                )
            )
            waiter.start()
            done = finish(finisher, session["id"])
            waiter.join(timeout=40)
        assert answered and answered[0]["status"] == "failed" == done["status"]
        got = results(done)
        assert {got[name] for name in REQUIRED} == {"fail"}
        assert got["retry_after_respected"] == "omit"
        # The unused 503 was withdrawn with the session: the next create is served.
        assert a.post("/api/interop/v1/drafts", json=GOOD_BODY).status_code == 200
        assert a.post("/_sandbox/test-sessions").status_code == 201  # a new one may open
        latest = a.get("/_sandbox/requests").json()["items"]
        assert latest
        for item in a.get("/_sandbox/test-sessions/" + session["id"]).json()["tests"]:
            assert item["result"] in ("fail", "omit")
        # The vendor reset deletes the key's sessions with what they judged.
        assert a.post("/_sandbox/reset").status_code == 200
        assert a.get("/_sandbox/test-sessions/" + session["id"]).status_code == 404
        assert a.post("/_sandbox/test-sessions").status_code == 201  # none running any more


def test_session_survives_a_restart(make_server: MakeServer) -> None:
    server = make_server()
    with vendor(server, "sandbox-key-a") as client:
        session = open_session(client)
        assert client.post("/api/interop/v1/drafts", json=GOOD_BODY).status_code == 200
        before = client.get(f"/_sandbox/test-sessions/{session['id']}").json()
    assert results(before)["create_valid"] == "pass"
    server.stop()
    server.start()
    with vendor(server, "sandbox-key-a") as client:
        after = client.get(f"/_sandbox/test-sessions/{session['id']}").json()
        assert after == before
        assert client.post("/_sandbox/test-sessions").status_code == 409  # still running
        done = finish(client, session["id"])
    assert results(done)["create_valid"] == "pass"
    assert results(done)["context_sent"] == "pass"


# A vendor's own test, as the CLI runs it: it only knows SANDBOX_URL and SANDBOX_KEY.
VENDOR_TEST = """
import os, httpx
client = httpx.Client(base_url=os.environ["SANDBOX_URL"],
                      headers={"Authorization": "Bearer " + os.environ["SANDBOX_KEY"]})
created = client.post("/api/interop/v1/drafts",
                      json={"author_rpps": "10002170750", "context": {"id": "ci-1"}})
assert created.status_code == 200, created.text
"""


def test_cli_wraps_the_vendor_tests_and_writes_the_reports(
    module_sandbox: SandboxServer, tmp_path: Path
) -> None:
    junit, pdf = tmp_path / "kit.xml", tmp_path / "kit.pdf"
    kit = [console_script(), "test-kit", "--url", module_sandbox.base_url, "--key", "sandbox-key-b"]
    reports = ["--junit", str(junit), "--pdf", str(pdf), "--timeout", "60"]
    done = subprocess.run(
        [*kit, *reports, "--", sys.executable, "-c", VENDOR_TEST],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # The vendor's test passed, but most required tests were never shown: exit 1.
    assert done.returncode == 1, done.stdout + done.stderr
    lines = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines()[1:12]}
    assert lines["create_valid"] == lines["context_sent"] == "pass"
    assert lines["report_fetched"] == "fail"
    assert "command exit status: 0" in done.stdout
    assert "/test-kit/sessions/" in done.stdout
    suite = ET.fromstring(junit.read_bytes()).find("testsuite")
    assert suite is not None and suite.get("tests") == "11"
    assert "Dossier de preuves" in pdf_text(pdf.read_bytes())

    # A failing command fails the run too, and the reports are still written.
    junit.unlink()
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    done = subprocess.run(
        [*kit, *reports, "--", *failing], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "command exit status: 3" in done.stdout
    assert junit.exists()


def test_cli_says_why_it_cannot_open_a_session(module_sandbox: SandboxServer) -> None:
    with vendor(module_sandbox, "sandbox-key-b") as client:
        session = open_session(client)
        kit = [console_script(), "test-kit", "--url", module_sandbox.base_url]
        done = subprocess.run(
            [*kit, "--key", "sandbox-key-b", "--", sys.executable, "-c", "pass"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2 and "session_running" in done.stderr
        finish(client, session["id"])


def test_the_session_page_is_live_while_running_and_in_french(
    module_sandbox: SandboxServer,
) -> None:
    with vendor(module_sandbox, "sandbox-key-b") as client:
        session = open_session(client)
        assert client.post("/api/interop/v1/drafts", json=GOOD_BODY).status_code == 200
        page = httpx.get(f"{module_sandbox.base_url}/test-kit/sessions/{session['id']}")
        assert page.status_code == 200
        assert 'http-equiv="refresh"' in page.text  # reloads itself while it runs
        assert "Session de test" in page.text and "en cours" in page.text
        assert "Vendor B" in page.text and "OMD-CREATE-REQUEST" in page.text
        assert '<section class="card" data-test="create_valid" data-result="pass"' in page.text
        assert 'data-requirement="OMD-CREATE-AUTHOR" data-result="pass"' in page.text
        assert 'data-requirement="OMD-FILES-LOCKED" data-result="wait"' in page.text
        assert "Une création a reçu la réponse 200 avec un author_rpps de l'annuaire." in (
            page.text.replace("&#39;", "'")
        )
        for value in PATIENT_VALUES:
            assert value not in page.text
        finish(client, session["id"])
        page = httpx.get(f"{module_sandbox.base_url}/test-kit/sessions/{session['id']}")
        assert 'http-equiv="refresh"' not in page.text and "échouée" in page.text
    missing = httpx.get(f"{module_sandbox.base_url}/test-kit/sessions/nope")
    assert missing.status_code == 404 and "Session de test introuvable" in missing.text


def test_a_session_reads_the_same_on_every_worker(make_server: MakeServer) -> None:
    server = make_server(None, "--workers", "2")
    with vendor(server, "sandbox-key-b") as client, serving(correct) as receiver:
        live = careless_vendor(client, receiver)  # its calls spread over both workers
        # New connections land on either worker: each reads the same judgement.
        for _ in range(6):
            with vendor(server, "sandbox-key-b") as other:
                again = other.get(f"/_sandbox/test-sessions/{live['id']}").json()
            assert results(again) == results(live)
        done = finish(client, live["id"])
    assert results(done)["no_upload_after_visit"] == "fail"
    assert results(done)["receiver_check_passed"] == "pass"


PATIENT_VENDOR_TEST = """
import os, time, httpx
client = httpx.Client(base_url=os.environ["SANDBOX_URL"],
                      headers={"Authorization": "Bearer " + os.environ["SANDBOX_KEY"]})
body = {"author_rpps": "10002170750", "context": {"id": "ci-2"}}
created = client.post("/api/interop/v1/drafts", json=body)
while created.status_code == 503:
    time.sleep(float(created.headers["retry-after"]))
    created = client.post("/api/interop/v1/drafts", json=body)
assert created.status_code == 200, created.text
"""


def test_cli_resilience_judges_the_wrapped_client(
    module_sandbox: SandboxServer, tmp_path: Path
) -> None:
    kit = [console_script(), "test-kit", "--url", module_sandbox.base_url, "--key", "sandbox-key-b"]
    done = subprocess.run(
        [*kit, "--resilience", "--", sys.executable, "-c", PATIENT_VENDOR_TEST],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "command exit status: 0" in done.stdout, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("retry_after_respected"))
    assert line.split()[2] == "pass", done.stdout
