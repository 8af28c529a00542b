"""The npm tools the OpenAPI tests run (openapi-typescript, openapi-fetch, tsc, redocly).

Pinned by tests/e2e/ts/package.json and its package-lock.json, installed there with
`npm ci` when missing or when the lock changed (a stamp in node_modules says which lock it
was), once per machine: node_modules is ignored by git. A file lock keeps two pytest
workers from installing at once. Needs Node.js and npm on PATH (they are on the project's
machines; the npm registry is reached through npm).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent / "ts"
MODULES = PACKAGE / "node_modules"
STAMP = MODULES / ".omnidoc-sandbox-installed"


def run(
    *command: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> str:
    """The command's standard output; asserts it exited 0 (both outputs in the message)."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{output}"
    return result.stdout


def tools() -> Path:
    """node_modules/.bin of the pinned packages, installed first if needed."""
    npm = shutil.which("npm")
    assert npm, "npm is missing: the OpenAPI tests need Node.js 20.19+ and npm"
    pins = (PACKAGE / "package.json").read_bytes() + (PACKAGE / "package-lock.json").read_bytes()
    digest = hashlib.sha256(pins).hexdigest()
    with (PACKAGE / ".npm-ci.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not STAMP.exists() or STAMP.read_text() != digest:
            run(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=PACKAGE, timeout=600)
            STAMP.write_text(digest)
    return MODULES / ".bin"
