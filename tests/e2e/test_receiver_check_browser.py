"""The dashboard's "Récepteur" panel in a real Chromium against a real server: a check
run with one click, its cases arriving live, verdicts and hints in French."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Locator, Page, expect

from tests.e2e.server import SandboxServer
from tests.receiver_checks.receivers import SECRET, accepts_everything, correct, serving

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TOKEN = "receiver-panel-e2e-7d2a"


@pytest.fixture(scope="module")
def sandbox(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[SandboxServer]:
    env = {"OMNIDOC_ADMIN_TOKEN": TOKEN, "OMNIDOC_WEBHOOK_TIMEOUT": "5"}
    if module_database_url:
        env["OMNIDOC_DATABASE_URL"] = module_database_url
    data_dir: Path = tmp_path_factory.mktemp("receiver-panel") / "data"
    server = SandboxServer(data_dir, env=env).start()
    yield server
    server.stop()


@pytest.fixture
def page(browser: Browser, sandbox: SandboxServer) -> Iterator[Page]:
    context = browser.new_context(base_url=sandbox.base_url, locale="fr-FR")
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    # Script errors and CSP refusals; a problem answer (409) the panel explains is not one.

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            errors.append(message.text)

    def on_error(error: Error) -> None:
        errors.append(str(error))

    page.on("pageerror", on_error)
    page.on("console", on_console)
    page.goto("/")
    page.get_by_label("Jeton d'administration").fill(TOKEN)
    page.get_by_role("button", name="Ouvrir le tableau de bord").click()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    yield page
    context.close()
    assert errors == []


def _panel(page: Page, key: str) -> Locator:
    return page.locator(f'#receiver [data-owner-key="{key}"]')


def test_receiver_panel_shows_each_case_in_french(page: Page) -> None:
    panel = _panel(page, "sandbox-key-a")
    expect(panel.locator('[data-slot="summary"]')).to_have_text(
        "Aucune vérification pour cette clé."
    )
    with serving(accepts_everything) as url:
        panel.get_by_label("URL du récepteur (facultative)").fill(url)
        panel.get_by_label("Secret (facultatif)").fill(SECRET)
        panel.get_by_role("button", name="Lancer la vérification").click()
        expect(panel.locator('[data-slot="status"]')).to_have_text("Échouée")
    cases = panel.locator(".receiver__case")
    expect(cases).to_have_count(12)
    expect(panel.locator(".receiver__case .badge", has_text="Échec")).to_have_count(5)
    expect(panel.locator(".receiver__case .badge", has_text="Réussi")).to_have_count(7)
    bad = cases.filter(has_text="bad_signature")
    expect(bad).to_contain_text("Signé avec un autre secret : dernière réponse 200")
    expect(bad.locator('[data-slot="hint"]')).to_have_text(
        "Votre récepteur a accepté un corps signé avec un autre secret : vérifiez "
        "`webhook-signature` avec le secret du webhook avant d'analyser le corps."
    )
    expect(cases.filter(has_text="valid").first.locator('[data-slot="hint"]')).to_be_hidden()
    expect(panel.locator('[data-slot="summary"]')).to_contain_text(
        "12 cas sur 12 jugés, 5 en échec"
    )


def test_receiver_panel_passes_a_correct_receiver(page: Page) -> None:
    panel = _panel(page, "sandbox-key-b")
    with serving(correct) as url:
        panel.get_by_label("URL du récepteur (facultative)").fill(url)
        panel.get_by_label("Secret (facultatif)").fill(SECRET)
        panel.get_by_role("button", name="Lancer la vérification").click()
        expect(panel.locator('[data-slot="status"]')).to_have_text("Réussie")
    expect(panel.locator(".receiver__case .badge", has_text="Réussi")).to_have_count(12)


def test_receiver_panel_explains_a_key_without_webhook(page: Page) -> None:
    panel = _panel(page, "sandbox-key-a")
    panel.get_by_role("button", name="Lancer la vérification").click()
    expect(panel.get_by_role("alert")).to_have_text(
        "Cette clé n'a pas de webhook : indiquez une URL et un secret, ou enregistrez-en un "
        "avec PUT /_sandbox/webhook."
    )
