"""The fixtures file: shape, duplicates, check-digit warnings, constant-time key lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import PACKAGED_FIXTURES
from app.fixtures import FixtureError, load_fixtures
from tests.helpers import SCENARIO_PRACTITIONERS, SPEC_PRACTITIONERS


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fixtures.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_fixtures_default_file() -> None:
    fixtures = load_fixtures(PACKAGED_FIXTURES)
    assert [k.key for k in fixtures.api_keys] == ["sandbox-key-a", "sandbox-key-b"]
    assert [k.name for k in fixtures.api_keys] == ["Vendor A", "Vendor B"]
    assert {p.rpps for p in fixtures.practitioners} >= set(SPEC_PRACTITIONERS)
    assert all(p.specialty and p.last_name for p in fixtures.practitioners)
    assert fixtures.warnings == ()


def test_load_fixtures_default_scenario_practitioners() -> None:
    fixtures = load_fixtures(PACKAGED_FIXTURES)
    answers, declines = (fixtures.practitioner(rpps) for rpps in SCENARIO_PRACTITIONERS)
    assert answers is not None and answers.autopilot is not None
    assert (answers.autopilot.outcome, answers.autopilot.after_seconds) == ("completed", 3)
    assert (answers.autopilot.report_text or "").startswith("Avis : ")
    assert declines is not None and declines.autopilot is not None
    assert (declines.autopilot.outcome, declines.autopilot.after_seconds) == ("cancelled", 3)
    assert declines.autopilot.report_text is None


def test_load_fixtures_spec_practitioners_never_answer_by_themselves() -> None:
    fixtures = load_fixtures(PACKAGED_FIXTURES)
    assert len(fixtures.practitioners) == len(SPEC_PRACTITIONERS) + len(SCENARIO_PRACTITIONERS)
    for rpps in SPEC_PRACTITIONERS:
        practitioner = fixtures.practitioner(rpps)
        assert practitioner is not None and practitioner.autopilot is None


def test_load_fixtures_finds_keys_and_practitioners() -> None:
    fixtures = load_fixtures(PACKAGED_FIXTURES)
    found = fixtures.find_key("sandbox-key-b")
    assert found is not None
    assert found.name == "Vendor B"
    assert fixtures.find_key("sandbox-key-") is None
    assert fixtures.find_key("") is None
    assert fixtures.is_known_practitioner("10002170750")
    assert not fixtures.is_known_practitioner("10000000000")


def test_load_fixtures_spec_example_shape(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
api_keys:
  - key: sandbox-key-a
    name: Vendor A
    webhook_url: http://127.0.0.1:9000/hook
    webhook_secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
practitioners:
  - rpps: "10002170750"
    first_name: Camille
    last_name: Durand
    specialty: Médecine générale
""",
    )
    fixtures = load_fixtures(path)
    assert fixtures.api_keys[0].webhook_url == "http://127.0.0.1:9000/hook"


def test_load_fixtures_names_file_entry_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "api_keys:\n  - key: k1\n    name: One\n    webhook_url: ftp://x\npractitioners: []\n",
    )
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path)
    message = str(caught.value)
    assert str(path) in message
    assert "api_keys[0] (k1)" in message
    assert "'webhook_url'" in message


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/hook", "http://[fe80::1]:9000/hook", "http://[::ffff:a9fe:1]/"]
)
def test_load_fixtures_refuses_a_link_local_webhook(tmp_path: Path, url: str) -> None:
    path = _write(
        tmp_path,
        f"api_keys:\n  - key: k1\n    name: One\n    webhook_url: '{url}'\npractitioners: []\n",
    )
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path)
    message = str(caught.value)
    assert "api_keys[0] (k1)" in message
    assert "'webhook_url'" in message
    assert "link-local" in message


def test_load_fixtures_allows_a_private_webhook(tmp_path: Path) -> None:
    text = (
        "api_keys:\n  - key: k1\n    name: One\n    webhook_url: http://10.1.2.3/h\n"
        "practitioners: []\n"
    )
    assert load_fixtures(_write(tmp_path, text)).api_keys[0].webhook_url == "http://10.1.2.3/h"


