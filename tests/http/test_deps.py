"""deps.base_url: the same answer as Starlette's `request.base_url`, from its cache."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from app.http.deps import base_url


def _scope(headers: list[tuple[bytes, bytes]], **extra: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": "/api/interop/v1/drafts",
        "root_path": "",
        "query_string": b"a=1",
        "headers": headers,
        **extra,
    }


@pytest.mark.parametrize(
    "scope",
    [
        _scope([(b"host", b"127.0.0.1:8000")]),
        _scope([(b"host", b"sandbox.example")], scheme="https"),
        _scope([(b"host", b"[::1]:9000")]),
        _scope([(b"host", b"not a host")]),  # invalid: the server address instead
        _scope([]),  # no Host header
        _scope([], server=("::1", 443), scheme="https"),
        _scope([(b"host", b"h:1")], root_path="/sandbox"),
        _scope([(b"host", b"h:1")], root_path="/sandbox", app_root_path="/outer"),
        _scope([(b"host", b"first"), (b"host", b"second")]),
    ],
)
def test_base_url_as_starlette_renders_it(scope: dict[str, Any]) -> None:
    state = SimpleNamespace(settings=SimpleNamespace(base_url=None))
    request = Request(scope)
    expected = str(request.base_url).rstrip("/")
    assert asyncio.run(base_url(request, state)) == expected  # type: ignore[arg-type]
    assert asyncio.run(base_url(Request(scope), state)) == expected  # type: ignore[arg-type]


def test_base_url_setting_wins() -> None:
    state = SimpleNamespace(settings=SimpleNamespace(base_url="https://sandbox.example"))
    request = Request(_scope([(b"host", b"127.0.0.1:8000")]))
    assert asyncio.run(base_url(request, state)) == "https://sandbox.example"  # type: ignore[arg-type]
