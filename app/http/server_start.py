"""What `omnidoc-sandbox serve` says and checks before uvicorn starts: the banner, the
warnings about a risky setup, the port already taken, uvicorn's logging config."""

from __future__ import annotations

import copy
import errno
import ipaddress
import socket
from typing import Any

import uvicorn.config

from app.config import Settings
from app.fixtures import Fixtures


def safe_database_url(settings: Settings) -> str:
    """The database URL as the banner and `reset` show it: no password."""
    # Imported here: `serve --workers N` workers import the CLI, which must stay light.
    from sqlalchemy import make_url

    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host  # an IPv6 address in a URL


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


# Shorter admin tokens are guessed sooner (the admin scope also slows repeated failures:
# app.admin_throttle).
MIN_TOKEN_LENGTH = 16


def start_warnings(settings: Settings, host: str) -> list[str]:
    """What an exposed or weakly protected sandbox says before serving (SPEC §7)."""
    warnings = []
    if not _is_loopback(host) and not settings.admin_token:
        warnings.append(
            f"--host {host} is reachable beyond this machine and OMNIDOC_ADMIN_TOKEN is "
            "unset: anyone who reaches it can read every draft and webhook secret and wipe "
            "the sandbox. Set OMNIDOC_ADMIN_TOKEN (16+ random characters), or bind "
            "127.0.0.1 (in a container, publish the port on 127.0.0.1 only, as the "
            "compose file does)."
        )
    if settings.admin_token and len(settings.admin_token) < MIN_TOKEN_LENGTH:
        warnings.append(
            f"OMNIDOC_ADMIN_TOKEN is {len(settings.admin_token)} characters long: use at "
            f"least {MIN_TOKEN_LENGTH} random characters (python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(24))')."
        )
    return warnings


def banner(settings: Settings, fixtures: Fixtures, host: str, port: int) -> str:
    wildcard = host in ("0.0.0.0", "::")  # noqa: S104
    local = "127.0.0.1" if wildcard else _url_host(host)
    base = settings.base_url or f"http://{local}:{port}"
    where = " (every interface: this machine's addresses and 127.0.0.1)" if wildcard else ""
    admin = (
        "protected by OMNIDOC_ADMIN_TOKEN"
        if settings.admin_token
        else "open (OMNIDOC_ADMIN_TOKEN unset)"
    )
    lines = [
        f"omnidoc-sandbox listening on http://{_url_host(host)}:{port}{where}",
        f"  data dir : {settings.data_dir.resolve()}",
        f"  database : {safe_database_url(settings)}",
        f"  fixtures : {settings.fixtures}",
        "  API keys : " + ", ".join(f"{k.key} ({k.name})" for k in fixtures.api_keys),
        f"  directory: {len(fixtures.practitioners)} practitioners",
        f"  strict   : {settings.strict}",
        f"  admin    : {admin}",
        f"  docs     : {base}/docs",
    ]
    lines += [
        f"  scenario : {p.rpps} answers '{p.autopilot.outcome}' {p.autopilot.after_seconds:g} s "
        "after publication"
        for p in fixtures.practitioners
        if p.autopilot is not None
    ]
    lines += [f"  warning  : {w}" for w in fixtures.warnings]
    return "\n".join(lines)


def listen_problem(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on host:port (bound as asyncio will, then let go)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return f"cannot resolve --host {host!r}: give an IP address such as 127.0.0.1"
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return (
                        f"port {port} on {host} is already in use (another sandbox?); "
                        f"choose another: --port {port + 1}, or make run PORT={port + 1}"
                    )
                return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def log_config(log_level: str, workers: int) -> dict[str, Any]:
    """uvicorn's logging plus the root logger (the app's own lines), set up in every worker.

    A `logging.basicConfig` in this process would not reach worker processes, which
    uvicorn spawns afresh; a log config passed to uvicorn is applied in each of them.
    """
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    pid = " [%(process)d]" if workers > 1 else ""
    config["formatters"]["sandbox"] = {"format": f"%(asctime)s %(levelname)s{pid} %(message)s"}
    config["handlers"]["sandbox"] = {
        "class": "logging.StreamHandler",
        "formatter": "sandbox",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["sandbox"], "level": log_level.upper()}
    # python-multipart's parse warnings may quote bytes of an upload: keep them out.
    config["loggers"]["python_multipart"] = {"level": "ERROR"}
    config["loggers"]["fpdf"] = {"level": "ERROR"}  # its warnings may quote report text
    config["loggers"]["fontTools"] = {"level": "ERROR"}  # its INFO lists the report's glyphs
    return config
