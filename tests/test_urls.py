"""Every URL the sandbox emits, from the base URL and ids."""

from __future__ import annotations

from app import urls

BASE = "http://127.0.0.1:8000"
DRAFT = "5f0c1f7e-6a53-4b8e-9a52-0e7c6f1d2a3b"


def test_redirect_url_is_the_draft_page() -> None:
    assert urls.redirect_url(BASE, DRAFT) == f"{BASE}/interop/drafts/{DRAFT}"


def test_file_url_is_under_the_interop_api() -> None:
    assert urls.file_url(BASE, DRAFT, "f1") == f"{BASE}/api/interop/v1/drafts/{DRAFT}/files/f1"


def test_report_url_is_under_the_interop_api() -> None:
    assert urls.report_url(BASE, DRAFT) == f"{BASE}/api/interop/v1/drafts/{DRAFT}/report"


def test_error_type_is_the_relative_page_of_the_code() -> None:
    assert urls.error_type("draft_not_found") == "/errors/draft_not_found"


def test_urls_keep_a_base_url_with_a_path_prefix() -> None:
    assert urls.redirect_url("https://sandbox.lan/omnidoc", DRAFT).startswith(
        "https://sandbox.lan/omnidoc/interop/drafts/"
    )
