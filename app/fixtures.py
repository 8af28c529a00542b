"""Load and check the fixtures file: API keys and the practitioner directory."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from app import targets
from app.identifiers import rpps_luhn_ok


class FixtureError(Exception):
    """The fixtures file cannot be used; the message names file, entry and field."""


class ApiKeyFixture(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    webhook_secret: str | None = Field(default=None, pattern=r"^whsec_[A-Za-z0-9+/=]+$")

    @field_validator("webhook_url")
    @classmethod
    def _not_link_local(cls, value: str | None) -> str | None:
        host = targets.link_local_host(value) if value else None
        if host is not None:
            raise ValueError(targets.refusal(host, field="webhook_url"))
        return value


# Bounds of an automatic answer: a week is far beyond any demo or test, and keeps the
# due time representable; the text follows the `complete` helper's rules.
AUTOPILOT_MAX_SECONDS = 7 * 24 * 3600
REPORT_TEXT_MAX_CHARS = 20_000
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


class Autopilot(BaseModel):
    """A scenario practitioner's automatic answer to drafts sent to them (sandbox-defined)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Literal["completed", "cancelled"]
    after_seconds: float = Field(ge=0, le=AUTOPILOT_MAX_SECONDS, allow_inf_nan=False, strict=True)
    report_text: str | None = Field(default=None, min_length=1, max_length=REPORT_TEXT_MAX_CHARS)

    @field_validator("report_text")
    @classmethod
    def _report_text_for_completed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("outcome") == "cancelled":
            raise ValueError("report_text is only for outcome 'completed'; remove it")
        if _UNSTORABLE_RE.search(value):
            raise ValueError("report_text holds a NUL character or a lone surrogate")
        return value


class Practitioner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rpps: str = Field(pattern=r"^[0-9]{11}$")
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    specialty: str = Field(min_length=1, max_length=200)
    autopilot: Autopilot | None = None

    @property
    def display_name(self) -> str:
        return f"Dr {self.first_name} {self.last_name}"


# Looks a practitioner up by RPPS: `Fixtures.practitioner`.
Directory = Callable[[str], Practitioner | None]


class Fixtures(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_keys: tuple[ApiKeyFixture, ...] = ()
    practitioners: tuple[Practitioner, ...] = ()
    # Filled in by load_fixtures: RPPS that fail their check digit (allowed).
    warnings: tuple[str, ...] = ()

    def find_key(self, presented: str) -> ApiKeyFixture | None:
        """Compare against every key in constant time, so timing reveals nothing."""
        found = None
        for api_key in self.api_keys:
            if hmac.compare_digest(api_key.key.encode(), presented.encode()):
                found = api_key
        return found

    @cached_property
    def _practitioners_by_rpps(self) -> dict[str, Practitioner]:
        return {p.rpps: p for p in reversed(self.practitioners)}  # the first one wins

    def practitioner(self, rpps: str) -> Practitioner | None:
        return self._practitioners_by_rpps.get(rpps)

    def is_known_practitioner(self, rpps: str) -> bool:
        return self.practitioner(rpps) is not None

    def rpps_examples(self, count: int = 3) -> tuple[str, ...]:
        """A few RPPS of the directory to name in an error; scenario practitioners last."""
        return self._rpps_examples[:count]

    @cached_property
    def _rpps_examples(self) -> tuple[str, ...]:  # asked on every create
        ordered = sorted(self.practitioners, key=lambda p: p.autopilot is not None)
        return tuple(p.rpps for p in ordered)


def _where(path: Path, loc: tuple[int | str, ...], raw: object) -> str:
    """Render a pydantic location as `file: api_keys[1] (key 'x'), field 'webhook_url'`."""
    if not loc:
        return f"{path}: top level"
    section = str(loc[0])
    if len(loc) == 1:
        return f"{path}: section '{section}'"
    index = loc[1]
    entry = f"{section}[{index}]"
    items = raw.get(section) if isinstance(raw, dict) else None
    if isinstance(items, list) and isinstance(index, int) and index < len(items):
        item = items[index]
        label = item.get("key") or item.get("rpps") if isinstance(item, dict) else None
        if label:
            entry += f" ({label})"
    field = ".".join(str(part) for part in loc[2:])
    return f"{path}: entry {entry}" + (f", field '{field}'" if field else "")


def load_fixtures(path: Path, *, admin_token: str | None = None) -> Fixtures:
    """Read, validate and cross-check a fixtures file, or raise FixtureError.

    `admin_token` (OMNIDOC_ADMIN_TOKEN) must not be one of the keys: the admin token is
    never a vendor key, so the start stops rather than let one string open both scopes.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read the fixtures file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise FixtureError(f"{path}: not valid YAML{where}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise FixtureError(f"{path}: top level must be a mapping with api_keys and practitioners")
    raw.pop("warnings", None)
    try:
        fixtures = Fixtures.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{_where(path, err['loc'], raw)}: {err['msg']}" for err in exc.errors()]
        raise FixtureError("invalid fixtures\n  " + "\n  ".join(lines)) from None
    _reject_duplicates(path, "api_keys", [k.key for k in fixtures.api_keys], "key")
    _reject_duplicates(path, "practitioners", [p.rpps for p in fixtures.practitioners], "rpps")
    for index, api_key in enumerate(fixtures.api_keys):
        if admin_token and hmac.compare_digest(api_key.key.encode(), admin_token.encode()):
            raise FixtureError(
                f"{path}: entry api_keys[{index}] ({api_key.name}): its key equals "
                "OMNIDOC_ADMIN_TOKEN; the admin token must never be a vendor key, choose "
                "another token"
            )
    warnings = tuple(
        f"{path}: practitioner {p.rpps} fails the RPPS check digit (allowed, like some "
        "official test numbers)"
        for p in fixtures.practitioners
        if not rpps_luhn_ok(p.rpps)
    )
    return fixtures.model_copy(update={"warnings": warnings})


def _reject_duplicates(path: Path, section: str, values: list[str], field: str) -> None:
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            raise FixtureError(
                f"{path}: entry {section}[{index}], field '{field}': "
                f"'{value}' repeats {section}[{seen[value]}]"
            )
        seen[value] = index
