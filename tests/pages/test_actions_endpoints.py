"""The redirect_url page's moves: publish, answer, cancel; each through transition()."""

from __future__ import annotations

import html
from collections.abc import Mapping

from fastapi.testclient import TestClient

from tests.helpers import AUTHOR, RECIPIENT, auth, create_draft
from tests.page_client import form_of, post_page, sign_in

READY = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT, "context": {"id": "1234"}}


def view_of(client: TestClient, draft_id: str) -> dict[str, object]:
    view: dict[str, object] = client.get(
        f"/api/interop/v1/drafts/{draft_id}", headers=auth()
    ).json()
    return view


def opened(client: TestClient, body: Mapping[str, object], rpps: str = AUTHOR) -> str:
    """A vendor's draft, opened from its redirect_url by a signed-in practitioner."""
    draft_id = create_draft(client, body)
    client.get(f"/interop/drafts/{draft_id}")
    sign_in(client, draft_id, rpps)
    return draft_id


def publish(client: TestClient, draft_id: str, **changes: str) -> int:
    form = form_of(view_of(client, draft_id), **changes)
    return post_page(client, f"/interop/drafts/{draft_id}/publish", form).status_code


def events_of(client: TestClient, draft_id: str) -> list[tuple[str, str]]:
    """(previous, new) status of each notification enqueued for the draft, oldest first."""
    items = client.get("/_sandbox/webhooks/deliveries", headers=auth()).json()["items"]
    data = [i["payload"]["data"] for i in reversed(items) if i["draft_id"] == draft_id]
    return [(d["previous_status"], d["status"]) for d in data]


def test_publish_draft(client: TestClient) -> None:
    draft_id = opened(client, READY)
    assert publish(client, draft_id) == 303
    view = view_of(client, draft_id)
    assert view["status"] == "in_progress"
    assert view["published_at"] is not None
    assert events_of(client, draft_id) == [("draft", "in_progress")]


def test_publish_draft_saves_the_corrections_first(client: TestClient) -> None:
    draft_id = opened(client, READY)
    assert publish(client, draft_id, patient_last_name="Dupuis") == 303
    view = view_of(client, draft_id)
    assert view["status"] == "in_progress"
    assert view["patient"] == {"last_name": "Dupuis"}


def test_publish_draft_author_is_the_signed_in_practitioner(client: TestClient) -> None:
    draft_id = opened(client, {"recipient_rpps": RECIPIENT}, rpps="10002345675")
    assert publish(client, draft_id) == 303
    assert view_of(client, draft_id)["author_rpps"] == "10002345675"


def test_publish_draft_keeps_the_drafts_author(client: TestClient) -> None:
    draft_id = opened(client, READY, rpps="10002345675")
    assert publish(client, draft_id) == 303
    assert view_of(client, draft_id)["author_rpps"] == AUTHOR


def test_publish_draft_without_recipient_asks_for_one(client: TestClient) -> None:
    draft_id = opened(client, {"author_rpps": AUTHOR})
    form = form_of(view_of(client, draft_id))
    response = post_page(client, f"/interop/drafts/{draft_id}/publish", form)
    assert response.status_code == 409
    assert "Choisissez le médecin requis avant de publier." in response.text
    assert view_of(client, draft_id)["status"] == "draft"
    assert events_of(client, draft_id) == []


def test_publish_draft_with_a_recipient_picked_on_the_page(client: TestClient) -> None:
    draft_id = opened(client, {"author_rpps": AUTHOR})
    assert publish(client, draft_id, recipient_rpps=RECIPIENT) == 303
    assert view_of(client, draft_id)["recipient_rpps"] == RECIPIENT


def test_publish_draft_with_errors_publishes_nothing(client: TestClient) -> None:
    draft_id = opened(client, READY)
    form = form_of(view_of(client, draft_id), patient_phone="066666666")
    response = post_page(client, f"/interop/drafts/{draft_id}/publish", form)
    assert response.status_code == 422
    assert view_of(client, draft_id)["status"] == "draft"


def test_publish_draft_twice_is_an_impossible_move(client: TestClient) -> None:
    draft_id = opened(client, READY)
    publish(client, draft_id)
    form = form_of(view_of(client, draft_id))
    response = post_page(client, f"/interop/drafts/{draft_id}/publish", form)
    assert response.status_code == 409
    assert "Action impossible" in response.text


def test_published_page_shows_both_participants(client: TestClient) -> None:
    draft_id = opened(client, READY)
    publish(client, draft_id)
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert "En cours" in text
    assert "Dr Camille Durand (vous)" in text
    assert "Dr Julien Morel" in text
    assert "Envoyer l'avis" in text


