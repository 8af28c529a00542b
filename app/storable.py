"""Text the database and the wire can carry: lone UTF-16 surrogates (and NUL) found, and replaced.

JSON's `\\ud800` escapes parse into Python strings that UTF-8 cannot encode; stored (a
JSON column keeps them escaped), they would fail every later read. Bodies are refused at
the door (app.http.bodies, 422 `invalid_character`); what was stored before that, or by
another path, is read back with each one replaced by U+FFFD, never a crash.

Text that is not a body (a request path the journal keeps) cannot be refused: what a
text column cannot hold (NUL on PostgreSQL, a lone surrogate in UTF-8) is written as
U+FFFD instead (`storable_text`), the same on both databases.
"""

from __future__ import annotations

import json
import re
from typing import Any

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def has_surrogate(text: str) -> bool:
    return LONE_SURROGATE.search(text) is not None


def storable_text(text: str) -> str:
    """`text` with each NUL and lone surrogate replaced by U+FFFD: any text column holds it."""
    return UNSTORABLE.sub(REPLACEMENT, text)


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
