"""The whole flow with the client generated from docs/openapi.json, and nothing else.

Run by test_generated_client.py with the interpreter of a fresh venv that holds only that
client and its dependencies (httpx, attrs): `python client_flow.py BASE_URL`. Every body
is a generated model; no dict is built or read. First the flow with every field, then
every operation of the document with its minimal call (optional bodies left out), each
answered 2xx; the last line names the operations called, which the test compares with
the document's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from io import BytesIO
from types import ModuleType
from typing import Any

from omnidoc_sandbox_client import AuthenticatedClient, Client
from omnidoc_sandbox_client.api.omnidoc_interop_api import attach_files, create_draft
from omnidoc_sandbox_client.api.sandbox_defined import (
    admin_create_key,
    admin_create_receiver_check,
    admin_export,
    admin_import,
    admin_redeliver,
    admin_reset,
    admin_reset_key,
    admin_revoke_key,
    advance_clock,
    cancel_draft,
    complete_draft,
    create_fault,
    create_receiver_check,
    create_test_session,
    delete_faults,
    delete_webhook,
    download_admin_file,
    download_file,
    export_vendor,
    finish_test_session,
    get_draft,
    get_receiver_check,
    get_report,
    get_test_session,
    get_test_session_junit,
    get_test_session_report,
    get_webhook,
    healthz,
    lint_prefill,
    list_admin_deliveries,
    list_admin_drafts,
    list_admin_inboxes,
    list_admin_keys,
    list_admin_receiver_checks,
    list_admin_requests,
    list_deliveries,
    list_faults,
    list_inbox,
    list_receiver_checks,
    list_requests,
    list_requirements,
    publish_draft,
    readyz,
    record_inbox,
    redeliver,
    reset_vendor,
    set_webhook,
    visit_draft,
    wait_admin_changes,
)
from omnidoc_sandbox_client.models import (
    AdminKeyBody,
    AdminKeyCreated,
    AdminReceiverCheckBody,
    AttachFilesBody,
    ClockAdvanceBody,
    CompleteBody,
    Context,
    DeliveryList,
    DraftCreate,
    DraftCreated,
    DraftStatus,
    DraftView,
    FaultBody,
    FilesAttached,
    Gender,
    LintRequest,
    LintResult,
    Patient,
    Problem,
    PublishBody,
    ReceiverCheck,
    ReceiverCheckBody,
    ReceiverCheckList,
    TestSessionView,
    VendorReset,
    WebhookBody,
    WebhookConfig,
)
from omnidoc_sandbox_client.types import File

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% synthetic\n"


def whole_flow(base_url: str) -> None:
    client = AuthenticatedClient(
        base_url=base_url, token="sandbox-key-a", raise_on_unexpected_status=True
    )
    with client:
        # The document's fields, valid; the practitioners of the default fixtures.
        created = create_draft.sync(
            client=client,
            body=DraftCreate(
                author_rpps="10002170750",
                patient=Patient(
                    first_name="Pierre",
                    last_name="Dupont",
                    birth_name="Pasteur",
                    birth_place="59158",
                    nir="194095915812390",
                    nir_cert="194095915812390",
                    gender=Gender.M,
                    birth_date="1994-09-10",
                    birth_order=1,
                    regime="01",
                    centre="1111",
                    caisse="111",
                    gestion="10",
                    address="APPARTEMENT 1 BATIMENT GRAVIER\n72546 REFERINUM SUR SARTHE",
                    phone="0666666666",
                    email="louis.dupont@example.com",
                ),
                text="Le patient présente des signes de …",
                context=Context.from_dict({"id": "1234"}),
            ),
        )
        assert isinstance(created, DraftCreated), created
        assert created.redirect_url.endswith(f"/interop/drafts/{created.id}")

        attached = attach_files.sync(
            draft_id=created.id,
            client=client,
            body=AttachFilesBody(
                file=[
                    File(payload=BytesIO(PNG), file_name="a.png", mime_type="image/png"),
                    File(payload=BytesIO(PDF), file_name="b.pdf", mime_type="application/pdf"),
                ]
            ),
        )
        assert isinstance(attached, FilesAttached), attached
        assert [f.filename for f in attached.files] == ["a.png", "b.pdf"]

        view = get_draft.sync(draft_id=created.id, client=client)
        assert isinstance(view, DraftView), view
        assert view.status == DraftStatus.TEMPORARY
        assert view.patient is not None and view.patient.last_name == "Dupont"
        assert view.context is not None and view.context.to_dict() == {"id": "1234"}
        assert [f.size for f in view.files] == [len(PNG), len(PDF)]
        first = download_file.sync(draft_id=created.id, file_id=view.files[0].id, client=client)
        assert isinstance(first, File) and first.payload.read() == PNG

        visited = visit_draft.sync(draft_id=created.id, client=client)
        assert isinstance(visited, DraftView) and visited.status == DraftStatus.DRAFT

        # A 409 read as a problem: files are locked once the draft was visited.
        locked = attach_files.sync(
            draft_id=created.id,
            client=client,
            body=AttachFilesBody(file=[File(payload=BytesIO(PNG), file_name="late.png")]),
        )
        assert isinstance(locked, Problem), locked
        assert (locked.status, locked.code) == (409, "draft_locked")

        published = publish_draft.sync(
            draft_id=created.id, client=client, body=PublishBody(recipient_rpps="10001234565")
        )
        assert isinstance(published, DraftView) and published.status == DraftStatus.IN_PROGRESS

        completed = complete_draft.sync(
            draft_id=created.id, client=client, body=CompleteBody(report_text="Avis : RAS.")
        )
        assert isinstance(completed, DraftView), completed
        assert completed.status == DraftStatus.COMPLETED
        assert completed.billing is not None and completed.billing.acts[0].code.value == "TE2"

        report = get_report.sync(draft_id=created.id, client=client)
        assert isinstance(report, File), report
        assert report.payload.read().startswith(b"%PDF")

        # A 422 read as a problem: the document's own example has a 10-digit RPPS.
        invalid = create_draft.sync(client=client, body=DraftCreate(author_rpps="1111111111"))
        assert isinstance(invalid, Problem), invalid
        assert (invalid.status, invalid.code) == (422, "validation_failed")
        assert invalid.errors and invalid.errors[0].field == "author_rpps"
        assert invalid.errors[0].code == "rpps_format"

        # The receiver check, aimed at the sandbox's own inbox: it answers 200 to
        # everything, so the five cases a receiver must refuse fail.
        started = create_receiver_check.sync(
            client=client,
            body=ReceiverCheckBody(
                url=f"{base_url}/_sandbox/inbox/client-flow",
                secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ),
        )
        assert isinstance(started, ReceiverCheck), started
        check = started
        while check.status.value == "running":
            check = get_receiver_check.sync(check_id=str(started.id), client=client, wait=3)
            assert isinstance(check, ReceiverCheck), check
        assert check.status.value == "failed"
        failed = [case.name for case in check.cases if case.verdict.value == "fail"]
        assert failed == [
            "bad_signature", "missing_signature", "tampered_body", "stale_timestamp",
            "future_timestamp",
        ]  # fmt: skip
        listed = list_receiver_checks.sync(client=client)
        assert isinstance(listed, ReceiverCheckList) and listed.items[0].id == started.id

        # The webhook registration: a secret kept when none is given, then forgotten.
        first = set_webhook.sync(
            client=client, body=WebhookBody(url=f"{base_url}/_sandbox/inbox/c")
        )
        assert isinstance(first, WebhookConfig) and first.secret, first
        moved = set_webhook.sync(
            client=client, body=WebhookBody(url=f"{base_url}/_sandbox/inbox/d")
        )
        assert isinstance(moved, WebhookConfig) and moved.secret == first.secret, moved
        forgotten = delete_webhook.sync(client=client)
        assert isinstance(forgotten, WebhookConfig), forgotten
        assert (forgotten.url, forgotten.secret) == (None, None)

    # The admin scope (open: no OMNIDOC_ADMIN_TOKEN here): one key's data reset.
    with Client(base_url=base_url, raise_on_unexpected_status=True) as admin:
        reset = admin_reset_key.sync(key="sandbox-key-a", client=admin)
        # The flow's draft and the receiver check's.
        assert isinstance(reset, VendorReset) and reset.deleted.drafts == 2, reset


CALLED: list[str] = []


def call(operation: ModuleType, *args: Any, **kwargs: Any) -> Any:
    """The operation's answer, parsed; asserts a 2xx and records the operation's name."""
    sync_detailed: Callable[..., Any] = operation.sync_detailed
    response = sync_detailed(*args, **kwargs)
    name = operation.__name__.rsplit(".", 1)[1]
    assert 200 <= response.status_code < 300, (name, response.status_code, response.content)
    CALLED.append(name)
    return response.parsed


def every_operation(base_url: str) -> None:
    """Each operation with its minimal call: only what is required, no optional body."""
    client = AuthenticatedClient(base_url=base_url, token="sandbox-key-a")
    with client:
        call(healthz, client=client)
        call(readyz, client=client)
        hook = f"{base_url}/_sandbox/inbox/minimal"
        call(set_webhook, client=client, body=WebhookBody(url=hook))
        call(get_webhook, client=client)
        call(delete_webhook, client=client)
        call(set_webhook, client=client, body=WebhookBody(url=hook))
        check = call(create_receiver_check, client=client)  # no body: the key's webhook
        while check.status.value == "running":
            check = call(get_receiver_check, str(check.id), client=client, wait=5)
        call(list_receiver_checks, client=client)

        empty = call(create_draft, client=client)  # no body: every field is optional
        assert isinstance(empty, DraftCreated), empty
        file = File(payload=BytesIO(PNG), file_name="a.png")
        call(attach_files, empty.id, client=client, body=AttachFilesBody(file=[file]))
        view = call(get_draft, empty.id, client=client)
        assert isinstance(view, DraftView), view
        call(download_file, empty.id, view.files[0].id, client=client)
        call(cancel_draft, empty.id, client=client)

        # The practitioners at creation, so that publish needs no body.
        asked = DraftCreate(author_rpps="10002170750", recipient_rpps="10001234565")
        created = call(create_draft, client=client, body=asked)
        call(visit_draft, created.id, client=client)
        published = call(publish_draft, created.id, client=client)
        assert published.status == DraftStatus.IN_PROGRESS, published
        completed = call(complete_draft, created.id, client=client)
        assert completed.status == DraftStatus.COMPLETED, completed
        call(get_report, created.id, client=client)

        # The notifications of the publish and the complete, sent to the inbox.
        deliveries = call(list_deliveries, client=client)
        assert isinstance(deliveries, DeliveryList) and deliveries.items, deliveries
        call(redeliver, deliveries.items[0].id, client=client)
        call(list_requests, client=client)
        call(list_requirements, client=client)
        session = call(create_test_session, client=client)  # no body: resilience off
        assert isinstance(session, TestSessionView), session
        call(get_test_session, session.id, client=client)
        call(get_test_session_report, session.id, client=client)
        call(get_test_session_junit, session.id, client=client)
        call(finish_test_session, session.id, client=client)
        # A receiver check of the key's webhook (the inbox), then one from the admin scope.
        started = call(create_receiver_check, client=client)  # no body: the key's webhook
        assert isinstance(started, ReceiverCheck), started
        check = started
        while check.status.value == "running":
            check = call(get_receiver_check, str(started.id), client=client, wait=3)
        call(list_receiver_checks, client=client)
        body = AdminReceiverCheckBody(owner_key="sandbox-key-a")
        call(admin_create_receiver_check, client=client, body=body)
        call(list_admin_receiver_checks, client=client)
        call(create_fault, client=client, body=FaultBody(status=503))
        call(list_faults, client=client)
        call(delete_faults, client=client)
        call(advance_clock, client=client, body=ClockAdvanceBody(seconds=60))
        call(export_vendor, client=client)
        call(record_inbox, "minimal", client=client)  # no body
        call(list_inbox, "minimal", client=client)
        linted = call(lint_prefill, client=client, body=LintRequest(fragment=""))
        assert isinstance(linted, LintResult), linted

        # Admin scope: open, OMNIDOC_ADMIN_TOKEN being unset.
        call(list_admin_drafts, client=client)
        call(download_admin_file, empty.id, view.files[0].id, client=client)
        call(list_admin_requests, client=client)
        call(list_admin_deliveries, client=client)
        call(admin_redeliver, deliveries.items[0].id, client=client)
        call(list_admin_inboxes, client=client)
        call(list_admin_keys, client=client)
        added = call(admin_create_key, client=client, body=AdminKeyBody(name="Vendor C"))
        assert isinstance(added, AdminKeyCreated), added
        call(admin_reset_key, added.key, client=client)
        call(admin_revoke_key, added.key, client=client)
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        for_b = AdminReceiverCheckBody(owner_key="sandbox-key-b", url=hook, secret=secret)
        call(admin_create_receiver_check, client=client, body=for_b)
        call(list_admin_receiver_checks, client=client)
        call(admin_reset_key, "sandbox-key-b", client=client)
        call(wait_admin_changes, client=client)
        snapshot = call(admin_export, client=client)
        call(admin_import, client=client, body=File(payload=BytesIO(snapshot.payload.read())))
        call(reset_vendor, client=client)
        call(admin_reset, client=client)


def main(base_url: str) -> None:
    whole_flow(base_url)
    every_operation(base_url)
    print("client flow ok")
    print("called:", " ".join(sorted(set(CALLED))))


if __name__ == "__main__":
    main(sys.argv[1])
