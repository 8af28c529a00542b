"""The dashboard's clock and snapshots in a real Chromium against a real server.

"Avancer l'horloge" shows what it will do for the key and does it; a snapshot exported
with the button imports back with the file picker, and a damaged one is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.server import SandboxServer
from tests.helpers import AUTHOR, SCENARIO_PRACTITIONERS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TOKEN = "clock-e2e-91d2"
FIXTURES = Path(__file__).with_name("clock_fixtures.yaml")  # answers after an hour


@pytest.fixture
def sandbox(tmp_path: Path, database_url: str | None) -> Iterator[SandboxServer]:
    env = {"OMNIDOC_ADMIN_TOKEN": TOKEN, "OMNIDOC_FIXTURES": str(FIXTURES)}
    if database_url:
        env["OMNIDOC_DATABASE_URL"] = database_url
    server = SandboxServer(tmp_path / "data", env=env).start()
    yield server
    server.stop()


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer sandbox-key-a"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=30) as client:
        # Delivered at once to the built-in inbox: no retry is scheduled.
        inbox = f"{sandbox.base_url}/_sandbox/inbox/clock"
        assert client.put("/_sandbox/webhook", json={"url": inbox}).status_code == 200
        yield client


@pytest.fixture
def board(browser: Browser, sandbox: SandboxServer) -> Iterator[Page]:
    context = browser.new_context(base_url=sandbox.base_url, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Jeton d'administration").fill(TOKEN)
    page.get_by_role("button", name="Ouvrir le tableau de bord").click()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    yield page
    context.close()


def _published(api: httpx.Client) -> str:
    body = {"author_rpps": AUTHOR, "recipient_rpps": SCENARIO_PRACTITIONERS[0]}
    draft_id: str = api.post("/api/interop/v1/drafts", json=body).json()["id"]
    for step in ("visit", "publish"):
        assert api.post(f"/_sandbox/drafts/{draft_id}/{step}").status_code == 200
    return draft_id


def test_avancer_l_horloge_shows_and_performs_the_moves(board: Page, api: httpx.Client) -> None:
    draft_id = _published(api)
    item = board.locator(f"#drafts .item[data-key='{draft_id}']")
    expect(item).to_have_attribute("data-status", "in_progress")
    board.get_by_label("Horloge de la clé").select_option("sandbox-key-a")
    board.get_by_label("Délai").select_option("60")
    expect(board.locator("#clock-preview")).to_have_text(
        "Délai de 1 minute : rien n'est prévu pour cette clé."
    )
    board.get_by_label("Délai").select_option("3600")
    expect(board.locator("#clock-preview")).to_contain_text("Délai de 1 heure : 1 action prévue")
    expect(board.locator("#clock-moves li")).to_have_count(1)
    expect(board.locator("#clock-moves li")).to_contain_text(
        "Réponse automatique du praticien de scénario"
    )

    board.get_by_role("button", name="Avancer l'horloge").click()
    expect(board.locator("#clock-done")).to_have_text(
        "Horloge avancée : 1 réponse automatique et 0 nouvel essai de notification."
    )
    expect(item).to_have_attribute("data-status", "completed")
    expect(board.locator("#clock-moves li")).to_have_count(0)


def test_a_snapshot_exported_with_the_button_imports_back(
    board: Page, api: httpx.Client, tmp_path: Path
) -> None:
    kept = _published(api)
    with board.expect_download() as download_info:
        board.get_by_role("link", name="Exporter un instantané").click()
    snapshot = tmp_path / "snapshot.tar"
    download_info.value.save_as(snapshot)
    later = api.post("/api/interop/v1/drafts", json={"context": {"later": True}}).json()["id"]
    expect(board.locator(f"#drafts .item[data-key='{later}']")).to_have_count(1)

    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(snapshot.read_bytes()[:-5000])
    board.get_by_label("Importer un instantané").set_input_files(damaged)
    board.get_by_role("button", name="Importer…").click()
    board.get_by_role("button", name="Oui, tout remplacer").click()
    expect(board.locator("#snapshot-failed")).to_contain_text(
        "Instantané refusé : rien n'a été modifié."
    )
    expect(board.locator(f"#drafts .item[data-key='{later}']")).to_have_count(1)

    board.get_by_label("Importer un instantané").set_input_files(snapshot)
    board.get_by_role("button", name="Importer…").click()
    board.get_by_role("button", name="Oui, tout remplacer").click()
    expect(board.locator("#snapshot-done")).to_have_text(
        "Instantané importé : 1 demande, 0 pièce jointe."
    )
    expect(board.locator(f"#drafts .item[data-key='{later}']")).to_have_count(0)
    expect(board.locator(f"#drafts .item[data-key='{kept}']")).to_have_count(1)
