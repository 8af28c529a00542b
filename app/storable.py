"""Text the database and the wire can carry: lone UTF-16 surrogates found, and replaced.

JSON's `\\ud800` escapes parse into Python strings that UTF-8 cannot encode; stored (a
JSON column keeps them escaped), they would fail every later read. Bodies are refused at
the door (app.bodies, 422 `invalid_character`); what was stored before that, or by
another path, is read back with each one replaced by U+FFFD, never a crash.
"""

from __future__ import annotations

import json
import re
from typing import Any

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def has_surrogate(text: str) -> bool:
    return LONE_SURROGATE.search(text) is not None


def escaped(text: str) -> str:
    """`text` with each lone surrogate written as its `\\udXXX` escape: safe to show."""
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def scrub(value: Any) -> Any:
    """A JSON-like value with every lone surrogate (keys and strings) replaced by U+FFFD."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub(REPLACEMENT, value) if has_surrogate(value) else value
    if isinstance(value, dict):
        return {scrub(key): scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def loads(text: str) -> Any:
    """Stored JSON text, parsed and scrubbed: what a view or a notification may show."""
    return scrub(json.loads(text))
