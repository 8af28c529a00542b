"""Settings, read once from OMNIDOC_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_FIXTURES = Path(__file__).parent / "fixtures" / "default.yaml"


class Settings(BaseSettings):
    """Every setting has a default so the sandbox starts with no configuration."""

    model_config = SettingsConfigDict(env_prefix="OMNIDOC_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    base_url: str | None = None
    # Host names (comma-separated; a port given is ignored) accepted in `Host` besides the
    # loopback names, the address a connection came to and base_url's host (app.http.hosts).
    allowed_hosts: str | None = None
    fixtures: Path = PACKAGED_FIXTURES
    admin_token: str | None = None
    # A snapshot (README, "Snapshots") imported at start when the database is empty.
    seed: Path | None = None
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_file_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    max_files_per_draft: int = Field(default=20, gt=0)
    strict: bool = False
    webhook_retry_schedule: str = "5,30,120,600,3600"
    webhook_timeout: float = Field(default=10.0, gt=0)
    journal_size: int = Field(default=1000, gt=0)
    # Seconds a request body may stall (no byte arriving) before a 408; closes slowloris.
    body_timeout: float = Field(default=30.0, gt=0)
    # Seconds a connection may take to send a complete request head before `serve` closes
    # it (SPEC §7: 10); app.http.connections. Tests shorten it.
    head_timeout: float = Field(default=10.0, gt=0)
    # Open connections `serve` accepts; uvicorn answers 503 beyond (limit_concurrency).
    max_connections: int = Field(default=500, gt=0)
    # The inbox takes requests without a key: what it keeps, all names together, is bounded.
    inbox_max_bytes: int = Field(default=64 * 1024 * 1024, gt=0)

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule_is_numbers(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            if float(part) < 0:
                raise ValueError("delays must be >= 0 seconds")
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    @property
    def retry_delays(self) -> list[float]:
        """Seconds to wait before each retry; `1,1,1` means four attempts in all."""
        parts = (p.strip() for p in self.webhook_retry_schedule.split(","))
        return [float(p) for p in parts if p]

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sandbox.db').resolve()}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests override this dependency or clear the cache."""
    return Settings()
