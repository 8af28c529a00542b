"""Every path prefix and URL the sandbox emits, built in one place.

`base_url` is OMNIDOC_BASE_URL, else the scheme and host the request came to
(README, "Troubleshooting").
"""

from __future__ import annotations

INTEROP_PREFIX = "/api/interop/v1"
SANDBOX_PREFIX = "/_sandbox"
DRAFT_PAGE_PREFIX = "/interop/drafts"
TEST_SESSION_PAGE_PREFIX = "/test-kit/sessions"


def redirect_url(base_url: str, draft_id: str) -> str:
    """Where the vendor sends the user: the draft's page (the Omnidoc `redirect_url`)."""
    return f"{base_url}{DRAFT_PAGE_PREFIX}/{draft_id}"


def file_url(base_url: str, draft_id: str, file_id: str) -> str:
    return f"{base_url}{INTEROP_PREFIX}/drafts/{draft_id}/files/{file_id}"


def report_url(base_url: str, draft_id: str) -> str:
    return f"{base_url}{INTEROP_PREFIX}/drafts/{draft_id}/report"


def test_session_page(base_url: str, session_id: str) -> str:
    """A test session's page (the test kit's dashboard): its id is the capability."""
    return f"{base_url}{TEST_SESSION_PAGE_PREFIX}/{session_id}"


def error_type(code: str) -> str:
    """A problem's `type`: the relative reference of the page that explains the code."""
    return f"/errors/{code}"
