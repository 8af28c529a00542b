"""The pages in a real Chromium against a real server: the URL method and the redirect_url story.

States are checked over the API and notifications with a real signed-webhook receiver;
every request the browser makes is recorded, and must stay on the sandbox's origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from app import identifiers
from tests.e2e.server import SandboxServer
from tests.helpers import RECIPIENT, SCENARIO_PRACTITIONERS
from tests.omnidoc_examples import FULL_ADDRESS, FULL_EXAMPLE, PARTIAL_EXAMPLE, fragment
from tests.receiver import Received, Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

KEY = "sandbox-key-b"  # this module's own key on its server: its receiver sees only ours
NEW = "/interop/drafts/new"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@dataclass
class Tab:
    """A fresh browser context's page, and everything it did."""

    page: Page
    base_url: str
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_same_origin(self) -> None:
        assert self.requests, "the page made no request at all"
        foreign = [url for url in self.requests if not url.startswith(self.base_url + "/")]
        assert foreign == [], f"requests to another origin: {foreign}"


@pytest.fixture(scope="module")
def receiver(module_sandbox: SandboxServer) -> Iterator[Receiver]:
    running = Receiver().start()
    response = httpx.put(
        f"{module_sandbox.base_url}/_sandbox/webhook",
        json={"url": running.url},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert response.status_code == 200, response.text
    running.secret = response.json()["secret"]
    yield running
    running.stop()


@pytest.fixture
def api(module_sandbox: SandboxServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=module_sandbox.base_url, headers=headers, timeout=30) as client:
        yield client


def _open_tab(browser: Browser, server: SandboxServer, **options: Any) -> Iterator[Tab]:
    context = browser.new_context(base_url=server.base_url, locale="fr-FR", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    tab = Tab(page, server.base_url)

    def seen(request: Any) -> None:
        tab.requests.append(request.url)

    context.on("request", seen)

    def dismissed(dialog: Any) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismissed)
    yield tab
    context.close()


@pytest.fixture
def tab(browser: Browser, module_sandbox: SandboxServer) -> Iterator[Tab]:
    yield from _open_tab(browser, module_sandbox)


@pytest.fixture
def phone(browser: Browser, module_sandbox: SandboxServer) -> Iterator[Tab]:
    yield from _open_tab(browser, module_sandbox, viewport={"width": 375, "height": 812})


def prefill(tab: Tab, url_fragment: str) -> Page:
    """Open the URL method's page with this fragment; wait for the server's verdicts."""
    tab.page.goto(f"{NEW}#{url_fragment}")
    tab.page.locator("#link-report").wait_for(state="visible")
    return tab.page


def field_of(page: Page, name: str) -> Any:
    return page.locator(f".field[data-field='{name}']")


def verdict_of(page: Page, name: str) -> str | None:
    verdict: str | None = page.locator(
        f"#link-rows tr[data-parameter='{name}']"
    ).first.get_attribute("data-verdict")
    return verdict


def status_of(api: httpx.Client, draft_id: str) -> dict[str, Any]:
    response = api.get(f"/api/interop/v1/drafts/{draft_id}")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def events_for(receiver: Receiver, draft_id: str, count: int) -> list[Received]:
    def mine(received: list[Received]) -> list[Received]:
        return [r for r in received if r.payload["data"]["id"] == draft_id]

    return mine(receiver.wait_until(lambda received: len(mine(received)) >= count))


def test_url_method_partial_example_leaves_no_trace(
    tab: Tab, module_sandbox: SandboxServer
) -> None:
    page = prefill(tab, fragment(PARTIAL_EXAMPLE))
    assert page.url == module_sandbox.base_url + NEW
    assert page.evaluate("window.location.hash") == ""
    cdp = page.context.new_cdp_session(page)
    history = [entry["url"] for entry in cdp.send("Page.getNavigationHistory")["entries"]]
    assert history[-1] == module_sandbox.base_url + NEW  # replaced, not pushed
    assert history[:-1] == ["about:blank"]  # the new tab's own first entry, nothing else
    assert page.evaluate("window.history.length") == len(history)
    # The page promises exactly that, and says what it cannot remove (issue 19 item 11).
    note = " ".join(page.locator("#history-note").inner_text().split())
    assert "retirées de la barre d'adresse et de l'historique de cet onglet" in note
    assert "le navigateur a déjà enregistré le lien complet" in note
    assert "aucune page ne peut l'effacer" in note
    assert "fenêtre de navigation privée" in note and "préférez l'API" in note
    assert "11111111111111" not in module_sandbox.log()
    assert "Dupont" not in module_sandbox.log()


def test_url_method_partial_example_prefills_and_flags_the_nir(tab: Tab) -> None:
    page = prefill(tab, fragment(PARTIAL_EXAMPLE))
    expect(page.get_by_label("Prénom")).to_have_value("Pierre")
    expect(page.get_by_label("Nom", exact=True)).to_have_value("Dupont")
    expect(page.get_by_label("Sexe")).to_have_value("M")
    expect(page.get_by_label("Rang de naissance")).to_have_value("1")
    expect(page.get_by_label("Médecin requis")).to_have_value("10002170750")
    expect(page.get_by_label("NIR de l'assuré")).to_have_value("11111111111111")
    expect(page.get_by_label("NIR de l'assuré")).to_have_attribute("aria-invalid", "true")
    expect(field_of(page, "patient_nir")).to_have_class("field field--error")
    expect(field_of(page, "patient_nir")).to_contain_text("14 reçus")
    assert verdict_of(page, "patient_nir") == "error"
    assert verdict_of(page, "patient_first_name") == "ok"
    tab.assert_same_origin()


def test_url_method_full_example_flags_the_nirs_and_the_phone(tab: Tab) -> None:
    page = prefill(tab, fragment(FULL_EXAMPLE))
    expect(page.get_by_label("Adresse")).to_have_value(FULL_ADDRESS)
    expect(page.get_by_label("Question posée à l'expert")).to_have_value(
        "Le patient présente des signes de"
    )
    expect(page.get_by_label("Téléphone")).to_have_value("066666666")
    expect(page.get_by_label("E-mail")).to_have_value("louis.dupont@gmail.com")
    for name in ("patient_nir", "patient_nir_cert", "patient_phone"):
        expect(field_of(page, name)).to_have_class("field field--error")
        assert verdict_of(page, name) == "error", name
    expect(field_of(page, "patient_phone")).to_contain_text("Doit comporter 10 chiffres")
    expect(page.locator("#link-summary")).to_contain_text("18 paramètres reçus")
    expect(page.locator("#link-summary")).to_contain_text("3 invalides")
    tab.assert_same_origin()


def test_url_method_unknown_parameter_is_flagged(tab: Tab) -> None:
    page = prefill(tab, "patient_firstname=Pierre&patient_last_name=Dupont")
    assert verdict_of(page, "patient_firstname") == "unknown"
    row = page.locator("#link-rows tr[data-parameter='patient_firstname']")
    expect(row).to_contain_text("Vouliez-vous dire patient_first_name ?")
    expect(page.get_by_label("Prénom")).to_have_value("")
    expect(page.get_by_label("Nom", exact=True)).to_have_value("Dupont")


def test_url_method_markup_is_shown_as_text_and_never_runs(tab: Tab) -> None:
    script = "<script>window.__pwned = 1</script>"
    image = '<img src=/pwned-img onerror="window.__pwned = 2">'
    page = prefill(
        tab,
        f"text={script}&patient_first_name={image}&x{image}={image}".replace(" ", "%20"),
    )
    expect(page.get_by_label("Question posée à l'expert")).to_have_value(script)
    expect(page.get_by_label("Prénom")).to_have_value(image)
    expect(page.locator("#link-rows tr[data-parameter='text'] .value")).to_have_text(script)
    assert page.locator("#link-report img, #link-report script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert tab.dialogs == []
    assert not any("pwned" in url for url in tab.requests)
    tab.assert_same_origin()


def test_url_method_form_creates_a_draft_then_publishes(tab: Tab) -> None:
    page = prefill(tab, fragment(PARTIAL_EXAMPLE))
    first13 = "1940959158123"  # coherent with the example: a man born in September 1994
    nir = page.get_by_label("NIR de l'assuré")
    nir.fill(f"{first13}{identifiers.nir_key(first13):02d}")
    nir.blur()  # the page checks the corrected field again, with the server's rules
    expect(field_of(page, "patient_nir")).to_have_class("field")
    page.get_by_role("button", name="Créer la demande").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "draft")
    page.get_by_label("Dr Inès Lambert").check()
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_label("NIR de l'assuré")).to_have_value(nir.input_value())
    page.get_by_role("button", name="Publier la demande").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "in_progress")
    expect(page.locator("#participants")).to_contain_text("Dr Inès Lambert (vous)")
    expect(page.locator("#participants")).to_contain_text("Dr Camille Durand")
    tab.assert_same_origin()


