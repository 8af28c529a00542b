"""Snapshots (SPEC §10, README "Snapshots"): the whole sandbox, or one key's data, as one
file that imports anywhere, SQLite or PostgreSQL.

The file is a tar archive (`tarfile`, so any `tar tf` lists it):

- `tables/<table>.jsonl`: every row of the table, one JSON object per line; datetimes as
  ISO 8601 in UTC, binary columns in base64, JSON columns as JSON, so it is the same
  whatever database wrote it;
- `files/<storage name>`: each stored attachment's bytes;
- `manifest.json`: `format` (FORMAT), the sandbox version, the database kind, the scope,
  the counts, and each member's sha256 and size;
- `checksum.sha256`: the sha256 of every byte before it, so any changed byte (a tar
  header, padding, the manifest) is caught.

Table-driven: every table of app.models is exported and imported by its columns, so a
table added later travels with no change here; a vendor export needs a rule saying which
rows are the key's (KEY_ROWS), and leaves out tables without one.

Export streams: rows go through a temp file on disk (its size is needed before its tar
header), file bytes are copied in chunks; memory stays flat whatever the sizes. Import
first reads the whole file into a staging directory, verifying everything (format,
checksum, each member, the counts, file names) before anything is touched; then rows are
replaced in one transaction and the files moved into place, removed again if the
transaction fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any, BinaryIO

from sqlalchemy import Column, Connection, DateTime, Engine, LargeBinary, Table, func, select
from sqlmodel import SQLModel, col

from app.config import Settings
from app.db import retry_on_conflict, write_connection
from app.errors import SnapshotInvalid

logger = logging.getLogger("omnidoc_sandbox.snapshots")

FORMAT = 1
MANIFEST = "manifest.json"
CHECKSUM = "checksum.sha256"
TABLES_DIR = "tables/"
FILES_DIR = "files/"
_CHUNK = 1024 * 1024
_BATCH = 500
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$")


def _tables() -> list[Table]:
    """Every table, parents before children."""
    import app.models  # noqa: F401  (registers the tables)

    return list(SQLModel.metadata.sorted_tables)


# --- What a key owns (vendor export) --------------------------------------------------


def _key_rows() -> dict[str, Callable[[Table, str], Any]]:
    """Per table, the WHERE clause of one key's rows; tables not listed are not a key's."""
    from app.models import Draft, WebhookEvent

    def by_owner(table: Table, key: str) -> Any:
        return table.c.owner_key == key

    def by_draft(table: Table, key: str) -> Any:
        return table.c.draft_id.in_(select(col(Draft.id)).where(col(Draft.owner_key) == key))

    def by_event(table: Table, key: str) -> Any:
        owned = select(col(WebhookEvent.seq)).where(col(WebhookEvent.owner_key) == key)
        return table.c.event_seq.in_(owned)

    return {
        "draft": by_owner,
        "stored_file": by_draft,
        "rendered_report": by_draft,
        "autopilot_move": by_draft,
        "webhook_endpoint": by_owner,
        "webhook_event": by_owner,
        "webhook_attempt": by_event,
        "journal_entry": by_owner,
        "fault_rule": by_owner,
    }


# --- Values as JSON, the same from either database ------------------------------------


def _is_datetime(column: Column[Any]) -> bool:
    return isinstance(column.type, DateTime) or isinstance(
        getattr(column.type, "impl", None), DateTime
    )


def _is_binary(column: Column[Any]) -> bool:
    return isinstance(column.type, LargeBinary)


def _encode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if _is_datetime(column):
        moment: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if _is_binary(column):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if _is_datetime(column):
        return datetime.fromisoformat(value)
    if _is_binary(column):
        return base64.b64decode(value, validate=True)
    return value


# --- Writing ------------------------------------------------------------------------


class _CountingWriter:
    """The output as tarfile sees it: counts and hashes every byte written through it."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.hash = hashlib.sha256()
        self.written = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.hash.update(data)
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        self.out.flush()


