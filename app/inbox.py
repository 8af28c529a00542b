"""The built-in webhook receiver: `/_sandbox/inbox/{name}` records any request (README,
"Receive notifications")."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

from sqlalchemy import Engine, delete
from sqlmodel import col, select

from app.db import read_session, write_session
from app.errors import FieldIssue, ValidationFailed
from app.longpoll import newer_than
from app.models import InboxItem
from app.sandbox_schemas import InboxRequest

NAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
NAME_RE = re.compile(NAME_PATTERN)
KEEP_PER_NAME = 1000
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


def record_request(
    engine: Engine, *, name: str, method: str, headers: Mapping[str, str], body: bytes
) -> InboxItem:
    """Store one received request; only the newest KEEP_PER_NAME of an inbox are kept."""
    try:
        text, encoding = body.decode("utf-8"), "utf-8"
        if "\x00" in text:
            raise UnicodeDecodeError("utf-8", body, 0, 1, "NUL")
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(body).decode(), "base64"
    item = InboxItem(
        name=check_name(name),
        method=method[:10],
        headers=_stored_headers(headers),
        body=text,
        body_encoding=encoding,
        size=len(body),
    )
    with write_session(engine) as session:
        session.add(item)
        session.flush()
        assert item.seq is not None
        session.execute(
            delete(InboxItem).where(
                col(InboxItem.name) == item.name, col(InboxItem.seq) <= item.seq - KEEP_PER_NAME
            )
        )
    return item


def item_view(item: InboxItem) -> InboxRequest:
    return InboxRequest.model_validate(item, from_attributes=True)


def list_items(engine: Engine, *, name: str, after: str | None = None) -> list[InboxRequest]:
    """Newest first, at most 100; `after` keeps only the items received after that one."""
    check_name(name)
    with read_session(engine) as session:
        query = select(InboxItem).where(InboxItem.name == name)
        if after is not None:
            scope, what = InboxItem.name == name, "an item of this inbox"
            query = query.where(newer_than(session, InboxItem, after=after, scope=scope, what=what))
        items = session.exec(query.order_by(col(InboxItem.seq).desc()).limit(PAGE)).all()
        return [item_view(item) for item in items]
