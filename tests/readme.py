"""The README's code blocks, as the tests that run them read them.

A block preceded by `<!-- not run: REASON -->` is one the suite cannot run as it stands
(it needs Docker, or a generated package); every other block runs somewhere.
Also a command for the Docker step: `python -m tests.readme HEADING` prints the first
python block under that heading.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
SANDBOX_URL = "http://127.0.0.1:8000"  # the address every example is written for

_FENCE = re.compile(
    r"(?:<!-- not run: (?P<reason>[^>]*?) -->\n)?```(?P<lang>[a-z]*)\n(?P<source>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    """One fenced code block: its language, text, first line in README.md, why not run."""

    lang: str
    source: str
    line: int
    not_run: str | None


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def section(heading: str, text: str | None = None) -> str:
    """From `heading` (a whole line) to the next heading of the same or a higher level,
    not counting the comments of code blocks."""
    text = readme_text() if text is None else text
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(f"\n{heading}\n") + 1
    lines = text[start:].splitlines(keepends=True)
    size, fenced = len(lines[0]), False
    for line in lines[1:]:
        fenced ^= line.startswith("```")
        hashes = len(line) - len(line.lstrip("#"))
        if not fenced and 0 < hashes <= level and line[hashes : hashes + 1] == " ":
            break
        size += len(line)
    return text[start : start + size]


def blocks(lang: str, text: str | None = None) -> list[Block]:
    """Every `lang` block of `text` (the whole README by default), in order."""
    text = readme_text() if text is None else text
    whole = readme_text()
    offset = whole.find(text)
    found = []
    for match in _FENCE.finditer(text):
        if match.group("lang") != lang:
            continue
        line = whole.count("\n", 0, max(offset, 0) + match.start("source")) + 1
        found.append(Block(lang, match.group("source"), line, match.group("reason")))
    return found


def first_python_block(heading: str) -> str:
    """The first python block under `heading`."""
    return blocks("python", section(heading))[0].source


if __name__ == "__main__":
    sys.stdout.write(first_python_block(sys.argv[1]))
