"""What the journal keeps of a call for the test kit (app.testkit.judge): field names, flags,
counts and a fingerprint of the body; never a value sent. Pure and light: imported by the
interop routes on every create."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from app.drafts.validation import PATIENT_FIELDS, TOP_LEVEL_FIELDS


def body_fingerprint(body: Any) -> str:
    """SHA-256 of the body's canonical JSON: two bodies equal as JSON have the same one."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def field_names(body: Any) -> list[str]:
    """The body's field names of the document, `patient.x` for the patient's; any other
    name is only counted ("[2 unknown]"): a name the document does not have could be a
    value typed in the wrong place."""
    if not isinstance(body, dict):
        return []
    names: list[str] = []
    unknown = 0
    for name, value in body.items():
        if name not in TOP_LEVEL_FIELDS:
            unknown += 1
            continue
        names.append(name)
        if name == "patient" and isinstance(value, dict):
            names.extend(f"patient.{sub}" for sub in value if sub in PATIENT_FIELDS)
            unknown += sum(1 for sub in value if sub not in PATIENT_FIELDS)
    return sorted(names) + ([f"[{unknown} unknown]"] if unknown else [])


def create_facts(body: Any, *, is_known_practitioner: Callable[[str], bool]) -> dict[str, Any]:
    """A create's facts: its fields, whether it sent `context`, whether its author is a
    practitioner of the directory, its fingerprint."""
    author = body.get("author_rpps") if isinstance(body, dict) else None
    return {
        "kind": "create",
        "fields": field_names(body),
        "context": isinstance(body, dict) and body.get("context") is not None,
        "author_known": isinstance(author, str) and is_known_practitioner(author),
        "body_sha256": body_fingerprint(body),
    }


def upload_facts(parts: int) -> dict[str, Any]:
    """An upload's facts: how many `file` parts it carried (stored)."""
    return {"kind": "upload", "file_parts": parts}
