"""The `omnidoc-sandbox` command: serve, reset, check-url, check-receiver, receiver-vectors,
test-kit."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn
import uvicorn.config

from app import resume_collector
from app.config import Settings, get_settings
from app.fixtures import FixtureError, Fixtures, load_fixtures
from app.http import server_start

if TYPE_CHECKING:
    from app.pages.url_method import LintReport

cli = typer.Typer(
    help="omnidoc-sandbox: a local, offline stand-in for the Omnidoc interop API.",
    no_args_is_help=True,
    add_completion=False,
)


def _load_or_exit(settings: Settings) -> Fixtures:
    try:
        return load_fixtures(settings.fixtures, admin_token=settings.admin_token)
    except FixtureError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


# Seconds an idle kept-alive connection stays open (uvicorn's default, said here: SPEC §7).
KEEP_ALIVE_SECONDS = 5
# At SIGTERM the held long-polls answer at once; what still runs after this is cancelled,
# so the process exits within 2 s (SPEC §6).
GRACEFUL_SHUTDOWN_SECONDS = 1


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (state lives in the DB).")] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
) -> None:
    """Run the sandbox HTTP server."""
    settings = get_settings()
    fixtures = _load_or_exit(settings)
    problem = server_start.listen_problem(host, port)
    if problem:  # said before the banner, which would claim it listens
        typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(server_start.banner(settings, fixtures, host, port))
    for warning in server_start.start_warnings(settings, host):
        typer.secho(f"WARNING: {warning}", fg=typer.colors.YELLOW, err=True)
    if workers > 1:  # this process only supervises: the workers load the app
        resume_collector()
    uvicorn.run(
        "app.main:app",  # an import string: each worker process imports the app itself
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=server_start.log_config(log_level, workers),
        access_log=False,  # app.main logs method, path, status and timing, never query strings
        limit_concurrency=settings.max_connections,  # beyond it: 503, connections cannot pile up
        # httptools with a head timeout, a per-address share of the slots, and the held
        # long-polls answered at SIGTERM (SPEC §6, §7): an import string, for the workers.
        http="app.http.connections:GuardedHttpProtocol",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,  # an idle kept-alive connection is closed
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        proxy_headers=True,
        ws="none",  # no WebSocket route: skip importing a WebSocket library at start
    )


@cli.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Wipe the database and stored files, then check the fixtures again."""
    resume_collector()  # paused for the start of a server (app/__init__.py)
    settings = get_settings()
    fixtures = _load_or_exit(settings)
    if not yes and _stdin_is_terminal():  # scripts and CI have no one to answer
        typer.confirm(
            f"Delete every draft, file and delivery in {server_start.safe_database_url(settings)}?",
            abort=True,
        )
    from app.db import create_db_engine, create_schema  # here, not at the top: see check_url
    from app.sandbox.resets import reset_all

    engine = create_db_engine(settings)
    try:
        create_schema(engine)
        reset_all(engine, settings=settings)
    finally:
        engine.dispose()
    typer.echo(
        f"reset done: database emptied, files removed; fixtures OK "
        f"({len(fixtures.api_keys)} keys, {len(fixtures.practitioners)} practitioners)"
    )


