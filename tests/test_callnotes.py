"""One call's notes in the ASGI scope: created on first use, read without creating."""

from __future__ import annotations

from starlette.types import Scope

from app import callnotes
from app.errors import FieldIssue


def _scope() -> Scope:
    return {"type": "http", "method": "GET", "path": "/"}


def test_peek_without_notes_is_none_and_creates_nothing() -> None:
    scope = _scope()
    assert callnotes.peek(scope) is None
    assert "state" not in scope


def test_of_creates_empty_notes_on_first_use() -> None:
    notes = callnotes.of(_scope())
    assert notes == callnotes.CallNotes()
    assert (notes.errors, notes.warnings, notes.draft_id, notes.hints) == ([], [], None, {})


def test_of_returns_the_same_notes_each_time() -> None:
    scope = _scope()
    first = callnotes.of(scope)
    first.draft_id = "d-1"
    first.errors.append(FieldIssue("text", "too_long", "Too long."))
    assert callnotes.of(scope) is first
    assert callnotes.peek(scope) is first


def test_of_keeps_other_state_of_the_scope() -> None:
    scope = _scope()
    scope["state"] = {"other": 1}
    callnotes.of(scope).draft_id = "d-2"
    assert scope["state"]["other"] == 1
    peeked = callnotes.peek(scope)
    assert peeked is not None and peeked.draft_id == "d-2"


def test_notes_of_two_calls_are_apart() -> None:
    one, two = _scope(), _scope()
    callnotes.of(one).warnings.append(FieldIssue("x", "unknown_field", "m"))
    assert callnotes.of(two).warnings == []