def test_redirect_url_story(tab: Tab, api: httpx.Client, receiver: Receiver) -> None:
    created = api.post(
        "/api/interop/v1/drafts",
        json={
            "patient": {"first_name": "Jeanne", "last_name": "Martin", "gender": "F"},
            "text": "Éruption cutanée depuis 3 jours. Avis ?",
            "context": {"dossier": "4242"},
        },
    ).json()
    draft_id, redirect_url = created["id"], created["redirect_url"]
    files = [("file", ("photo.png", PNG, "image/png"))]
    assert api.post(f"/api/interop/v1/drafts/{draft_id}/files/", files=files).status_code == 200
    page = tab.page

    page.goto(redirect_url)
    assert status_of(api, draft_id)["status"] == "draft"
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()

    page.get_by_label("Dr Camille Durand").check()
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#files")).to_contain_text("photo.png")
    expect(page.get_by_label("Nom", exact=True)).to_have_value("Martin")

    page.get_by_label("Téléphone").fill("066666666")
    page.get_by_role("button", name="Enregistrer les corrections").click()
    expect(field_of(page, "patient_phone")).to_contain_text("Doit comporter 10 chiffres")
    assert status_of(api, draft_id)["patient"].get("phone") is None

    page.get_by_label("Téléphone").fill("0612345678")
    page.get_by_label("Nom", exact=True).fill("Martin-Dubois")
    page.get_by_label("Médecin requis").select_option(RECIPIENT)
    page.get_by_role("button", name="Enregistrer les corrections").click()
    expect(page.locator(".alert--success")).to_contain_text("Corrections enregistrées")
    view = status_of(api, draft_id)
    assert (view["status"], view["recipient_rpps"]) == ("draft", RECIPIENT)
    assert view["patient"]["phone"] == "0612345678"
    assert view["patient"]["last_name"] == "Martin-Dubois"

    page.get_by_role("button", name="Publier la demande").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "in_progress")
    expect(page.locator("#participants")).to_contain_text("Dr Julien Morel")
    view = status_of(api, draft_id)
    assert (view["status"], view["author_rpps"]) == ("in_progress", "10002170750")
    (published,) = events_for(receiver, draft_id, 1)
    assert published.verified
    assert published.payload["data"]["status"] == "in_progress"
    assert published.payload["data"]["context"] == {"dossier": "4242"}

    page.get_by_label("Avis de l'expert").fill("Eczéma de contact probable. Dermocorticoïde.")
    page.get_by_role("button", name="Envoyer l'avis").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "completed")
    expect(page.locator("#report-text")).to_have_text(
        "Eczéma de contact probable. Dermocorticoïde."
    )
    assert status_of(api, draft_id)["status"] == "completed"
    completed = events_for(receiver, draft_id, 2)[1]
    assert completed.verified
    assert completed.payload["data"]["status"] == "completed"
    assert completed.payload["data"]["report_url"].endswith(f"/drafts/{draft_id}/report")

    report = page.request.get(page.locator("#report-link").get_attribute("href") or "")
    assert report.status == 200
    assert report.headers["content-type"] == "application/pdf"
    assert any(f"/interop/drafts/{draft_id}/files/" in url for url in tab.requests)
    assert tab.dialogs == []
    tab.assert_same_origin()


