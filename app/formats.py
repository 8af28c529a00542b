"""French formats for people: times in Paris, dates DD/MM/YYYY, amounts `20,00 €`.

Only what pages, the dashboard and the report PDF show; the API's JSON stays UTC ISO 8601.
The zone database comes from the system or, where it has none (the slim image), from
the `tzdata` package that `zoneinfo` falls back to.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
# Said once per page or document, next to one of its times.
ZONE_NOTE = "heure de Paris"


def in_paris(value: datetime) -> datetime:
    """The same instant on Paris's clock (a naive value is UTC, as the database keeps it)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(PARIS)


def fr_datetime(value: datetime | None) -> str:
    """`26/11/2026 à 11:00`: a stored UTC time on Paris's clock."""
    return in_paris(value).strftime("%d/%m/%Y à %H:%M") if value else "—"


def fr_time(value: datetime | None) -> str:
    """`11:00:05` on Paris's clock."""
    return in_paris(value).strftime("%H:%M:%S") if value else "—"


def fr_date(value: str | date | None) -> str:
    """`10/09/1990` for an ISO date (`1990-09-10`); anything else is shown as it is."""
    if value is None or value == "":
        return "—"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def fr_amount(amount: str | Decimal) -> str:
    """`20,00 €` for the API's `20.00`."""
    return f"{Decimal(amount):.2f} €".replace(".", ",")