class _HashingReader:
    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.hash.update(data)
        return data


class ArchiveWriter:
    """A snapshot being written: members one by one, then the manifest and the checksum."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = _CountingWriter(out)
        self._tar = tarfile.open(fileobj=self._out, mode="w", format=tarfile.USTAR_FORMAT)  # type: ignore[call-overload]  # noqa: SIM115
        self.members: dict[str, dict[str, Any]] = {}
        self._mtime = int(time.time())

    def add(self, name: str, source: BinaryIO, size: int) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, self._mtime, 0o644
        reader = _HashingReader(source)
        self._tar.addfile(info, reader)
        self.members[name] = {"sha256": reader.hash.hexdigest(), "size": size}

    def add_bytes(self, name: str, data: bytes) -> None:
        import io

        self.add(name, io.BytesIO(data), len(data))

    def finish(self, manifest: dict[str, Any]) -> None:
        """The manifest (members added so far), then the checksum of all bytes before it."""
        self.add_bytes(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
        self.add_bytes(CHECKSUM, (self._out.hash.hexdigest() + "\n").encode())
        self._tar.close()


@dataclass
class Counts:
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0


@contextmanager
def _snapshot_connection(engine: Engine) -> Iterator[Connection]:
    """One read transaction for every table: a consistent picture of a running sandbox."""
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ"}
        with engine.connect().execution_options(**options) as conn, conn.begin():
            yield conn
    else:
        with engine.connect() as conn, conn.begin():  # BEGIN; WAL: a snapshot from the first read
            yield conn


def export(
    engine: Engine, out: IO[bytes], *, settings: Settings, owner_key: str | None = None
) -> Counts:
    """Write the snapshot of every key (or of `owner_key`'s data only) to `out`."""
    counts = Counts()
    rules = _key_rows()
    writer = ArchiveWriter(out)
    names: list[str] = []
    with _snapshot_connection(engine) as conn, tempfile.TemporaryDirectory() as scratch:
        for table in _tables():
            query = select(table)
            if owner_key is not None:
                rule = rules.get(table.name)
                if rule is None:
                    continue  # not a key's (the inbox): not in a vendor's export
                query = query.where(rule(table, owner_key))
            query = query.order_by(*table.primary_key.columns)
            spool = Path(scratch) / f"{table.name}.jsonl"
            rows = 0
            with spool.open("wb") as handle:
                result = conn.execution_options(yield_per=1000).execute(query)
                for row in result.mappings():
                    line = {c.name: _encode(c, row[c.name]) for c in table.columns}
                    handle.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
                    rows += 1
                    if table.name == "stored_file":
                        names.append(str(row["storage_name"]))
            counts.tables[table.name] = rows
            with spool.open("rb") as handle:
                writer.add(f"{TABLES_DIR}{table.name}.jsonl", handle, spool.stat().st_size)
            spool.unlink()
        for name in names:
            path = settings.files_dir / name
            with path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                writer.add(f"{FILES_DIR}{name}", handle, size)
            counts.files += 1
            counts.file_bytes += size
    writer.finish(
        {
            "format": FORMAT,
            "sandbox_version": version("omnidoc-sandbox"),
            "database": engine.dialect.name,
            "created_at": datetime.now(UTC).isoformat(),
            "scope": "all" if owner_key is None else "key",
            "counts": {
                "tables": counts.tables,
                "files": counts.files,
                "file_bytes": counts.file_bytes,
            },
            "members": writer.members,
        }
    )
    return counts


def export_to_path(
    engine: Engine, path: Path, *, settings: Settings, owner_key: str | None = None
) -> Counts:
    """Write to `path` through a temp file beside it: a failed export leaves no half file."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with partial.open("wb") as out:
            counts = export(engine, out, settings=settings, owner_key=owner_key)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return counts


# --- Reading and verifying ----------------------------------------------------------


@dataclass
class Verified:
    """A snapshot read and checked into `staging`: nothing of it touched the sandbox yet."""

    staging: Path
    manifest: dict[str, Any]
    tables: dict[str, Path]
    files: dict[str, Path]


def _refuse(detail: str) -> SnapshotInvalid:
    return SnapshotInvalid(f"Snapshot refused, nothing changed: {detail}")


def _sha256_of(path: Path, *, limit: int | None = None) -> str:
    digest = hashlib.sha256()
    remaining = limit
    with path.open("rb") as handle:
        while remaining is None or remaining > 0:
            chunk = handle.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
            if not chunk:
                break
            digest.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return digest.hexdigest()


def _read_manifest(archive: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, Any]:
    handle = archive.extractfile(member)
    if handle is None:
        raise _refuse("manifest.json is not a regular file")
    try:
        manifest = json.loads(handle.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _refuse("manifest.json is not valid JSON (changed bytes?)") from None
    if not isinstance(manifest, dict):
        raise _refuse("manifest.json is not a JSON object")
    return manifest


def verify(path: Path, *, staging_parent: Path) -> Verified:
    """Check everything and unpack into a new staging directory; SnapshotInvalid if not."""
    try:
        archive = tarfile.open(path, mode="r:")  # noqa: SIM115  (closed below)
    except (tarfile.TarError, OSError):
        raise _refuse("not a snapshot (not a tar archive, or empty)") from None
    staging_parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="snapshot-import-", dir=staging_parent))
    try:
        with archive:
            try:
                members = archive.getmembers()
            except (tarfile.TarError, OSError, EOFError):
                raise _refuse("the file is truncated or damaged (unreadable tar)") from None
            by_name = {m.name: m for m in members}
            if MANIFEST not in by_name:
                raise _refuse("no manifest.json: the file is truncated or not a snapshot")
            manifest = _read_manifest(archive, by_name[MANIFEST])
            fmt = manifest.get("format")
            if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
                raise _refuse(f"manifest format {fmt!r} is not a format number")
            if fmt > FORMAT:
                raise _refuse(
                    f"format {fmt} is newer than this sandbox reads ({FORMAT}): "
                    "upgrade omnidoc-sandbox to import it"
                )
            verified = _verify_members(path, archive, members, manifest, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return verified


def _verify_members(
    path: Path,
    archive: tarfile.TarFile,
    members: list[tarfile.TarInfo],
    manifest: dict[str, Any],
    staging: Path,
) -> Verified:
    if not members or members[-1].name != CHECKSUM:
        raise _refuse("no checksum.sha256 at the end: the file is truncated or damaged")
    last = members[-1]
    handle = archive.extractfile(last)
    stated = handle.read().decode("ascii", "replace").strip() if handle else ""
    if _sha256_of(path, limit=last.offset) != stated:
        raise _refuse("checksum mismatch: bytes of the file were changed or lost")
    # After the checksum: its padding, the end-of-archive blocks and the record's padding,
    # zeros only, exactly as many as the writer puts (so a cut there is seen too).
    end_of_data = last.offset_data + -(-last.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
    expected_size = -(-(end_of_data + 2 * tarfile.BLOCKSIZE) // tarfile.RECORDSIZE)
    expected_size *= tarfile.RECORDSIZE
    with path.open("rb") as raw:
        raw.seek(last.offset_data + last.size)
        tail = raw.read()
    if path.stat().st_size != expected_size:
        raise _refuse("the end of the archive is cut or has extra bytes (truncated?)")
    if tail.strip(b"\0"):
        raise _refuse("changed bytes after the checksum (end of archive)")
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        raise _refuse("manifest.json lists no members")
    present = {m.name for m in members} - {MANIFEST, CHECKSUM}
    if missing := sorted(set(listed) - present):
        raise _refuse(f"member {missing[0]} is missing")
    if extra := sorted(present - set(listed)):
        raise _refuse(f"member {extra[0]} is not in the manifest")
    known = {table.name: table for table in _tables()}
    tables: dict[str, Path] = {}
    files: dict[str, Path] = {}
    (staging / "tables").mkdir()
    (staging / "files").mkdir()
    for member in members:
        if member.name in (MANIFEST, CHECKSUM):
            continue
        if not member.isfile():
            raise _refuse(f"member {member.name} is not a regular file")
        if member.name.startswith(TABLES_DIR) and member.name.endswith(".jsonl"):
            table_name = member.name[len(TABLES_DIR) : -len(".jsonl")]
            if table_name not in known:
                raise _refuse(f"table {table_name!r} is unknown to this sandbox version")
            target = staging / "tables" / f"{table_name}.jsonl"
            tables[table_name] = target
        elif member.name.startswith(FILES_DIR):
            name = member.name[len(FILES_DIR) :]
            if not _SAFE_NAME.match(name):
                raise _refuse(f"file name {name!r} is not a stored file's name")
            target = staging / "files" / name
            files[name] = target
        else:
            raise _refuse(f"member {member.name} is not part of a snapshot")
        source = archive.extractfile(member)
        assert source is not None
        digest = hashlib.sha256()
        with target.open("wb") as out:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        expected = listed[member.name]
        if not isinstance(expected, dict) or digest.hexdigest() != expected.get("sha256"):
            raise _refuse(f"member {member.name}: sha256 mismatch (changed bytes)")
    counts = manifest.get("counts", {}).get("tables", {})
    for table_name, staged in tables.items():
        with staged.open("rb") as handle:
            lines = sum(1 for _ in handle)
        if counts.get(table_name) != lines:
            raise _refuse(
                f"table {table_name}: {lines} rows, the manifest says {counts.get(table_name)}"
            )
    return Verified(staging=staging, manifest=manifest, tables=tables, files=files)


# --- Importing ----------------------------------------------------------------------


def _rows(table: Table, staged: Path) -> Iterator[dict[str, Any]]:
    columns = {c.name: c for c in table.columns}
    with staged.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                raw = json.loads(line)
            except ValueError:
                raise _refuse(f"table {table.name}, row {number}: not JSON") from None
            if not isinstance(raw, dict):
                raise _refuse(f"table {table.name}, row {number}: not an object")
            if unknown := sorted(set(raw) - set(columns)):
                raise _refuse(f"table {table.name}: unknown column {unknown[0]!r}")
            try:
                yield {name: _decode(columns[name], value) for name, value in raw.items()}
            except (ValueError, TypeError):
                raise _refuse(f"table {table.name}, row {number}: a value cannot be read") from None


# Any constant: the PostgreSQL advisory lock a seed's import holds (several workers start).
_SEED_LOCK_KEY = 0x5EED5EED


def _replace_rows(
    engine: Engine, verified: Verified, *, only_if_empty: bool = False
) -> dict[str, int] | None:
    """Every table emptied, then filled from the snapshot: one transaction. With
    `only_if_empty`, nothing is done (None) unless the database is empty, as seen under the
    write lock, so of several workers starting together one imports the seed."""
    tables = _tables()
    inserted: dict[str, int] = {}
    with write_connection(engine) as conn:
        if only_if_empty:
            if engine.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_SEED_LOCK_KEY)))
            if not _is_empty(conn):
                return None
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            staged = verified.tables.get(table.name)
            inserted[table.name] = 0
            if staged is None:
                continue
            batch: list[dict[str, Any]] = []
            for row in _rows(table, staged):
                batch.append(row)
                if len(batch) >= _BATCH:
                    conn.execute(table.insert(), batch)
                    inserted[table.name] += len(batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
                inserted[table.name] += len(batch)
            if engine.dialect.name == "postgresql":
                _advance_sequences(conn, table)
    return inserted


def _advance_sequences(conn: Connection, table: Table) -> None:
    """Rows came with their ids: the serial columns' next values go past them."""
    for column in table.primary_key.columns:
        if column.autoincrement is True or (
            column.autoincrement == "auto" and column.type.python_type is int
        ):
            sequence = func.pg_get_serial_sequence(table.name, column.name)
            highest = func.max(column)
            conn.execute(
                select(func.setval(sequence, func.coalesce(highest, 1), highest.is_not(None)))
            )


@dataclass
class Imported:
    format: int
    tables: dict[str, int]
    files: int


def import_file(
    engine: Engine, path: Path, *, settings: Settings, only_if_empty: bool = False
) -> Imported | None:
    """Replace everything with the snapshot at `path`, or refuse it and change nothing.

    `only_if_empty` (the seed): None, and nothing imported, when the database has rows.
    """
    from app.drafts import uploads

    verified = verify(path, staging_parent=settings.data_dir)
    files_dir = settings.files_dir
    files_dir.mkdir(parents=True, exist_ok=True)
    moved: list[Path] = []
    try:
        # Files first: a row never names a file that is not there. Those that were
        # already there (same storage name: same bytes) are left as they are.
        for name, staged in verified.files.items():
            final = files_dir / name
            if final.exists():
                if _sha256_of(final) == _sha256_of(staged):
                    continue
                raise _refuse(f"file {name} differs from the stored file of the same name")
            os.replace(staged, final)
            moved.append(final)
        replaced = retry_on_conflict(
            lambda: _replace_rows(engine, verified, only_if_empty=only_if_empty)
        )
    except BaseException:
        for final in moved:  # all or nothing: the rows were not replaced
            with suppress(OSError):
                final.unlink()
        raise
    finally:
        shutil.rmtree(verified.staging, ignore_errors=True)
    # The files no row names any more (or, when the seed was not needed, that we moved
    # in: another worker's seed import may name the same files, so only the sweep judges).
    uploads.sweep_orphans(engine, settings=settings)
    if replaced is None:
        return None
    tables = replaced
    logger.info(
        "snapshot imported: %d tables, %d files", sum(1 for n in tables.values() if n), len(moved)
    )
    return Imported(
        format=int(verified.manifest["format"]), tables=tables, files=len(verified.files)
    )


def _is_empty(conn: Connection) -> bool:
    """No row in any table (what OMNIDOC_SEED checks: the fixtures are not rows)."""
    for table in _tables():
        if table.name == "inbox_usage":
            continue  # a counter, zero when the inbox is empty
        if conn.execute(select(table).limit(1)).first() is not None:
            return False
    return True


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return _is_empty(conn)


# What an export or an import leaves in the data dir while it runs.
_LEFTOVER_PREFIXES = ("snapshot-export-", "snapshot-upload-", "snapshot-import-")
LEFTOVER_AGE_SECONDS = 3600.0


def sweep_leftovers(settings: Settings) -> int:
    """At start: remove what an export or import cut short left (older than an hour, so
    another worker's transfer in progress is not touched); the count removed."""
    removed = 0
    if not settings.data_dir.is_dir():
        return 0
    cutoff = time.time() - LEFTOVER_AGE_SECONDS
    for path in settings.data_dir.iterdir():
        if not path.name.startswith(_LEFTOVER_PREFIXES):
            continue
        with suppress(OSError):
            if path.stat().st_mtime > cutoff:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
    return removed


def import_seed(engine: Engine, *, settings: Settings) -> None:
    """OMNIDOC_SEED at start: imported when the database is empty, else ignored; logged."""
    seed = settings.seed
    if seed is None:
        return
    if not database_is_empty(engine):
        logger.info("OMNIDOC_SEED ignored: the database already holds data")
        return
    try:
        imported = import_file(engine, seed, settings=settings, only_if_empty=True)
    except SnapshotInvalid as exc:
        logger.error("OMNIDOC_SEED not imported: %s", exc.detail)
        return
    except OSError as exc:
        logger.error("OMNIDOC_SEED not imported: cannot read it (%s)", exc.strerror or exc)
        return
    if imported is None:
        logger.info("OMNIDOC_SEED ignored: the database already holds data")
        return
    logger.info(
        "OMNIDOC_SEED imported: %d drafts, %d files",
        imported.tables.get("draft", 0),
        imported.files,
    )
