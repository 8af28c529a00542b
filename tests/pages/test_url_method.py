"""app/pages/url_method.py: the URL method's parsing and lint, on the document's own examples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import select

from app.db import read_session
from app.models import Draft, WebhookEvent
from app.pages import labels_fr
from app.pages import url_method as prefill
from tests.helpers import SPEC_PRACTITIONERS
from tests.omnidoc_examples import FULL_ADDRESS, FULL_EXAMPLE, PARTIAL_EXAMPLE, fragment


def known(rpps: str) -> bool:
    return rpps in SPEC_PRACTITIONERS


def verdicts(report: prefill.LintReport) -> dict[str, str]:
    return {p.name: p.verdict for p in report.parameters}


def codes(report: prefill.LintReport, name: str) -> list[str]:
    return [i.code for p in report.parameters if p.name == name for i in p.issues]


def test_parse_fragment_decodes_the_full_example() -> None:
    values = {p.name: p.value for p in prefill.parse_fragment(fragment(FULL_EXAMPLE))}
    assert len(values) == 18
    assert set(values) == set(prefill.PARAMETERS)
    assert values["patient_address"] == FULL_ADDRESS
    assert values["text"] == "Le patient présente des signes de"
    assert values["patient_email"] == "louis.dupont@gmail.com"


def test_parse_fragment_keeps_plus_and_decodes_utf8() -> None:
    parsed = prefill.parse_fragment("#patient_email=a+b%40x.fr&text=%C3%A9t%C3%A9")
    assert [(p.name, p.value, p.utf8) for p in parsed] == [
        ("patient_email", "a+b@x.fr", True),
        ("text", "été", True),
    ]


def test_parse_fragment_backslash_n_only_breaks_the_address() -> None:
    parsed = prefill.parse_fragment(r"patient_address=a\nb&text=a\nb")
    assert [p.value for p in parsed] == ["a\nb", "a\\nb"]


def test_parse_fragment_flags_latin1_percent_encoding() -> None:
    (param,) = prefill.parse_fragment("text=pr%E9sente")
    assert not param.utf8
    report = prefill.lint_parameters([param], is_known_practitioner=known)
    assert verdicts(report) == {"text": "error"}
    assert codes(report, "text") == ["percent_encoding"]


def test_parse_fragment_skips_empty_pairs() -> None:
    assert prefill.parse_fragment("&&patient_gender=F&") == [
        prefill.Parameter("patient_gender", "F")
    ]


def test_check_url_partial_example_names_patient_nir() -> None:
    report = prefill.check_url(PARTIAL_EXAMPLE, is_known_practitioner=known)
    assert not report.ok
    assert report.errors == 1
    assert {name for name, v in verdicts(report).items() if v != "ok"} == {"patient_nir"}
    assert codes(report, "patient_nir") == ["nir_format"]
    assert report.values["patient_birth_order"] == "1"


def test_check_url_full_example_flags_both_nirs_and_the_phone() -> None:
    report = prefill.check_url(FULL_EXAMPLE, is_known_practitioner=known)
    errors = {name for name, v in verdicts(report).items() if v == "error"}
    assert errors == {"patient_nir", "patient_nir_cert", "patient_phone"}
    assert codes(report, "patient_phone") == ["phone_format"]
    assert report.warnings == 0


def test_lint_messages_name_the_url_parameter() -> None:
    report = prefill.check_url(PARTIAL_EXAMPLE, is_known_practitioner=known)
    (issue,) = [i for p in report.parameters for i in p.issues]
    assert issue.field == "patient_nir"
    assert issue.message.startswith("patient_nir is not a valid NIR")


def test_lint_unknown_parameter_suggests_the_close_one() -> None:
    report = prefill.check_url(
        "/interop/drafts/new#patient_firstname=Pierre", is_known_practitioner=known
    )
    assert report.ok
    assert verdicts(report) == {"patient_firstname": "unknown"}
    assert "did you mean patient_first_name?" in report.parameters[0].issues[0].message
    assert report.values == {}


def test_lint_unknown_parameter_is_an_error_when_strict() -> None:
    report = prefill.check_url(
        "/interop/drafts/new#patient_firstname=Pierre", is_known_practitioner=known, strict=True
    )
    assert not report.ok
    assert verdicts(report) == {"patient_firstname": "error"}


def test_lint_author_rpps_is_not_a_url_parameter() -> None:
    report = prefill.check_url(
        "/interop/drafts/new#author_rpps=10002170750", is_known_practitioner=known
    )
    assert verdicts(report) == {"author_rpps": "unknown"}
    assert "signed-in practitioner" in report.parameters[0].issues[0].message


def test_lint_birth_order_string_is_normal_in_a_url() -> None:
    report = prefill.check_url(
        "/interop/drafts/new#patient_birth_order=1", is_known_practitioner=known, strict=True
    )
    assert report.ok
    assert report.warnings == 0


def test_lint_rpps_luhn_is_a_warning_then_an_error_when_strict() -> None:
    url = "/interop/drafts/new#recipient_rpps=10000000000"
    lenient = prefill.check_url(url, is_known_practitioner=known)
    assert lenient.ok
    assert codes(lenient, "recipient_rpps") == ["rpps_luhn", "unknown_recipient_rpps"]
    strict = prefill.check_url(url, is_known_practitioner=known, strict=True)
    assert verdicts(strict) == {"recipient_rpps": "error"}


def test_lint_coherence_warning_on_the_nir() -> None:
    url = "/interop/drafts/new#patient_nir=190095916511287&patient_gender=F"
    report = prefill.check_url(url, is_known_practitioner=known)
    assert report.ok
    assert verdicts(report) == {"patient_nir": "warning", "patient_gender": "ok"}
    assert codes(report, "patient_nir") == ["nir_gender_mismatch"]


def test_lint_repeated_parameter_keeps_the_first_value() -> None:
    report = prefill.check_url(
        "/interop/drafts/new#patient_gender=F&patient_gender=X", is_known_practitioner=known
    )
    assert report.ok
    assert verdicts(report) == {"patient_gender": "warning"}
    assert codes(report, "patient_gender") == ["repeated_parameter"]
    assert report.values == {"patient_gender": "F"}


def test_lint_empty_parameter_is_ignored_with_a_warning() -> None:
    report = prefill.check_url("/interop/drafts/new#patient_nir=", is_known_practitioner=known)
    assert report.ok
    assert codes(report, "patient_nir") == ["empty_parameter"]


def test_lint_caps_the_number_of_parameters() -> None:
    many = "&".join(f"x{i}=1" for i in range(prefill.MAX_PARAMETERS + 5))
    report = prefill.check_url(f"/interop/drafts/new#{many}", is_known_practitioner=known)
    assert len(report.parameters) == prefill.MAX_PARAMETERS
    assert [i.code for i in report.url_issues] == ["too_many_parameters"]


@pytest.mark.parametrize(
    "url",
    [
        "https://app.omnidoc.fr/interop/drafts/other#patient_gender=F",
        "https://app.omnidoc.fr/interop/drafts/new/#patient_gender=F",
        "https://app.omnidoc.fr/#patient_gender=F",
    ],
)
def test_check_url_wrong_path_is_an_error(url: str) -> None:
    report = prefill.check_url(url, is_known_practitioner=known)
    assert not report.ok
    assert [i.code for i in report.url_issues] == ["wrong_path"]


def test_check_url_accepts_any_host_and_no_scheme() -> None:
    for url in (
        "http://127.0.0.1:8000/interop/drafts/new#patient_gender=F",
        "playground.omnidoc.fr/interop/drafts/new#patient_gender=F",
    ):
        assert prefill.check_url(url, is_known_practitioner=known).ok, url


def test_check_url_parameters_in_the_query_are_an_error() -> None:
    report = prefill.check_url(
        "https://app.omnidoc.fr/interop/drafts/new?patient_nir=190095916511287",
        is_known_practitioner=known,
    )
    assert not report.ok
    assert [i.code for i in report.url_issues] == ["parameters_in_query"]


def test_check_url_other_query_is_a_warning() -> None:
    report = prefill.check_url(
        "https://app.omnidoc.fr/interop/drafts/new?utm=x#patient_gender=F",
        is_known_practitioner=known,
    )
    assert report.ok
    assert report.warnings == 1


def test_body_from_values_makes_the_api_body() -> None:
    body = prefill.body_from_values(
        {
            "patient_first_name": "Pierre",
            "patient_birth_order": "2",
            "patient_nir": "",
            "recipient_rpps": "10001234565",
            "text": "Avis ?",
        }
    )
    assert body == {
        "patient": {"first_name": "Pierre", "birth_order": 2},
        "recipient_rpps": "10001234565",
        "text": "Avis ?",
    }


def test_values_from_draft_inverts_body_from_values() -> None:
    draft = Draft(patient={"first_name": "Jo", "birth_order": 1}, recipient_rpps="10001234565")
    values = prefill.values_from_draft(draft)
    assert values["patient_first_name"] == "Jo"
    assert values["patient_birth_order"] == "1"
    assert values["text"] == ""
    assert prefill.body_from_values(values) == {
        "patient": {"first_name": "Jo", "birth_order": 1},
        "recipient_rpps": "10001234565",
    }


def test_create_prefilled_draft_is_an_ownerless_draft(engine: Engine) -> None:
    values = {p.name: p.value for p in prefill.parse_fragment(fragment(PARTIAL_EXAMPLE))}
    values["patient_nir"] = "190095916511287"
    draft = prefill.create_prefilled_draft(engine, values=values, base_url="http://t")
    with read_session(engine) as session:
        stored = session.get(Draft, draft.id)
        events = session.exec(select(WebhookEvent)).all()
    assert events == []
    assert stored is not None
    assert stored.status == "draft"
    assert stored.owner_key is None
    assert stored.context_json is None
    assert stored.visited_at is not None
    assert stored.patient == {
        "first_name": "Pierre",
        "last_name": "Dupont",
        "nir": "190095916511287",
        "gender": "M",
        "birth_date": "1994-09-10",
        "birth_order": 1,
        "regime": "01",
    }
    assert stored.recipient_rpps == "10002170750"


@given(text=st.text(max_size=300) | st.from_regex(r"([a-z_]{1,20}=[^&]{0,20}&?){0,10}"))
@settings(max_examples=300, deadline=None)
def test_lint_never_raises_on_any_fragment(text: str) -> None:
    report = prefill.lint_parameters(prefill.parse_fragment(text), is_known_practitioner=known)
    for param in report.parameters:
        assert param.verdict in ("ok", "warning", "error", "unknown")
        for issue in param.issues:
            assert issue.code
            assert issue.message
            assert labels_fr.issue_message(issue, param.value)
