"""The dashboard in a real Chromium against a real server with OMNIDOC_ADMIN_TOKEN set.

Each test signs in through the dashboard's form, then watches activity made over the
API: the page must follow it live (no reload), errors next to their fields, "Renvoyer"
making a new attempt at a real receiver, and the link builder's link opening prefilled.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.server import SandboxServer
from tests.helpers import AUTHOR, RECIPIENT, SCENARIO_PRACTITIONERS
from tests.receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TOKEN = "dashboard-e2e-4c1f"


@pytest.fixture(scope="module")
def sandbox(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[SandboxServer]:
    """One server for the module; a failed attempt is retried only after a minute."""
    env = {
        "OMNIDOC_ADMIN_TOKEN": TOKEN,
        "OMNIDOC_WEBHOOK_RETRY_SCHEDULE": "60",
        "OMNIDOC_WEBHOOK_TIMEOUT": "3",
    }
    if module_database_url:
        env["OMNIDOC_DATABASE_URL"] = module_database_url
    data_dir: Path = tmp_path_factory.mktemp("dashboard") / "data"
    server = SandboxServer(data_dir, env=env).start()
    yield server
    server.stop()


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer sandbox-key-a"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=30) as client:
        yield client


def open_dashboard(browser: Browser, sandbox: SandboxServer, **options: Any) -> Page:
    """A fresh browser: the dashboard asks for the token, once."""
    context = browser.new_context(base_url=sandbox.base_url, locale="fr-FR", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Jeton d'administration").fill(TOKEN)
    page.get_by_role("button", name="Ouvrir le tableau de bord").click()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads
    return page


@pytest.fixture
def board(browser: Browser, sandbox: SandboxServer) -> Iterator[Page]:
    page = open_dashboard(browser, sandbox)
    yield page
    page.context.close()


def draft_item(page: Page, draft_id: str) -> Any:
    return page.locator(f"#drafts .item[data-key='{draft_id}']")


def test_dashboard_asks_for_the_token_once(board: Page, sandbox: SandboxServer) -> None:
    cookies = {c["name"]: c for c in board.context.cookies()}
    session = cookies["omnidoc_sandbox_admin"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert TOKEN not in session["value"]
    assert board.evaluate("document.cookie") == ""  # no script can read it
    board.reload()
    expect(board.locator("#drafts-title")).to_be_visible()
    expect(board.get_by_label("Jeton d'administration")).to_have_count(0)
    assert board.url == sandbox.base_url + "/"  # never in a URL
    board.get_by_role("button", name="Se déconnecter").click()
    expect(board.get_by_label("Jeton d'administration")).to_be_visible()


def test_dashboard_follows_a_draft_live(board: Page, api: httpx.Client) -> None:
    name = '<img src=/x onerror="window.__pwned=1">'
    body = {
        "patient": {"first_name": name},
        "author_rpps": AUTHOR,
        "recipient_rpps": SCENARIO_PRACTITIONERS[0],  # answers by itself 3 s after publication
    }
    draft_id = api.post("/api/interop/v1/drafts", json=body).json()["id"]
    item = draft_item(board, draft_id)
    expect(item).to_have_attribute("data-status", "temporary")
    expect(item.locator(".item__title")).to_have_text(name)
    assert item.locator("img").count() == 0

    for step in ("visit", "publish"):
        assert api.post(f"/_sandbox/drafts/{draft_id}/{step}").status_code == 200
    expect(item).to_have_attribute("data-status", "in_progress")
    expect(item.locator("[data-step='Publiée']")).to_have_class("timeline__step is-done")
    expect(item.locator(".autopilot")).to_contain_text("Réponse automatique dans")

    expect(item).to_have_attribute("data-status", "completed")  # no helper called
    expect(item.locator("[data-step='Terminée']")).to_have_class("timeline__step is-done")
    assert board.evaluate("window.__sameDocument") is True
    assert board.evaluate("window.__pwned") is None


def test_dashboard_shows_errors_next_to_their_fields(board: Page, api: httpx.Client) -> None:
    bad = {"patient": {"nir": "11111111111111", "phone": "066666666"}, "text": "x"}
    assert api.post("/api/interop/v1/drafts", json=bad).status_code == 422
    call = board.locator("#requests .item").first
    expect(call.locator(".badge")).to_have_text("422")
    issues = call.locator(".issues")
    expect(issues).to_be_visible()
    for field, message in (
        ("patient.nir", "15 caractères attendus"),
        ("patient.phone", "Doit comporter 10 chiffres"),
    ):
        term = issues.locator("dt", has_text=field)
        expect(term).to_have_count(1)
        beside = term.evaluate("dt => dt.nextElementSibling.textContent")
        assert message in beside, beside


def test_dashboard_explains_every_error_in_french(board: Page, api: httpx.Client) -> None:
    missing = "/api/interop/v1/drafts/00000000-0000-4000-8000-000000000000"
    assert api.get(missing).status_code == 404
    call = board.locator("#requests .item", has_text="GET").first
    expect(call.locator(".badge")).to_have_text("404")
    issues = call.locator(".issues")
    expect(issues.locator("dt")).to_have_text("(requête)")  # a GET had no body
    expect(issues.locator(".issues__message")).to_have_text(
        "Aucune demande avec cet identifiant n'appartient à cette clé API."
    )
    expect(issues.locator(".issues__wire")).to_contain_text("draft_not_found")
    expect(issues.locator(".issues__wire")).to_contain_text("No draft with this id")

    sent = api.post(
        "/api/interop/v1/drafts",
        content=b'{"patient": ',
        headers={"Content-Type": "application/json"},
    )
    assert sent.status_code == 400
    call = board.locator("#requests .item", has_text="POST").first
    expect(call.locator(".badge")).to_have_text("400")
    expect(call.locator(".issues dt")).to_have_text("(corps de la requête)")
    expect(call.locator(".issues__message")).to_contain_text("n'est pas un JSON valide")
    expect(call.locator(".issues__wire")).to_contain_text("invalid_json")


def test_dashboard_shows_paris_time(board: Page, api: httpx.Client) -> None:
    draft_id = api.post("/api/interop/v1/drafts", json={}).json()["id"]
    created = api.get(f"/api/interop/v1/drafts/{draft_id}").json()
    at = datetime.fromisoformat(created["created_at"].replace("Z", "+00:00"))
    paris = at.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M:%S")
    item = draft_item(board, draft_id)
    # Today's times show the clock only; another day's, the date first (DD/MM/YYYY).
    expect(item.locator("[data-step='Créée'] .timeline__time")).to_contain_text(paris)
    expect(board.locator(".lead").first).to_contain_text("Heures de Paris (Europe/Paris).")


def test_dashboard_renvoyer_makes_a_new_attempt(board: Page, sandbox: SandboxServer) -> None:
    receiver = Receiver(statuses=[500]).start()  # the first attempt fails, then 204
    headers = {"Authorization": "Bearer sandbox-key-b"}
    try:
        with httpx.Client(base_url=sandbox.base_url, headers=headers) as vendor_b:
            hook = vendor_b.put("/_sandbox/webhook", json={"url": receiver.url})
            receiver.secret = hook.json()["secret"]
            body = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT}
            draft_id = vendor_b.post("/api/interop/v1/drafts", json=body).json()["id"]
            for step in ("visit", "publish"):
                assert vendor_b.post(f"/_sandbox/drafts/{draft_id}/{step}").status_code == 200
        receiver.wait_for(1)
        board.get_by_label("Clé API").select_option("sandbox-key-b")
        delivery = board.locator("#deliveries .item").first
        expect(delivery.locator(".attempt")).to_have_count(1)
        expect(delivery.locator(".attempt")).to_contain_text("HTTP 500")
        error_cell = delivery.locator(".attempt td[data-label='Erreur']")
        expect(error_cell).to_have_text("Réponse HTTP 500 du récepteur (2xx attendu)")
        assert error_cell.get_attribute("title") == "non-2xx response (500)"  # the worker's words
        expect(delivery).to_have_attribute("data-status", "pending")

        delivery.get_by_role("button", name="Renvoyer").focus()
        board.keyboard.press("Enter")  # from the keyboard: the focus must survive the update

        expect(delivery.locator(".attempt")).to_have_count(2)
        expect(delivery.locator(".attempt").nth(1)).to_contain_text("HTTP 204")
        expect(delivery).to_have_attribute("data-status", "delivered")
        assert board.evaluate("document.activeElement.dataset.focus") == "redeliver"
        first, second = receiver.wait_for(2)
        assert first.webhook_id == second.webhook_id
        assert second.verified
    finally:
        receiver.stop()


def test_dashboard_link_builder_opens_prefilled(board: Page, sandbox: SandboxServer) -> None:
    form = board.locator("#link-form")
    form.get_by_label("Prénom").fill("Amélie")
    form.get_by_label("Nom", exact=True).fill("D'Argent & Fils")
    form.get_by_label("Adresse").fill("3 rue des Lilas\n59000 Lille")
    form.get_by_label("NIR de l'assuré").fill("11111111111111")
    form.get_by_label("Médecin requis").select_option(RECIPIENT)
    nir = form.locator(".field[data-field='patient_nir']")
    expect(nir).to_have_class("field field--error")  # the server's rule, next to the field
    expect(nir).to_contain_text("14 reçus")
    summary = board.locator("#link-summary")
    expect(summary).to_contain_text("1 invalide : NIR de l'assuré.")
    form.get_by_label("Prénom").focus()
    summary.get_by_role("link", name="NIR de l'assuré").click()  # takes the user to it
    expect(form.get_by_label("NIR de l'assuré")).to_be_focused()
    assert "#" not in board.url
    link = board.locator("#link-output").input_value()
    assert link.startswith(f"{sandbox.base_url}/interop/drafts/new#patient_first_name=Am%C3%A9lie")
    assert "patient_address=3%20rue%20des%20Lilas%5Cn59000%20Lille" in link

    with board.context.expect_page() as opened:
        board.get_by_role("link", name="Ouvrir le lien").click()
    page = opened.value
    page.locator("#link-report").wait_for(state="visible")
    assert page.url == f"{sandbox.base_url}/interop/drafts/new"
    expect(page.get_by_label("Prénom")).to_have_value("Amélie")
    expect(page.get_by_label("Nom", exact=True)).to_have_value("D'Argent & Fils")
    expect(page.get_by_label("Adresse")).to_have_value("3 rue des Lilas\n59000 Lille")
    expect(page.get_by_label("Médecin requis")).to_have_value(RECIPIENT)
    expect(page.locator(".field[data-field='patient_nir']")).to_have_class("field field--error")


def test_dashboard_fits_a_phone(
    browser: Browser, sandbox: SandboxServer, api: httpx.Client
) -> None:
    page = open_dashboard(browser, sandbox, viewport={"width": 375, "height": 812})
    try:
        draft_id = api.post("/api/interop/v1/drafts", json={"text": "x" * 300}).json()["id"]
        expect(draft_item(page, draft_id)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        page.context.close()


def test_dashboard_resets_one_key_after_confirmation(
    board: Page, api: httpx.Client, sandbox: SandboxServer
) -> None:
    mine = api.post("/api/interop/v1/drafts", json={"author_rpps": AUTHOR}).json()["id"]
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": "Bearer sandbox-key-b"}, timeout=30
    ) as other:
        theirs = other.post("/api/interop/v1/drafts", json={"author_rpps": AUTHOR}).json()["id"]
        expect(draft_item(board, mine)).to_have_count(1)
        expect(draft_item(board, theirs)).to_have_count(1)

        board.get_by_label("Clé à réinitialiser").select_option("sandbox-key-a")
        board.get_by_role("button", name="Effacer les données de cette clé…").click()
        question = board.locator("#key-reset-question")
        expect(question).to_have_text(
            "Effacer les données de la clé Vendor A (sandbox-key-a) ? Son webhook est conservé. "
            "C'est définitif."
        )
        board.get_by_role("button", name="Annuler").last.click()  # nothing wiped yet
        expect(question).to_be_hidden()
        assert api.get(f"/api/interop/v1/drafts/{mine}").status_code == 200

        board.get_by_role("button", name="Effacer les données de cette clé…").click()
        board.get_by_role("button", name="Oui, effacer", exact=True).click()
        done = board.locator("#key-reset-done")
        expect(done).to_be_visible()
        expect(done).to_contain_text("Clé Vendor A (sandbox-key-a) réinitialisée")
        expect(draft_item(board, mine)).to_have_count(0)
        expect(draft_item(board, theirs)).to_have_count(1)
        assert api.get(f"/api/interop/v1/drafts/{mine}").status_code == 404
        assert other.get(f"/api/interop/v1/drafts/{theirs}").status_code == 200
    assert board.evaluate("window.__sameDocument") is True  # no reload


def test_dashboard_adds_and_revokes_a_key(board: Page, sandbox: SandboxServer) -> None:
    board.get_by_label("Nom de la clé").fill("Éditeur C")
    board.get_by_label("URL du webhook (facultative)").fill("http://127.0.0.1:9/hook")
    board.get_by_role("button", name="Ajouter la clé").click()
    added = board.locator("#key-added")
    expect(added).to_be_visible()
    key = board.locator("#key-added-key").inner_text()
    secret = board.locator("#key-added-secret").inner_text()
    assert key.startswith("sbx_") and secret.startswith("whsec_")
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as vendor:
        assert vendor.get("/_sandbox/webhook").json()["secret"] == secret  # usable at once
        item = board.locator(f"#keys .item[data-key='{key}']")
        expect(item).to_contain_text("Éditeur C")
        expect(board.locator("#key-reset-key option", has_text=key)).to_have_count(1)
        expect(board.locator("#keys").get_by_role("button", name="Révoquer…")).to_have_count(1)

        item.get_by_role("button", name="Révoquer…").click()
        expect(item.locator("[data-slot='revoke-question']")).to_have_text(
            f"Révoquer la clé Éditeur C ({key}) ? Les appels avec cette clé seront refusés "
            "(401) ; ses données restent visibles ici jusqu'à une réinitialisation."
        )
        item.get_by_role("button", name="Annuler").click()
        assert vendor.get("/_sandbox/webhook").status_code == 200  # nothing revoked yet
        item.get_by_role("button", name="Révoquer…").click()
        item.get_by_role("button", name="Oui, révoquer").click()
        expect(item).to_have_count(0)
        assert vendor.get("/_sandbox/webhook").status_code == 401
    expect(board.locator("#key-reset-key option", has_text=key)).to_have_count(0)
    assert board.evaluate("window.__sameDocument") is True  # no reload
