"""What a call tells the request journal beyond its status: errors, warnings, draft id.

One channel for all of it: the error handlers, the fault middleware and the routes
write into the ASGI scope's state; the journal middleware reads it once the answer has
gone out (docs/architecture.md, "One request"), and the access log prints its codes and
hints on the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.types import Scope

if TYPE_CHECKING:
    from app.errors import FieldIssue

_KEY = "omnidoc_call_notes"


@dataclass
class CallNotes:
    """The errors (with messages), warnings and draft id of one call."""

    errors: list[FieldIssue] = field(default_factory=list)
    warnings: list[FieldIssue] = field(default_factory=list)
    draft_id: str | None = None
    # field -> a hint that quotes nothing sent ("did you mean patient.nir?"): safe to log.
    hints: dict[str, str] = field(default_factory=dict)
    # What the test kit judges, never a value sent (app.models.JournalEntry.facts).
    facts: dict[str, Any] | None = None


def peek(scope: Scope) -> CallNotes | None:
    """This call's notes if anything wrote some, without creating them."""
    notes = scope.get("state", {}).get(_KEY)
    return notes if isinstance(notes, CallNotes) else None


def of(scope: Scope) -> CallNotes:
    """This call's notes, created on first use."""
    state = scope.setdefault("state", {})
    notes = state.get(_KEY)
    if not isinstance(notes, CallNotes):
        notes = state[_KEY] = CallNotes()
    return notes
