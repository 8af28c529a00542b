"""The upload stream: multipart parts to locked temp files, limits, names, sniffed types."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.config import Settings
from app.drafts import multipart_stream
from app.drafts.multipart_stream import FIELD, Receiver, clean_filename, sniff
from app.errors import FileTooLarge, InvalidMultipart, UnsupportedMediaType, ValidationFailed

BOUNDARY = b"sandbox-test-boundary"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _part(name: str, content: bytes, *, filename: str | None = None, ctype: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (
        f'; filename="{filename}"' if filename is not None else ""
    )
    head = f"--{BOUNDARY.decode()}\r\nContent-Disposition: {disposition}\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    return head.encode() + b"\r\n" + content + b"\r\n"


def _body(*parts: bytes, closed: bool = True) -> bytes:
    return b"".join(parts) + (b"--" + BOUNDARY + b"--\r\n" if closed else b"")


async def _chunks(body: bytes, size: int = 100) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _receive(
    tmp_path: Path,
    body: bytes,
    *,
    max_file_bytes: int = 10_000,
    slots: int = 5,
    body_limit: int = 100_000,
) -> Receiver:
    receiver = Receiver(tmp_dir=tmp_path / "tmp", max_file_bytes=max_file_bytes, slots=slots)
    stream = _chunks(body)
    run = multipart_stream.receive(receiver, stream, boundary=BOUNDARY, body_limit=body_limit)
    try:
        asyncio.run(run)
    finally:
        for part in receiver.parts:
            if part.handle is not None:
                part.handle.close()
    return receiver


def _issue_code(raised: pytest.ExceptionInfo[ValidationFailed]) -> str:
    (issue,) = raised.value.errors
    assert issue.field == FIELD
    return issue.code


def test_receive_writes_each_file_part_to_its_temp_file(tmp_path: Path) -> None:
    body = _body(
        _part("file", PNG, filename="a.png", ctype="image/png"),
        _part("file", b"%PDF-1.7 x", filename="b.pdf", ctype="application/pdf"),
    )
    receiver = _receive(tmp_path, body)
    assert [p.filename for p in receiver.parts] == ["a.png", "b.pdf"]
    first, second = receiver.parts
    assert first.temp_path.read_bytes() == PNG
    assert first.size == len(PNG)
    assert first.hasher.hexdigest() == hashlib.sha256(PNG).hexdigest()
    assert (first.declared_type, sniff(bytes(first.head), first.declared_type)) == (
        "image/png",
        "image/png",
    )
    assert second.temp_path.read_bytes() == b"%PDF-1.7 x"
    assert all(p.synced for p in receiver.parts)


def test_receive_drops_other_fields(tmp_path: Path) -> None:
    body = _body(_part("note", b"hello"), _part("file", PNG, filename="a.png"))
    receiver = _receive(tmp_path, body)
    assert [p.index for p in receiver.parts] == [1]


def test_receive_refuses_a_form_value_named_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as raised:
        _receive(tmp_path, _body(_part("file", b"a.png")))
    assert _issue_code(raised) == "not_a_file"


def test_receive_refuses_more_files_than_slots(tmp_path: Path) -> None:
    body = _body(*[_part("file", b"x", filename=f"{i}.txt") for i in range(3)])
    with pytest.raises(ValidationFailed) as raised:
        _receive(tmp_path, body, slots=2)
    assert _issue_code(raised) == "too_many_files"


def test_receive_refuses_a_file_over_the_limit(tmp_path: Path) -> None:
    with pytest.raises(FileTooLarge):
        _receive(tmp_path, _body(_part("file", b"x" * 101, filename="a")), max_file_bytes=100)


def test_receive_takes_a_file_exactly_at_the_limit(tmp_path: Path) -> None:
    receiver = _receive(
        tmp_path, _body(_part("file", b"x" * 100, filename="a")), max_file_bytes=100
    )
    assert receiver.parts[0].size == 100


def test_receive_refuses_a_body_over_its_limit(tmp_path: Path) -> None:
    body = _body(_part("other", b"y" * 5000))
    with pytest.raises(FileTooLarge):
        _receive(tmp_path, body, body_limit=1000)


def test_receive_refuses_a_body_without_closing_boundary(tmp_path: Path) -> None:
    with pytest.raises(InvalidMultipart):
        _receive(tmp_path, _body(_part("file", PNG, filename="a.png"), closed=False))


def test_receive_refuses_a_part_without_a_name(tmp_path: Path) -> None:
    part = f"--{BOUNDARY.decode()}\r\nContent-Disposition: form-data\r\n\r\nx\r\n".encode()
    with pytest.raises(InvalidMultipart):
        _receive(tmp_path, _body(part))


def test_receive_refuses_garbage(tmp_path: Path) -> None:
    with pytest.raises(InvalidMultipart):
        _receive(tmp_path, b"--" + BOUNDARY + b"\r\nno colon here\r\n\r\n")


def test_boundary_of_reads_the_boundary() -> None:
    assert multipart_stream.boundary_of("multipart/form-data; boundary=abc") == b"abc"


def test_boundary_of_refuses_another_media_type() -> None:
    with pytest.raises(UnsupportedMediaType):
        multipart_stream.boundary_of("application/json")


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_boundary_of_refuses_a_missing_boundary(content_type: str) -> None:
    with pytest.raises(InvalidMultipart):
        multipart_stream.boundary_of(content_type)


def test_boundary_of_refuses_a_boundary_over_70_characters() -> None:
    with pytest.raises(InvalidMultipart):
        multipart_stream.boundary_of("multipart/form-data; boundary=" + "b" * 71)


def test_clean_filename_strips_directories_and_control_characters() -> None:
    assert clean_filename("C:\\Users\\x\\..\\ré\u202esumé\x00.pdf") == "résumé.pdf"
    assert clean_filename("../../etc/passwd") == "passwd"


@pytest.mark.parametrize("raw", ["", "  ", ".", "..", "dir/", "\u200b"])
def test_clean_filename_of_nothing_is_the_field_name(raw: str) -> None:
    assert clean_filename(raw) == FIELD


def test_clean_media_type_keeps_a_valid_type_without_parameters() -> None:
    assert multipart_stream.clean_media_type(b"text/plain; charset=utf-8") == "text/plain"


@pytest.mark.parametrize("raw", [None, b"", b"not a type", b"text/<script>"])
def test_clean_media_type_of_anything_else_is_octet_stream(raw: bytes | None) -> None:
    assert multipart_stream.clean_media_type(raw) == "application/octet-stream"


def test_try_lock_fails_while_another_handle_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "held.part"
    with multipart_stream.open_locked(path) as holder, path.open("rb") as other:
        assert holder.writable()
        assert multipart_stream.try_lock(other) is False
    with path.open("rb") as other:
        assert multipart_stream.try_lock(other) is True


def test_clean_filename_keeps_the_extension_when_too_long() -> None:
    name = clean_filename("é" * 300 + ".pdf")
    assert len(name) == 255
    assert name.endswith(".pdf")


@pytest.mark.parametrize(
    ("head", "declared", "expected"),
    [
        (b"%PDF-1.7", "application/octet-stream", "application/pdf"),
        (b"\xff\xd8\xff\xe0", "image/png", "image/jpeg"),
        (b"GIF89a", "image/gif", "image/gif"),
        (b"\x00" * 128 + b"DICM", "application/octet-stream", "application/dicom"),
        (b"PK\x03\x04", "application/zip", "application/zip"),
        (
            b"PK\x03\x04",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"hello", "text/plain", None),
    ],
)
def test_sniff(head: bytes, declared: str, expected: str | None) -> None:
    assert sniff(head, declared) == expected


def test_open_locked_survives_a_sweep_before_its_lock(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = settings.files_dir / "tmp" / "race.part"
    real_lock = multipart_stream.try_lock
    swept: list[bool] = []

    def lock_after_a_sweep(handle: object, *, wait: bool = False) -> bool:
        if not swept:  # a sweep takes and deletes the new file before our lock
            swept.append(True)
            target.unlink()
        return real_lock(handle, wait=wait)  # type: ignore[arg-type]

    monkeypatch.setattr(multipart_stream, "try_lock", lock_after_a_sweep)
    with multipart_stream.open_locked(target) as handle:
        handle.write(b"kept")
        handle.flush()
        assert target.read_bytes() == b"kept"
