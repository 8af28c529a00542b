"""Where a create's CPU goes: the whole create in-process, and each step it cannot skip.

Run by hand (not in CI):

    .venv/bin/python bench/create_cost.py [--creates 16000] [--rounds 3]

The body is the one `../shared/bench/compare.sh` posts (a patient with a NIR whose
gender and birth date disagree with it: two warnings, so one WARNING access line per
call). Figures are CPU microseconds per create (process time, median of the rounds):

- `whole create, no socket`: the ASGI app called directly by 32 concurrent clients (all
  middlewares, the handler, the group commit), without uvicorn's HTTP parsing and socket
  writes. The difference with compare.sh's `us/req` is the HTTP server's share.
- then each step alone, run the way the create runs it: the JSON parse with its checks,
  the field rules, the draft and journal rows committed by the group commit (32 creates
  in flight, so one transaction per 32), the journal row and access line, the fault
  lookup. Their sum is what the sandbox must do beyond a bare FastAPI endpoint.

SQLite in a temp dir; nothing is contacted over the network.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

DATA = tempfile.mkdtemp(prefix="omnidoc-cost-")
os.environ["OMNIDOC_DATA_DIR"] = DATA
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvloop  # noqa: E402
from starlette.types import Message  # noqa: E402

from app import callnotes  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import create_db_engine, create_schema, loop_connection  # noqa: E402
from app.drafts import service as drafts  # noqa: E402
from app.drafts.validation import validate_draft  # noqa: E402
from app.fixtures import load_fixtures  # noqa: E402
from app.groupcommit import GroupCommit  # noqa: E402
from app.http import accesslog  # noqa: E402
from app.http.bodies import parse_json  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import utcnow  # noqa: E402
from app.sandbox import faults, journal  # noqa: E402

KEY = "sandbox-key-a"
PATH = "/api/interop/v1/drafts"
BODY = (
    b'{"author_rpps":"10002170750","patient":{"first_name":"Jeanne","last_name":"Dupuis",'
    b'"nir":"190095916511287","gender":"F","birth_date":"1990-03-12"},'
    b'"text":"Compte rendu de consultation. Patiente vue ce jour pour suivi. Examen clinique'
    b' sans particularite. Traitement inchange, controle dans trois mois.",'
    b'"context":{"id":"%d"}}'
)
CLIENTS = 32


def _quiet_logs(path: Path) -> None:
    """The sandbox's console format, written to a file as compare.sh's server does."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _per_call(count: int, step: Callable[[int], object]) -> float:
    started = time.process_time()
    for n in range(count):
        step(n)
    return (time.process_time() - started) * 1e6 / count


async def _concurrently(count: int, call: Callable[[int], Coroutine[Any, Any, object]]) -> float:
    """CPU µs per call with CLIENTS calls in flight, as under compare.sh's 32 connections."""
    numbers = iter(range(count))

    async def client() -> None:
        for n in numbers:
            await call(n)

    started = time.process_time()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return (time.process_time() - started) * 1e6 / count


async def _whole_create(count: int) -> float:
    app = create_app()
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def to_outbox(message: Message) -> None:
        await outbox.put(message)

    await inbox.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan", "state": {}}, inbox.get, to_outbox))
    assert (await outbox.get())["type"] == "lifespan.startup.complete"

    async def create(n: int) -> None:
        body = BODY % n
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": PATH,
            "raw_path": PATH.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {KEY}".encode()),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        statuses: list[int] = []

        async def receive() -> Message:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # never: the create reads its body once
            raise AssertionError

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)
        assert statuses == [200], statuses

    await _concurrently(count // 4, create)  # warm-up
    cost = await _concurrently(count, create)
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()
    await lifespan
    return cost


async def _steps(count: int) -> dict[str, float]:
    settings = Settings()
    fixtures = load_fixtures(settings.fixtures)
    raw = BODY % 1
    body = parse_json(raw)
    examples = fixtures.rpps_examples()
    costs = {
        "parse the JSON body": _per_call(count, lambda _: parse_json(raw)),
        "field rules (validate_draft)": _per_call(
            count,
            lambda _: validate_draft(
                body,
                strict=False,
                is_known_practitioner=fixtures.is_known_practitioner,
                directory_examples=examples,
            ),
        ),
    }
    engine = create_db_engine(Settings(data_dir=Path(DATA) / "steps"))
    create_schema(engine)
    report = validate_draft(body, strict=False, is_known_practitioner=lambda _: True)
    notes = callnotes.CallNotes()
    notes.warnings = list(report.warnings)
    log = logging.getLogger("omnidoc_sandbox.access")

    def journal_row(n: int) -> dict[str, Any]:
        return journal.entry_row(
            owner_key=KEY,
            at=utcnow(),
            method="POST",
            path=PATH,
            status=200,
            draft_id=None,
            duration_ms=1.0,
            errors=[],
            warnings=notes.warnings,
        )

    def journal_and_log(n: int) -> None:
        journal_row(n)
        log.warning("%s %s %s %.1fms | %s", "POST", PATH, 200, 1.0, accesslog.summary(notes, 200))

    costs["journal row and access line"] = _per_call(count, journal_and_log)
    with loop_connection(engine) as loop_db:
        assert loop_db is not None
        costs["fault lookup (no rule)"] = _per_call(
            count, lambda _: faults._live_rules_on_loop(loop_db, owner_key=KEY)
        )
        writer = GroupCommit(engine, inline=loop_db)
        runner = asyncio.create_task(writer.run())

        async def store(n: int) -> None:
            await drafts.store_draft(writer, owner_key=KEY, body=body)
            await journal.record(writer, row=journal_row(n), keep=settings.journal_size)

        await _concurrently(count // 4, store)  # warm-up
        costs["draft + journal rows, group commit"] = await _concurrently(count, store)
        runner.cancel()
    engine.dispose()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=16000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _quiet_logs(Path(DATA) / "console.log")
    rounds: list[dict[str, float]] = []
    for _ in range(args.rounds):
        costs = {"whole create, no socket": uvloop.run(_whole_create(args.creates))}
        costs |= uvloop.run(_steps(args.creates))
        rounds.append(costs)
    print(f"CPU µs per create, median of {args.rounds} rounds (min–max):")
    medians = {}
    for name in rounds[0]:
        values = [r[name] for r in rounds]
        medians[name] = statistics.median(values)
        print(f"  {name:38} {medians[name]:7.1f}   ({min(values):.1f}–{max(values):.1f})")
    steps = sum(value for name, value in medians.items() if name != "whole create, no socket")
    print(f"  {'sum of the steps':38} {steps:7.1f}")


if __name__ == "__main__":
    main()