def test_redirect_url_cancel(tab: Tab, api: httpx.Client, receiver: Receiver) -> None:
    body = {"author_rpps": "10002170750", "recipient_rpps": RECIPIENT}
    redirect_url = api.post("/api/interop/v1/drafts", json=body).json()["redirect_url"]
    draft_id = redirect_url.rsplit("/", 1)[1]
    page = tab.page
    page.goto(redirect_url)
    page.get_by_label("Dr Julien Morel").check()
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Publier la demande").click()
    expect(page.locator(".alert--success")).to_contain_text("Demande publiée")
    # The one-shot banner leaves no trace in the address: a reload does not show it again.
    page.wait_for_function("!location.search.includes('message=')")
    assert page.url == redirect_url
    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-status", "in_progress")
    expect(page.locator(".alert--success")).to_have_count(0)

    # Irreversible: the first button only asks; nothing is cancelled until confirmed.
    confirm = page.get_by_role("button", name="Confirmer l'annulation")
    expect(confirm).to_be_hidden()
    page.locator("#cancel summary").click()
    expect(confirm).to_be_visible()
    expect(page.locator("#cancel-warning")).to_have_text(
        "L'annulation est définitive : la demande ne pourra plus être publiée ni recevoir d'avis."
    )
    assert status_of(api, draft_id)["status"] == "in_progress"
    confirm.click()
    expect(page.locator("#status")).to_have_attribute("data-status", "cancelled")
    expect(page.locator(".alert--success")).to_have_text("La demande a été annulée.")
    assert status_of(api, draft_id)["status"] == "cancelled"
    events = events_for(receiver, draft_id, 2)
    assert [e.payload["data"]["status"] for e in events] == ["in_progress", "cancelled"]
    assert tab.dialogs == []  # a page step, not window.confirm

    # Someone else opening the link now is not told a request awaits them.
    other = page.context.browser
    assert other is not None
    fresh = other.new_context(base_url=tab.base_url, locale="fr-FR")
    try:
        signin = fresh.new_page()
        signin.goto(redirect_url)
        lead = signin.locator("#sign-in-lead")
        expect(lead).to_contain_text("Cette demande de téléexpertise a été annulée.")
        assert "vous attend" not in lead.inner_text()
    finally:
        fresh.close()


