"""The built-in webhook receiver: `/_sandbox/inbox/{name}` records any request (README,
"Receive notifications")."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db import read_session, write_session
from app.errors import BodyTooLarge, FieldIssue, ValidationFailed
from app.longpoll import newest_page
from app.models import InboxItem, InboxUsage
from app.sandbox.schemas import InboxRequest

NAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
NAME_RE = re.compile(NAME_PATTERN)
KEEP_PER_NAME = 1000
# Oldest items looked at per step when the inbox is over its bound.
EVICT_BATCH = 100
PAGE = 100
# Credentials a demo may send along; the inbox is a demo tool, not a place to keep them.
_REDACTED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        message = "The inbox name must be 1-64 letters, digits, '.', '_' or '-'."
        raise ValidationFailed(message, errors=[FieldIssue("name", "invalid_name", message)])
    return name


def _stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for key, value in headers.items():
        name = key.lower()
        value = "[redacted]" if name in _REDACTED_HEADERS else value
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


def footprint(*, size: int, encoding: str, headers: Mapping[str, str]) -> int:
    """What one item takes in the database: its body as stored (base64 is 4/3 larger) and
    its headers as JSON; the measure of OMNIDOC_INBOX_MAX_BYTES."""
    body = (size + 2) // 3 * 4 if encoding == "base64" else size
    return body + len(json.dumps(headers))


def _sized(session: Session, *where: Any, limit: int | None = None) -> list[tuple[int, int]]:
    """`(seq, footprint)` of the items matching `where`, oldest first."""
    query = (
        select(
            col(InboxItem.seq),
            col(InboxItem.size),
            col(InboxItem.body_encoding),
            col(InboxItem.headers),
        )
        .where(*where)
        .order_by(col(InboxItem.seq))
        .limit(limit)
    )
    return [
        (seq, footprint(size=size, encoding=encoding, headers=headers))
        for seq, size, encoding, headers in session.exec(query).all()
        if seq is not None
    ]


def _delete(session: Session, usage: InboxUsage, rows: list[tuple[int, int]]) -> None:
    if rows:
        session.execute(delete(InboxItem).where(col(InboxItem.seq).in_([s for s, _ in rows])))
        usage.stored_bytes -= sum(size for _, size in rows)


def _locked_usage(session: Session) -> InboxUsage:
    """The usage row, locked; counted from the items when missing (new or wiped database)."""
    usage = session.get(InboxUsage, 1, with_for_update=True)
    if usage is None:
        usage = InboxUsage(id=1, stored_bytes=sum(size for _, size in _sized(session)))
        session.add(usage)
        session.flush()
    return usage


def _body_text(body: bytes) -> tuple[str, str]:
    """The body as UTF-8 text, or base64 when it is binary (or holds a NUL)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if body and (not text or "\x00" in text):
        return base64.b64encode(body).decode(), "base64"
    return text, "utf-8"


def record_request(
    engine: Engine,
    *,
    name: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    max_bytes: int,
) -> InboxItem:
    """Store one received request. An inbox keeps its newest KEEP_PER_NAME items, and all
    inboxes together at most `max_bytes` (OMNIDOC_INBOX_MAX_BYTES): the oldest go first."""
    text, encoding = _body_text(body)
    kept_headers = _stored_headers(headers)
    size = footprint(size=len(body), encoding=encoding, headers=kept_headers)
    if size > max_bytes:
        raise BodyTooLarge(
            f"This request takes {size} bytes as stored (body and headers), more than the "
            f"whole inbox may hold (OMNIDOC_INBOX_MAX_BYTES, {max_bytes} bytes)."
        )
    for retry in (False, True):
        try:
            with write_session(engine) as session:
                usage = _locked_usage(session)  # first: concurrent writers queue here
                item = InboxItem(
                    name=check_name(name),
                    method=method[:10],
                    headers=kept_headers,
                    body=text,
                    body_encoding=encoding,
                    size=len(body),
                )
                session.add(item)
                session.flush()
                _make_room(session, usage, item, size=size, max_bytes=max_bytes)
            return item
        except IntegrityError:  # PostgreSQL: another process created the usage row first
            if retry:
                raise
    raise AssertionError("unreachable")


def _make_room(
    session: Session, usage: InboxUsage, item: InboxItem, *, size: int, max_bytes: int
) -> None:
    """Count the new item, then drop its inbox's items beyond KEEP_PER_NAME and, while
    all inboxes hold more than `max_bytes`, the oldest items of any inbox."""
    assert item.seq is not None
    usage.stored_bytes += size
    beyond_keep = col(InboxItem.seq) <= item.seq - KEEP_PER_NAME
    _delete(session, usage, _sized(session, InboxItem.name == item.name, beyond_keep))
    while usage.stored_bytes > max_bytes:
        oldest = _sized(session, col(InboxItem.seq) < item.seq, limit=EVICT_BATCH)
        if not oldest:  # the count had drifted (rows deleted elsewhere): only this one is left
            usage.stored_bytes = size
            break
        excess, doomed = usage.stored_bytes - max_bytes, []
        for seq, stored in oldest:
            if excess <= 0:
                break
            doomed.append((seq, stored))
            excess -= stored
        _delete(session, usage, doomed)
    session.add(usage)


def item_view(item: InboxItem) -> InboxRequest:
    return InboxRequest.model_validate(item, from_attributes=True)


def list_items(engine: Engine, *, name: str, after: str | None = None) -> list[InboxRequest]:
    """Newest first, at most 100; `after` keeps only the items received after that one."""
    check_name(name)
    with read_session(engine) as session:
        scope, what = InboxItem.name == name, "an item of this inbox"
        items = newest_page(session, InboxItem, scope=scope, after=after, what=what, limit=PAGE)
        return [item_view(item) for item in items]
