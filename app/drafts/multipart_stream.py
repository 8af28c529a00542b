"""The upload stream: multipart parts to locked temp files, limits, names, sniffed types."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fastapi.concurrency import run_in_threadpool
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from app.errors import (
    FieldIssue,
    FileTooLarge,
    InvalidMultipart,
    UnsupportedMediaType,
    ValidationFailed,
)

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELD = "file"
# Room for a part's boundary and headers, and for the closing boundary, when judging
# whether a declared Content-Length can fit the limits at all.
PART_OVERHEAD = 16 * 1024
FLUSH_BYTES = 256 * 1024
SNIFF_BYTES = 132  # DICOM puts 'DICM' at offset 128
FILENAME_MAX = 255
# Control, format (bidi overrides, zero-width), surrogate and line/paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"PK\x03\x04", "application/zip"),
    (128, b"DICM", "application/dicom"),
)
# Office and OpenDocument files are ZIP containers: a ZIP sniff confirms these declarations.
_ZIP_BASED = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)


def field_issue(code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldIssue(FIELD, code, message)])


def clean_filename(raw: str) -> str:
    """The original name as metadata: no directories, no control or format characters."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Zl", "Zp"}
    )
    name = name.strip()
    if name in {"", ".", ".."}:
        return FIELD
    if len(name) > FILENAME_MAX:
        stem, dot, ext = name.rpartition(".")
        keep = f"{dot}{ext}" if dot and stem and len(ext) <= 16 else ""
        name = name[: FILENAME_MAX - len(keep)] + keep
    return name


def clean_media_type(raw: bytes | None) -> str:
    media_type = parse_options_header(raw)[0].decode("latin-1") if raw else ""
    return media_type if _MEDIA_TYPE.match(media_type) else "application/octet-stream"


def sniff(head: bytes, declared: str) -> str | None:
    """The type the first bytes show, from a few magic numbers; None when unknown."""
    for offset, magic, media_type in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if media_type == "application/zip" and declared.startswith(_ZIP_BASED):
                return declared
            return media_type
    return None


@dataclass
class Part:
    """One `file` part on its way to disk; the open handle holds an advisory lock."""

    index: int
    filename: str
    declared_type: str
    temp_path: Path
    storage_name: str = field(default_factory=lambda: uuid.uuid4().hex)
    handle: BinaryIO | None = None
    size: int = 0
    head: bytearray = field(default_factory=bytearray)
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    pending: list[bytes] = field(default_factory=list)
    done: bool = False
    synced: bool = False


