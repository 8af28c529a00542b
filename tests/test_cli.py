"""The Typer CLI: reset empties the database and the files; check-url lints a prefill link."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

import app.cli
from app.cli import cli
from app.config import Settings, get_settings
from app.db import create_db_engine, create_schema, read_session
from app.drafts.service import create_draft
from app.models import Draft
from app.pages import url_method as prefill
from tests.e2e.server import console_script
from tests.omnidoc_examples import FULL_EXAMPLE, PARTIAL_EXAMPLE, fragment

runner = CliRunner()


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("OMNIDOC_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("OMNIDOC_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_reset_empties_database_and_files(cli_settings: Settings) -> None:
    engine = create_db_engine(cli_settings)
    create_schema(engine)
    create_draft(engine, owner_key="sandbox-key-a", body={"text": "x"})
    stray = cli_settings.files_dir / "stray.bin"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")
    result = runner.invoke(cli, ["reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert "reset done" in result.output
    with read_session(engine) as session:
        assert session.exec(select(Draft)).all() == []
    assert not stray.exists()
    engine.dispose()


def test_reset_refuses_broken_fixtures(
    cli_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "f.yaml"
    broken.write_text("api_keys: 3\n")
    monkeypatch.setenv("OMNIDOC_FIXTURES", str(broken))
    get_settings.cache_clear()
    result = runner.invoke(cli, ["reset", "--yes"])
    assert result.exit_code == 2
    assert str(broken) in result.output


def test_reset_asks_before_deleting(
    cli_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.cli, "_stdin_is_terminal", lambda: True)
    result = runner.invoke(cli, ["reset"], input="n\n")
    assert result.exit_code == 1
    assert "Aborted" in result.output


def test_check_url_partial_example_exits_1_naming_patient_nir() -> None:
    result = runner.invoke(cli, ["check-url", PARTIAL_EXAMPLE])
    assert result.exit_code == 1
    lines = {line.split()[0]: line for line in result.output.splitlines() if line}
    assert "error" in lines["patient_nir"]
    assert "nir_format" in lines["patient_nir"]
    assert lines["patient_first_name"].split()[2] == "ok"
    assert "FAILED: 8 parameter(s), 1 error(s), 0 warning(s)" in result.output


def test_check_url_full_example_shows_each_parameter() -> None:
    result = runner.invoke(cli, ["check-url", FULL_EXAMPLE])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    verdict = next(i for i, line in enumerate(lines) if line.startswith("FAILED: "))
    rows = [line.split()[0] for line in lines[1:verdict]]
    assert rows == [p.name for p in prefill.parse_fragment(fragment(FULL_EXAMPLE))]
    assert "patient_phone        066666666" in result.output
    assert "APPARTEMENT 1 BATIMENT GRAVIER⏎" in result.output


def test_check_url_valid_link_exits_0() -> None:
    url = "http://127.0.0.1:8000/interop/drafts/new#patient_first_name=Pierre&patient_birth_order=1"
    result = runner.invoke(cli, ["check-url", url])
    assert result.exit_code == 0, result.output
    assert "OK: 2 parameter(s), 0 error(s), 0 warning(s)" in result.output


def test_check_url_unknown_parameter_is_a_warning() -> None:
    url = "https://app.omnidoc.fr/interop/drafts/new#patient_firstname=Pierre"
    result = runner.invoke(cli, ["check-url", url])
    assert result.exit_code == 0
    assert "did you mean patient_first_name?" in result.output


def test_check_url_unknown_parameter_fails_when_strict() -> None:
    url = "https://app.omnidoc.fr/interop/drafts/new#patient_firstname=Pierre"
    assert runner.invoke(cli, ["check-url", url, "--strict"]).exit_code == 1


def test_check_url_ignores_omnidoc_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIDOC_STRICT", "true")
    get_settings.cache_clear()
    url = "https://app.omnidoc.fr/interop/drafts/new#patient_firstname=Pierre"
    try:
        assert runner.invoke(cli, ["check-url", url]).exit_code == 0
    finally:
        get_settings.cache_clear()


def test_check_url_wrong_path_exits_1() -> None:
    result = runner.invoke(cli, ["check-url", "https://app.omnidoc.fr/interop/drafts#text=x"])
    assert result.exit_code == 1
    assert "wrong_path" in result.output


def test_check_url_console_script() -> None:
    for command in ([console_script()], [sys.executable, "-m", "app"]):
        done = subprocess.run(
            [*command, "check-url", PARTIAL_EXAMPLE], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1, done.stderr
        assert "patient_nir" in done.stdout
        assert "nir_format" in done.stdout


def test_cli_module_stays_light_for_spawned_workers() -> None:
    # `serve --workers N` spawns processes that import the console script's module before
    # they answer uvicorn's health pings; with the whole app imported there, they missed them.
    heavy = "{'app.drafts.service', 'app.pages.url_method'}"
    code = f"import sys, app.cli; print(sorted({heavy} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_reset_without_a_terminal_does_not_ask(cli_settings: Settings) -> None:
    engine = create_db_engine(cli_settings)
    create_schema(engine)
    create_draft(engine, owner_key="sandbox-key-a", body={"text": "x"})
    env = {"PATH": os.defpath, "OMNIDOC_DATA_DIR": str(cli_settings.data_dir)}
    if cli_settings.database_url:
        env["OMNIDOC_DATABASE_URL"] = cli_settings.database_url
    no_terminal: list[dict[str, Any]] = [{"stdin": subprocess.DEVNULL}, {"input": ""}]  # a pipe
    for stdin in no_terminal:
        result = subprocess.run(
            [console_script(), "reset"],
            env=env,
            **stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "reset done" in result.stdout
    with read_session(engine) as session:
        assert session.exec(select(Draft)).all() == []
    engine.dispose()


def test_check_url_says_what_leaves_the_history_and_what_does_not() -> None:
    url = "http://127.0.0.1:8000/interop/drafts/new#patient_first_name=Pierre"
    result = runner.invoke(cli, ["check-url", url])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "removes the link's data from the address bar and from the tab's session history" in said
    assert "does NOT remove it from the browser's own history database" in said
    assert "private window" in said and "prefer the API" in said
