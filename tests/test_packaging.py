"""The shipping files agree with the code: compose lists every setting, its fixtures match."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.config import Settings
from app.fixtures import load_fixtures
from app.http.hosts import allowed_host_names

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


def test_compose_allows_its_service_name() -> None:
    """Another service of the compose file calls the sandbox as http://sandbox:8000: its
    Host must pass the allowlist (issue 19, item 2), with the user's names after it."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert "sandbox" in compose["services"]
    value = str(_compose_environment()["OMNIDOC_ALLOWED_HOSTS"])
    assert value == "sandbox,${OMNIDOC_ALLOWED_HOSTS:-}"
    as_interpolated = value.replace("${OMNIDOC_ALLOWED_HOSTS:-}", "")  # nothing given
    assert allowed_host_names(Settings(allowed_hosts=as_interpolated)) == {"sandbox"}
    given = value.replace("${OMNIDOC_ALLOWED_HOSTS:-}", "my-alias, sandbox.lan:8000")
    names = allowed_host_names(Settings(allowed_hosts=given))
    assert names == {"sandbox", "my-alias", "sandbox.lan"}


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
