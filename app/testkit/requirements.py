"""The requirements a client must honour, as data (SPEC §9): the Omnidoc document's
(`OMD-…`, each with where the document says it) and the sandbox's own (`SBX-…`).
Written once; the requirements route, the tests and the reports all read it from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DOCUMENT = "Interopérabilité Omnidoc v1.4 - 10/2022"


@dataclass(frozen=True)
class Requirement:
    id: str
    source: Literal["omnidoc", "sandbox"]
    title: str
    statement: str
    # Where the Omnidoc document says it (its section), or the sandbox's README section.
    where: str

    @property
    def text(self) -> str:
        origin = DOCUMENT if self.source == "omnidoc" else "omnidoc-sandbox README"
        return f"{self.statement} ({origin}, {self.where})"


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "OMD-CREATE-REQUEST",
        "omnidoc",
        "Create with a bearer key",
        "A draft is created with POST $BASE_URL/api/interop/v1/drafts, a JSON body and the "
        "header Authorization: Bearer <API key>.",
        "Amont - Création de la demande, « Structure de la requête HTTP »",
    ),
    Requirement(
        "OMD-CREATE-FIELDS",
        "omnidoc",
        "The body's fields and formats",
        "The body holds only the document's fields, each in its format (patient.nir and "
        "nir_cert 15 characters, gender M or F, birth_date aaaa-mm-jj, birth_order an "
        "integer, author_rpps and recipient_rpps 11 characters); every field is optional.",
        "Amont - Création de la demande, « Structure du body »",
    ),
    Requirement(
        "OMD-CREATE-AUTHOR",
        "omnidoc",
        "A known author",
        "author_rpps names an existing practitioner: an unknown one is an error.",
        "Amont - Création de la demande, « Erreurs possibles »",
    ),
    Requirement(
        "OMD-CREATE-SUCCESS",
        "omnidoc",
        "The draft's id",
        "On success (status 200) the answer carries the draft's id, which the client keeps "
        "to refer to it, and its redirect_url.",
        "Amont - Création de la demande, « Succès »",
    ),
    Requirement(
        "OMD-CREATE-ERRORS",
        "omnidoc",
        "Errors on invalid data",
        "Invalid data (e.g. an invalid NIR) or an unknown author_rpps is answered with an "
        "error (status ≥ 300): the client corrects the data rather than sending it again.",
        "Amont - Création de la demande, « Erreurs possibles »",
    ),
    Requirement(
        "OMD-CONTEXT",
        "omnidoc",
        "Context echoed",
        "The context field carries the client's own identifiers, sent back as they are in "
        'the status notifications (e.g. {"id": "1234"}).',
        "Amont - Création de la demande, « Structure du body »",
    ),
    Requirement(
        "OMD-REDIRECT",
        "omnidoc",
        "Redirect the user",
        "To reach the created draft, the user is redirected to redirect_url.",
        "Amont - Création de la demande, « Succès »",
    ),
    Requirement(
        "OMD-FILES-BEFORE-VISIT",
        "omnidoc",
        "Files right after the create",
        "Files are attached immediately after the draft is created, before the user visits "
        "redirect_url.",
        "Amont - Ajout de fichiers, « Principe de fonctionnement »",
    ),
    Requirement(
        "OMD-FILES-MULTIPART",
        "omnidoc",
        "One or several files per upload",
        "Files are sent with POST $BASE_URL/api/interop/v1/drafts/<id>/files/ as "
        "multipart/form-data, one part named file per file; several files may go in one "
        "request.",
        "Amont - Ajout de fichiers, « Structure de la requête HTTP » and « Exemple de "
        "requête API »",
    ),
    Requirement(
        "OMD-FILES-LOCKED",
        "omnidoc",
        "No files after the visit",
        "Once redirect_url was visited the draft is no longer temporary and no file can be "
        "added through the API (an error).",
        "Amont - Ajout de fichiers, « Principe de fonctionnement » and « Erreurs possibles »",
    ),
    Requirement(
        "SBX-WEBHOOK-ACK",
        "sandbox",
        "Acknowledge notifications",
        "The client's webhook endpoint answers each notification 2xx at its first attempt.",
        "« Receive notifications »",
    ),
    Requirement(
        "SBX-WEBHOOK-SIGNATURE",
        "sandbox",
        "Verify signatures",
        "The client's receiver verifies each notification's Standard Webhooks signature and "
        "refuses a forged, altered or stale one.",
        "« Receiver check »",
    ),
    Requirement(
        "SBX-REPORT-FETCH",
        "sandbox",
        "Fetch the report",
        "The client downloads the compte rendu (GET …/drafts/<id>/report) of a completed draft.",
        "« Download the report »",
    ),
    Requirement(
        "SBX-RETRY-AFTER",
        "sandbox",
        "Respect Retry-After",
        "After a 429 or 503 with Retry-After, the client waits at least that long before "
        "its next call.",
        "« Fault injection »",
    ),
)

BY_ID: dict[str, Requirement] = {r.id: r for r in REQUIREMENTS}


@dataclass(frozen=True)
class TestSpec:
    """A test of SPEC §9's table: its name, the requirements it proves, optional or not."""

    __test__ = False  # not a pytest class

    name: str
    requirements: tuple[str, ...]
    optional: bool = False


TESTS: tuple[TestSpec, ...] = (
    TestSpec(
        "create_valid",
        ("OMD-CREATE-REQUEST", "OMD-CREATE-FIELDS", "OMD-CREATE-AUTHOR", "OMD-CREATE-SUCCESS"),
    ),
    TestSpec("context_sent", ("OMD-CONTEXT",)),
    TestSpec("validation_error_fixed", ("OMD-CREATE-ERRORS",)),
    TestSpec("files_before_visit", ("OMD-FILES-BEFORE-VISIT",)),
    TestSpec("multiple_files", ("OMD-FILES-MULTIPART",)),
    TestSpec("redirect_visited", ("OMD-REDIRECT",)),
    TestSpec("no_upload_after_visit", ("OMD-FILES-LOCKED",)),
    TestSpec("webhook_acknowledged", ("SBX-WEBHOOK-ACK",)),
    TestSpec("receiver_check_passed", ("SBX-WEBHOOK-SIGNATURE",)),
    TestSpec("report_fetched", ("SBX-REPORT-FETCH",)),
    TestSpec("retry_after_respected", ("SBX-RETRY-AFTER",), optional=True),
)

assert all(r in BY_ID for t in TESTS for r in t.requirements)