@cli.command("export")
def export_snapshot(
    file: Annotated[Path, typer.Argument(help="Where to write the snapshot (a .tar file).")],
) -> None:
    """Write a snapshot of everything (server stopped or running) to FILE."""
    resume_collector()  # paused for the start of a server (app/__init__.py)
    settings = get_settings()
    from app.db import create_db_engine, create_schema  # here, not at the top: see check_url
    from app.sandbox import snapshots

    engine = create_db_engine(settings)
    try:
        create_schema(engine)
        counts = snapshots.export_to_path(engine, file, settings=settings)
    except OSError as exc:
        typer.secho(f"error: cannot write {file}: {exc.strerror or exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    rows = sum(counts.tables.values())
    typer.echo(
        f"exported {rows} rows and {counts.files} files ({counts.file_bytes} bytes) to {file}"
    )


@cli.command("import")
def import_snapshot(
    file: Annotated[Path, typer.Argument(help="A snapshot written by `export`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace everything with the snapshot FILE (creates the database if needed); a bad
    file is refused and changes nothing."""
    resume_collector()  # paused for the start of a server (app/__init__.py)
    settings = get_settings()
    if not file.is_file():
        typer.secho(f"error: no such file: {file}", fg="red", err=True)
        raise typer.Exit(1)
    if not yes and _stdin_is_terminal():
        typer.confirm(
            f"Replace everything in {server_start.safe_database_url(settings)} with {file}?",
            abort=True,
        )
    from app.db import create_db_engine, create_schema  # here, not at the top: see check_url
    from app.errors import SnapshotInvalid
    from app.sandbox import snapshots

    engine = create_db_engine(settings)
    try:
        create_schema(engine)
        imported = snapshots.import_file(engine, file, settings=settings)
        assert imported is not None  # None only for a seed on a database with data
    except SnapshotInvalid as exc:
        typer.secho(f"error: {exc.detail}", fg="red", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(
        f"imported {sum(imported.tables.values())} rows and {imported.files} files "
        f"(format {imported.format}) into {server_start.safe_database_url(settings)}"
    )


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


_VALUE_WIDTH = 32


def _shown(value: str) -> str:
    """A value on one line of the table: line breaks shown as ⏎, long values cut."""
    one_line = value.replace("\r", "").replace("\n", "⏎")
    return one_line if len(one_line) <= _VALUE_WIDTH else one_line[: _VALUE_WIDTH - 1] + "…"


def _lint_table(report: LintReport) -> str:
    """Each parameter with its verdict and the rules' messages, then the URL's own issues."""
    rows = [("parameter", "value", "verdict", "details")]
    for param in report.parameters:
        details = "; ".join(f"{i.code}: {i.message}" for i in param.issues)
        rows.append((param.name, _shown(param.value), param.verdict, details))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        (
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
            + "  "
            + row[3]
        ).rstrip()
        for row in rows
    ]
    if not report.parameters:
        lines = ["no parameters: the page opens an empty form"]
    lines += [f"url: {issue.code}: {issue.message}" for issue in report.url_issues]
    verdict = "OK" if report.ok else "FAILED"
    lines.append(
        f"{verdict}: {len(report.parameters)} parameter(s), {report.errors} error(s), "
        f"{report.warnings} warning(s)"
    )
    return "\n".join(lines)


@cli.command("check-url")
def check_url(
    url: Annotated[str, typer.Argument(help="A prefill URL: …/interop/drafts/new#patient_…")],
    strict: Annotated[
        bool, typer.Option("--strict", help="Unknown parameters and RPPS check digits fail.")
    ] = False,
) -> None:
    """Lint a URL-method prefill link offline, with the API's rules; exit 1 on an error."""
    # Imported here, not at the top: `serve --workers N` spawns processes that import
    # this module before they answer uvicorn's health pings, so it must stay light.
    from app.pages import url_method as prefill

    resume_collector()  # paused for the start of a server (app/__init__.py)
    fixtures = _load_or_exit(get_settings())
    report = prefill.check_url(
        url, is_known_practitioner=fixtures.is_known_practitioner, strict=strict
    )
    typer.echo(_lint_table(report))
    typer.echo("\n" + textwrap.fill(prefill.HISTORY_NOTE, width=88, subsequent_indent="  "))
    if not report.ok:
        raise typer.Exit(1)


@cli.command()
def openapi(
    target: Annotated[
        Path | None, typer.Argument(help="Write it here (stdout when left out).")
    ] = None,
) -> None:
    """Print the OpenAPI document, as served at /openapi.json (`make openapi` commits it)."""
    from app.http.openapi_document import render  # the whole app: kept off the light import path
    from app.main import create_app

    text = render(create_app())
    if target is None:
        typer.echo(text, nl=False)
    else:
        target.write_text(text, encoding="utf-8")


@cli.command(
    "test-kit",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def test_kit(
    url: Annotated[str, typer.Option("--url", help="The sandbox's base URL.")],
    key: Annotated[str, typer.Option("--key", help="The vendor API key to judge.")],
    command: Annotated[
        list[str], typer.Argument(help="After `--`: your own tests, run with SANDBOX_URL/KEY.")
    ],
    resilience: Annotated[
        bool, typer.Option("--resilience", help="Also judge Retry-After (a 503 is injected).")
    ] = False,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the evidence PDF here.")] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds COMMAND may run.")
    ] = None,
) -> None:
    """Open a test session, run COMMAND, finish, write the reports and print each test's
    result; exit 1 when COMMAND failed or a required test did not pass."""
    from app.testkit import runner  # here, not at the top: see check_url

    resume_collector()  # paused for the start of a server (app/__init__.py)
    try:
        outcome = runner.run(
            url=url,
            key=key,
            command=command,
            resilience=resilience,
            timeout=timeout,
            junit=junit,
            pdf=pdf,
        )
    except runner.KitError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.echo(runner.table(outcome))
    if not outcome.ok:
        raise typer.Exit(1)


@cli.command("check-receiver")
def check_receiver(
    url: Annotated[str, typer.Argument(help="The webhook receiver's URL.")],
    secret: Annotated[str, typer.Option(help="Its Standard Webhooks secret (whsec_…).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the check as the API shows it.")
    ] = False,
    junit: Annotated[
        Path | None, typer.Option(help="Also write a JUnit XML report (one testcase per case).")
    ] = None,
) -> None:
    """Grade a webhook receiver with the twelve Standard Webhooks cases; exit 1 unless passed."""
    # Imported here, not at the top: see check_url.
    from app.errors import ValidationFailed
    from app.receiver_checks import offline
    from app.targets import check_target_url

    resume_collector()  # paused for the start of a server (app/__init__.py)
    settings = get_settings()
    try:
        check_target_url(url)
        check = offline.check_receiver(
            url=url, secret=secret, request_timeout=settings.webhook_timeout
        )
    except (ValidationFailed, ValueError) as exc:  # a link-local URL, a malformed secret
        said = [i.message for i in exc.errors] if isinstance(exc, ValidationFailed) else [exc]
        for message in said:
            typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.echo(check.model_dump_json(indent=2) if as_json else offline.table(check))
    if junit is not None:
        junit.write_text(offline.junit(check), encoding="utf-8")
    if check.status != "passed":
        raise typer.Exit(1)


@cli.command("receiver-vectors")
def receiver_vectors(
    secret: Annotated[
        str | None, typer.Option(help="The secret to sign with (a fixed example by default).")
    ] = None,
) -> None:
    """Print the receiver check's cases as test vectors (JSON) for a receiver's unit tests."""
    import json

    from app.models import utcnow
    from app.receiver_checks import offline

    resume_collector()
    document = offline.vectors(secret=secret or offline.VECTORS_SECRET, now=utcnow())
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def main() -> None:
    cli()