def test_complete_draft(client: TestClient) -> None:
    draft_id = opened(client, READY)
    publish(client, draft_id)
    response = post_page(
        client, f"/interop/drafts/{draft_id}/complete", {"report_text": "Avis : <b>RAS</b>"}
    )
    assert response.status_code == 303
    view = view_of(client, draft_id)
    assert view["status"] == "completed"
    assert view["billing"] is not None
    assert events_of(client, draft_id) == [("draft", "in_progress"), ("in_progress", "completed")]
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert "Avis : &lt;b&gt;RAS&lt;/b&gt;" in text
    assert f'href="/interop/drafts/{draft_id}/report"' in text


def test_complete_draft_needs_a_report_text(client: TestClient) -> None:
    draft_id = opened(client, READY)
    publish(client, draft_id)
    response = post_page(client, f"/interop/drafts/{draft_id}/complete", {"report_text": "  "})
    assert response.status_code == 422
    assert "Rédigez l&#39;avis" in response.text
    assert view_of(client, draft_id)["status"] == "in_progress"


def test_complete_draft_before_publication_is_an_impossible_move(client: TestClient) -> None:
    draft_id = opened(client, READY)
    response = post_page(client, f"/interop/drafts/{draft_id}/complete", {"report_text": "x"})
    assert response.status_code == 409
    assert view_of(client, draft_id)["status"] == "draft"


CONFIRMED = {"confirm": "yes"}  # what the page's "Confirmer l'annulation" button sends


def test_cancel_draft_under_review(client: TestClient) -> None:
    draft_id = opened(client, READY)
    response = post_page(client, f"/interop/drafts/{draft_id}/cancel", CONFIRMED)
    assert response.status_code == 303
    assert view_of(client, draft_id)["status"] == "cancelled"
    assert events_of(client, draft_id) == [("draft", "cancelled")]
    assert "Annulée" in client.get(f"/interop/drafts/{draft_id}").text


def test_cancel_draft_in_progress(client: TestClient) -> None:
    draft_id = opened(client, READY)
    publish(client, draft_id)
    assert post_page(client, f"/interop/drafts/{draft_id}/cancel", CONFIRMED).status_code == 303
    assert view_of(client, draft_id)["status"] == "cancelled"


def test_cancel_completed_draft_is_an_impossible_move(client: TestClient) -> None:
    draft_id = opened(client, READY)
    publish(client, draft_id)
    post_page(client, f"/interop/drafts/{draft_id}/complete", {"report_text": "x"})
    response = post_page(client, f"/interop/drafts/{draft_id}/cancel", CONFIRMED)
    assert response.status_code == 409
    assert view_of(client, draft_id)["status"] == "completed"


def test_cancel_without_confirmation_does_nothing(client: TestClient) -> None:
    draft_id = opened(client, READY)
    publish(client, draft_id)
    response = post_page(client, f"/interop/drafts/{draft_id}/cancel")
    assert response.status_code == 422
    assert "Confirmez l'annulation : elle est définitive." in html.unescape(response.text)
    assert '<details class="confirm" id="cancel" open>' in response.text
    assert view_of(client, draft_id)["status"] == "in_progress"
    assert events_of(client, draft_id) == [("draft", "in_progress")]


def test_save_after_publication_is_refused(client: TestClient) -> None:
    draft_id = opened(client, READY)
    publish(client, draft_id)
    form = form_of(view_of(client, draft_id), text="changed")
    response = post_page(client, f"/interop/drafts/{draft_id}/save", form)
    assert response.status_code == 409
    assert view_of(client, draft_id)["text"] is None


def test_actions_need_a_sign_in(client: TestClient) -> None:
    draft_id = opened(client, READY)
    client.cookies.clear()
    response = post_page(client, f"/interop/drafts/{draft_id}/cancel")
    assert response.status_code == 303
    assert view_of(client, draft_id)["status"] == "draft"


def test_publish_to_a_scenario_recipient_shows_its_coming_answer(client: TestClient) -> None:
    draft_id = opened(client, {"author_rpps": AUTHOR, "recipient_rpps": "10006789019"})
    assert publish(client, draft_id) == 303
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert "Dr Élise Marchand est un praticien de scénario" in text
    (published,) = client.get("/_sandbox/webhooks/deliveries", headers=auth()).json()["items"]
    answered = client.get(  # long-polls until the autopilot worker's answer is notified
        "/_sandbox/webhooks/deliveries",
        params={"after": published["id"], "wait": 20},
        headers=auth(),
    ).json()["items"]
    assert [item["payload"]["data"]["status"] for item in answered] == ["completed"]
    assert view_of(client, draft_id)["status"] == "completed"
    assert "arthrose digitale" in client.get(f"/interop/drafts/{draft_id}").text