@dataclass
class Receiver:
    """python-multipart callbacks: route `file` parts to temp files, enforce the limits."""

    tmp_dir: Path
    max_file_bytes: int
    slots: int
    parts: list[Part] = field(default_factory=list)
    ended: bool = False
    _current: Part | None = None
    _header_name: bytearray = field(default_factory=bytearray)
    _header_value: bytearray = field(default_factory=bytearray)
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _pending_bytes: int = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._header_name.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._current = None
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).lower().strip()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition")
        options = parse_options_header(disposition)[1] if disposition else {}
        if b"name" not in options:
            raise InvalidMultipart('Every part needs `Content-Disposition: form-data; name="…"`.')
        if options[b"name"] != FIELD.encode():
            return  # other fields are read and dropped
        if b"filename" not in options:
            # A plain form value named `file` (curl -F 'file=a.png', without the @).
            raise field_issue(
                "not_a_file",
                "A part named `file` has no filename: send a file, as curl does with "
                "`-F 'file=@a.png'` (note the @).",
            )
        if len(self.parts) >= self.slots:
            raise field_issue(
                "too_many_files",
                f"This draft can take {self.slots} more file(s) "
                "(OMNIDOC_MAX_FILES_PER_DRAFT counts the files already attached).",
            )
        raw_name = options[b"filename"].decode("utf-8", errors="replace")
        index = len(self.parts) + 1
        self._current = Part(
            index=index,
            filename=clean_filename(raw_name),
            declared_type=clean_media_type(self._headers.get(b"content-type")),
            temp_path=self.tmp_dir / f"{uuid.uuid4().hex}.part",
        )
        self.parts.append(self._current)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current
        if part is None:
            return
        part.size += end - start
        if part.size > self.max_file_bytes:
            raise FileTooLarge(
                f"File #{part.index} exceeds OMNIDOC_MAX_FILE_BYTES ({self.max_file_bytes} "
                "bytes); nothing was stored."
            )
        chunk = data[start:end]
        if len(part.head) < SNIFF_BYTES:
            part.head.extend(chunk[: SNIFF_BYTES - len(part.head)])
        part.pending.append(chunk)
        self._pending_bytes += len(chunk)

    def _part_end(self) -> None:
        if self._current is not None:
            self._current.done = True
        self._current = None

    def _end(self) -> None:
        self.ended = True

    def needs_flush(self) -> bool:
        return self._pending_bytes >= FLUSH_BYTES or any(
            p.done and not p.synced for p in self.parts
        )

    def flush(self) -> None:
        """Write pending bytes (in a worker thread); finished parts are fsynced."""
        for part in self.parts:
            if part.handle is None:
                part.handle = open_locked(part.temp_path)
            for chunk in part.pending:
                part.handle.write(chunk)
                part.hasher.update(chunk)
            part.pending.clear()
            if part.done and not part.synced:
                part.handle.flush()
                os.fsync(part.handle.fileno())
                part.synced = True
        self._pending_bytes = 0


def open_locked(path: Path) -> BinaryIO:
    """A new file, exclusively locked, that is still at `path` once the lock is held."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        handle = path.open("xb")
        try_lock(handle, wait=True)
        # A sweep (start-up, `reset`) may have locked and removed the new, still unlocked
        # file between our open and our lock: writing to it would lose the upload.
        if _still_at(handle, path):
            return handle
        handle.close()


def _still_at(handle: BinaryIO, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def try_lock(handle: BinaryIO, *, wait: bool = False) -> bool:
    """An exclusive advisory lock, held while a file is written or committed; sweeps skip
    or wait for locked files, so they never delete an upload in flight."""
    if sys.platform == "win32":  # pragma: no cover
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def boundary_of(content_type: str) -> bytes:
    media_type, options = parse_options_header(content_type)
    if media_type != b"multipart/form-data":
        shown = media_type.decode("latin-1")[:100] or "none"
        raise UnsupportedMediaType(
            f"Send `Content-Type: multipart/form-data` with parts named `file` (got `{shown}`)."
        )
    boundary = options.get(b"boundary", b"")
    if not 1 <= len(boundary) <= 70:
        raise InvalidMultipart("The multipart Content-Type needs a boundary of 1 to 70 chars.")
    return boundary


async def receive(
    receiver: Receiver, stream: AsyncIterator[bytes], *, boundary: bytes, body_limit: int
) -> None:
    """Feed the body to the parser as it arrives; writes happen in worker threads."""
    parser = MultipartParser(boundary, receiver.callbacks())
    total = 0
    try:
        async for chunk in stream:
            total += len(chunk)
            if total > body_limit:
                raise FileTooLarge(
                    f"The body exceeds what {receiver.slots} file(s) of OMNIDOC_MAX_FILE_BYTES "
                    f"({receiver.max_file_bytes} bytes) can take; nothing was stored."
                )
            parser.write(chunk)
            if receiver.needs_flush():
                await run_in_threadpool(receiver.flush)
        parser.finalize()
    except FormParserError:
        raise InvalidMultipart(
            "The multipart body is malformed: check the boundary and each part's headers."
        ) from None
    # A client gone mid-body (ClientDisconnect) is answered by app.errors: 499, journaled.
    if not receiver.ended:
        raise InvalidMultipart("The multipart body ended before its closing boundary.")
    await run_in_threadpool(receiver.flush)
