"""A restart with long-polls open (SPEC §6): at SIGTERM the held `?wait=` requests answer
at once as if their time were up and the process exits within 2 s; a dashboard left open
is live again soon after the server is back."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.server import MakeServer, SandboxServer

pytestmark = pytest.mark.e2e

KEY = {"Authorization": "Bearer sandbox-key-a"}
# SPEC §6: the process exits within 2 s of SIGTERM.
EXIT_WITHIN_SECONDS = 2.0


def _held(server: SandboxServer, path: str, answers: dict[str, httpx.Response]) -> threading.Thread:
    """A long-poll of 30 s on `path`, its answer kept in `answers`."""

    def poll() -> None:
        with httpx.Client(base_url=server.base_url, headers=KEY, timeout=60) as client:
            answers[path] = client.get(path)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    return thread


def _wait_for_console(server: SandboxServer, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log():
        assert time.monotonic() < deadline, f"no {text!r} on the console:\n{server.log()}"
        time.sleep(0.05)


def test_sigterm_answers_held_long_polls_and_exits_within_2_s(make_server: MakeServer) -> None:
    server = make_server()
    with httpx.Client(base_url=server.base_url, headers=KEY) as client:
        cursor = client.get("/_sandbox/admin/changes").json()["cursor"]
    paths = [
        "/_sandbox/webhooks/deliveries?wait=30",
        "/_sandbox/requests?wait=30",
        f"/_sandbox/admin/changes?wait=30&since={cursor}",
    ]
    answers: dict[str, httpx.Response] = {}
    threads = [_held(server, path, answers) for path in paths]
    # Each held request has been read by the server once it polls the database; give the
    # three a moment to be in flight (none can answer before 30 s otherwise).
    time.sleep(1.0)
    assert answers == {}, "a long-poll answered before its time"
    assert server.process is not None
    process = server.process
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    exited_after = time.monotonic() - started
    for thread in threads:
        thread.join(timeout=10)
    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(
        paths, 200
    )
    assert answers[paths[0]].json() == {"items": []}
    assert answers[paths[2]].json() == {"cursor": cursor}  # as if its time were up
    assert exited_after < EXIT_WITHIN_SECONDS, f"exited {exited_after:.2f} s after SIGTERM"
    server.process = None


@pytest.mark.browser
def test_dashboard_is_live_again_soon_after_a_restart(
    make_server: MakeServer, browser: Browser, tmp_path: Path
) -> None:
    server = make_server()  # admin scope open: no token
    context = browser.new_context(base_url=server.base_url, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto("/")
        badge = page.locator("#live")
        expect(badge).to_have_attribute("data-state", "live", timeout=15_000)
        server.stop()
        expect(badge).to_have_attribute("data-state", "offline", timeout=15_000)
        expect(badge).to_have_text("Hors ligne")
        # Down for a while, as in a real restart: a growing back-off would by now wait
        # several seconds between two tries.
        time.sleep(6)
        server.start()  # same port and data dir; returns once /readyz answers 200
        # SPEC §6: live again within 2 s of /readyz (a margin for a loaded machine).
        expect(badge).to_have_attribute("data-state", "live", timeout=4_000)
        expect(badge).to_have_text("En direct")
    finally:
        context.close()