def test_landing_follows_the_scenario_answer(tab: Tab, api: httpx.Client) -> None:
    body = {"author_rpps": "10002170750", "recipient_rpps": SCENARIO_PRACTITIONERS[0]}
    redirect_url = api.post("/api/interop/v1/drafts", json=body).json()["redirect_url"]
    page = tab.page
    page.goto(redirect_url)
    page.get_by_label("Dr Julien Morel").check()
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Publier la demande").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "in_progress")
    expect(page.locator("#autopilot")).to_contain_text("Cette page l'affichera dès son arrivée")
    page.wait_for_load_state("load")
    page.evaluate("window.__published = true")  # gone once the page loads again
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))

    # The scenario practitioner answers 3 s after publication; nobody touches the page.
    expect(page.locator("#status")).to_have_attribute("data-status", "completed", timeout=30_000)
    expect(page.locator("#status")).to_have_text("Terminée")
    expect(page.locator("#report-text")).to_contain_text("arthrose digitale")
    assert page.evaluate("window.__published") is None  # the page loaded again by itself
    assert loads == [redirect_url]  # once, at the address with no ?message=
    # The banner of the publication is never shown above the finished badge.
    expect(page.locator(".alert--success")).to_have_count(0)
    assert "Demande publiée" not in page.locator("main").inner_text()
    tab.assert_same_origin()


def test_review_page_speaks_correct_french_of_a_mismatched_nir(tab: Tab, api: httpx.Client) -> None:
    first13 = "1850375056123"  # a man born in March 1985 in Paris...
    nir = f"{first13}{identifiers.nir_key(first13):02d}"
    patient = {"nir": nir, "gender": "F", "birth_date": "1990-10-10", "birth_place": "59158"}
    redirect_url = api.post("/api/interop/v1/drafts", json={"patient": patient}).json()[
        "redirect_url"
    ]
    page = tab.page
    page.goto(redirect_url)
    page.get_by_label("Dr Camille Durand").check()
    page.get_by_role("button", name="Se connecter").click()
    shown = field_of(page, "patient_nir").locator(".field__message")
    expect(shown.first).to_be_visible()  # the review page, once the sign-in has navigated
    messages = shown.all_inner_texts()
    assert "Le NIR de l'assuré ne correspond pas au sexe du patient" in " ".join(messages)
    assert any("au lieu de naissance du patient" in m for m in messages), messages
    assert any("à la date de naissance du patient" in m for m in messages), messages
    text = page.locator("main").inner_text()
    for undone in ("à le ", "à les ", "de le ", "de les ", "que il"):
        assert undone not in text, undone

    # What a doctor types is accepted and stored as the API wants it.
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_label("Date de naissance").fill("10/10/1990")
    page.get_by_role("button", name="Enregistrer les corrections").click()
    expect(page.locator(".alert--success")).to_contain_text("Corrections enregistrées")
    expect(page.get_by_label("Téléphone")).to_have_value("0612345678")
    stored = status_of(api, redirect_url.rsplit("/", 1)[1])["patient"]
    assert (stored["phone"], stored["birth_date"]) == ("0612345678", "1990-10-10")


def test_sign_in_with_the_keyboard_only(tab: Tab, api: httpx.Client) -> None:
    redirect_url = api.post("/api/interop/v1/drafts", json={}).json()["redirect_url"]
    page = tab.page
    page.goto(redirect_url)
    for _ in range(30):  # Tab through the header to the first practitioner
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "rpps":
            break
    else:
        pytest.fail("no practitioner choice is reachable with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "the focused control has no visible focus style"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Se connecter"
    page.keyboard.press("Enter")
    expect(page.locator("#draft-form")).to_be_visible()
    expect(page.locator(".session")).to_contain_text("Dr Camille Durand")


@pytest.mark.parametrize("path", ["new", "story"])
def test_pages_fit_a_phone(phone: Tab, api: httpx.Client, path: str) -> None:
    page = phone.page
    if path == "new":
        prefill(phone, fragment(FULL_EXAMPLE))
    else:
        body = {"author_rpps": "10002170750", "recipient_rpps": RECIPIENT, "text": "x" * 300}
        page.goto(api.post("/api/interop/v1/drafts", json=body).json()["redirect_url"])
        page.get_by_label("Dr Camille Durand").check()
        page.get_by_role("button", name="Se connecter").click()
        expect(page.locator("#draft-form")).to_be_visible()
        page.locator("#cancel summary").click()  # the confirmation step fits too
        expect(page.get_by_role("button", name="Confirmer l'annulation")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
