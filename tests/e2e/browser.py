"""Debian's Chromium driven by Playwright: how the browser tests and the screenshots start it.

Playwright's own browser downloads are never used (the sandbox's CI is offline but for
package registries): `apt-get install chromium` provides /usr/bin/chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Playwright

# OMNIDOC_TEST_CHROMIUM points elsewhere on a machine whose Chromium lives elsewhere.
CHROMIUM = Path(os.environ.get("OMNIDOC_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's own sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",  # no request to any other host, ever
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
MISSING = (
    f"Chromium is not installed at {CHROMIUM}: the browser tests need it. "
    "Install Debian's package (`apt-get install chromium`; .ci/run does) or set "
    "OMNIDOC_TEST_CHROMIUM to a Chromium executable."
)


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Chromium from the system; raises with a clear message when it is absent."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(MISSING)
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