def test_load_fixtures_bad_rpps_format(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "practitioners:\n  - rpps: '123'\n    first_name: A\n    last_name: B\n    specialty: C\n",
    )
    with pytest.raises(FixtureError, match=r"practitioners\[0\] \(123\), field 'rpps'"):
        load_fixtures(path)


def test_load_fixtures_unknown_member(tmp_path: Path) -> None:
    path = _write(tmp_path, "api_keys:\n  - key: k1\n    name: One\n    colour: red\n")
    with pytest.raises(FixtureError, match="field 'colour'"):
        load_fixtures(path)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "api_keys:\n  - key: k\n    name: A\n  - key: k\n    name: B\n",
            "api_keys[1], field 'key'",
        ),
        (
            "practitioners:\n"
            + "  - {rpps: '10002170750', first_name: A, last_name: B, specialty: C}\n" * 2,
            "practitioners[1], field 'rpps'",
        ),
    ],
)
def test_load_fixtures_rejects_repeats(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(FixtureError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        load_fixtures(_write(tmp_path, text))


@pytest.mark.parametrize("text", ["api_keys: [\n", "- just\n- a list\n"])
def test_load_fixtures_not_a_mapping_or_not_yaml(tmp_path: Path, text: str) -> None:
    with pytest.raises(FixtureError, match=str(tmp_path)):
        load_fixtures(_write(tmp_path, text))


def test_load_fixtures_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="cannot read"):
        load_fixtures(tmp_path / "absent.yaml")


def test_load_fixtures_warns_on_check_digit(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "practitioners:\n  - {rpps: '10000000000', first_name: A, last_name: B, specialty: C}\n",
    )
    fixtures = load_fixtures(path)
    assert fixtures.is_known_practitioner("10000000000")
    assert len(fixtures.warnings) == 1
    assert "10000000000" in fixtures.warnings[0]


_SCENARIO = "practitioners:\n  - rpps: '10006789019'\n    first_name: A\n    last_name: B\n" + (
    "    specialty: C\n    autopilot:\n"
)


def test_load_fixtures_autopilot(tmp_path: Path) -> None:
    text = _SCENARIO + "      outcome: completed\n      after_seconds: 0.5\n"
    [practitioner] = load_fixtures(_write(tmp_path, text)).practitioners
    assert practitioner.autopilot is not None
    assert practitioner.autopilot.after_seconds == 0.5
    assert practitioner.autopilot.report_text is None  # the default report text then


@pytest.mark.parametrize(
    ("autopilot", "field", "message"),
    [
        ("{outcome: answered, after_seconds: 3}", "autopilot.outcome", "'completed' or"),
        ("{outcome: completed}", "autopilot.after_seconds", "Field required"),
        (
            "{outcome: completed, after_seconds: -1}",
            "autopilot.after_seconds",
            "greater than or equal to 0",
        ),
        ("{outcome: completed, after_seconds: '3'}", "autopilot.after_seconds", "valid number"),
        ("{outcome: completed, after_seconds: yes}", "autopilot.after_seconds", "valid number"),
        ("{outcome: completed, after_seconds: .inf}", "autopilot.after_seconds", "finite"),
        (
            "{outcome: completed, after_seconds: 1.0e+9}",
            "autopilot.after_seconds",
            "less than or equal to 604800",
        ),
        (
            "{outcome: cancelled, after_seconds: 3, report_text: Avis}",
            "autopilot.report_text",
            "only for outcome 'completed'",
        ),
        (
            '{outcome: completed, after_seconds: 3, report_text: "A\\0"}',
            "autopilot.report_text",
            "NUL",
        ),
        ("{outcome: completed, after_seconds: 3, delay: 1}", "autopilot.delay", "not permitted"),
        ("3", "autopilot", "valid dictionary"),
    ],
)
def test_load_fixtures_bad_autopilot(
    tmp_path: Path, autopilot: str, field: str, message: str
) -> None:
    text = _SCENARIO.replace("autopilot:\n", f"autopilot: {autopilot}\n")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(_write(tmp_path, text))
    assert f"{tmp_path / 'fixtures.yaml'}: entry practitioners[0] (10006789019), " in str(
        caught.value
    )
    assert f"field '{field}': " in str(caught.value)
    assert message in str(caught.value)
