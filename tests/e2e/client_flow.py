"""The whole flow with the client generated from docs/openapi.json, and nothing else.

Run by test_generated_client.py with the interpreter of a fresh venv that holds only that
client and its dependencies (httpx, attrs): `python client_flow.py BASE_URL`. Every body
is a generated model; no dict is built or read.
"""

from __future__ import annotations

import sys
from io import BytesIO

from omnidoc_sandbox_client import AuthenticatedClient
from omnidoc_sandbox_client.api.omnidoc_interop_api import attach_files, create_draft
from omnidoc_sandbox_client.api.sandbox_defined import (
    complete_draft,
    create_receiver_check,
    download_file,
    get_draft,
    get_receiver_check,
    get_report,
    list_receiver_checks,
    publish_draft,
    visit_draft,
)
from omnidoc_sandbox_client.models import (
    AttachFilesBody,
    CompleteBody,
    Context,
    DraftCreate,
    DraftCreated,
    DraftStatus,
    DraftView,
    FilesAttached,
    Gender,
    Patient,
    Problem,
    PublishBody,
    ReceiverCheck,
    ReceiverCheckBody,
    ReceiverCheckList,
)
from omnidoc_sandbox_client.types import File

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% synthetic\n"


def main(base_url: str) -> None:
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
    print("client flow ok")


if __name__ == "__main__":
    main(sys.argv[1])
