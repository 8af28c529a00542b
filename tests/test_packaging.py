"""The shipping files agree with the code: compose lists every setting, its fixtures match."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.config import Settings
from app.fixtures import load_fixtures

ROOT = Path(__file__).resolve().parent.parent


def _compose_environment() -> dict[str, object]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    environment: dict[str, object] = compose["services"]["sandbox"]["environment"]
    return environment


def test_compose_lists_every_setting() -> None:
    expected = {f"OMNIDOC_{name.upper()}" for name in Settings.model_fields}
    assert set(_compose_environment()) == expected


def test_compose_fixtures_match_the_default_fixtures() -> None:
    default = load_fixtures(ROOT / "fixtures" / "default.yaml")
    compose = load_fixtures(ROOT / "fixtures" / "compose.yaml")
    assert compose.practitioners == default.practitioners
    assert [k.key for k in compose.api_keys] == [k.key for k in default.api_keys]
    for api_key in compose.api_keys:
        assert api_key.webhook_url is not None
        assert api_key.webhook_url.startswith("http://127.0.0.1:8000/_sandbox/inbox/")
        assert api_key.webhook_secret is not None


def test_compose_selects_the_compose_fixtures() -> None:
    selected = str(_compose_environment()["OMNIDOC_FIXTURES"])
    assert selected.endswith(":-/opt/omnidoc-sandbox/fixtures/compose.yaml}")


class _ComposeLoader(yaml.SafeLoader):
    """YAML as Docker Compose reads it: `!override` and `!reset` tag a value."""


def _override(loader: yaml.SafeLoader, node: yaml.Node) -> list[object]:
    assert isinstance(node, yaml.SequenceNode)  # the only use here: a list replaced
    return loader.construct_sequence(node)


_ComposeLoader.add_constructor("!override", _override)


def test_compose_lan_override_requires_the_admin_token() -> None:
    text = (ROOT / "docker-compose.lan.yml").read_text(encoding="utf-8")
    lan = yaml.load(text, Loader=_ComposeLoader)
    sandbox = lan["services"]["sandbox"]
    token = str(sandbox["environment"]["OMNIDOC_ADMIN_TOKEN"])
    assert token.startswith("${OMNIDOC_ADMIN_TOKEN:?")  # `config` and `up` refuse without it
    assert sandbox["ports"] == ["${SANDBOX_BIND:-0.0.0.0}:${SANDBOX_PORT:-8000}:8000"]
    assert "ports: !override" in text  # replaces the loopback binding, never adds to it
    assert set(sandbox["environment"]) <= set(_compose_environment())  # real settings only
    assert "docker-compose.lan.yml" in (ROOT / "README.md").read_text(encoding="utf-8")
