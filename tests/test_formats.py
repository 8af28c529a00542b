"""Times in Paris, French dates and amounts, as pages, dashboard and report show them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app import formats


def test_summer_time_is_utc_plus_two() -> None:
    at = datetime(2026, 7, 14, 8, 30, 5, tzinfo=UTC)
    assert formats.fr_datetime(at) == "14/07/2026 à 10:30"
    assert formats.fr_time(at) == "10:30:05"


def test_winter_time_is_utc_plus_one() -> None:
    at = datetime(2026, 12, 8, 8, 30, 5, tzinfo=UTC)
    assert formats.fr_datetime(at) == "08/12/2026 à 09:30"
    assert formats.fr_time(at) == "09:30:05"


def test_paris_date_can_differ_from_utc_date() -> None:
    # 23:30 UTC on New Year's Eve is already next year in Paris.
    assert formats.fr_datetime(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "01/01/2027 à 00:30"


def test_naive_value_is_read_as_utc() -> None:
    # SQLite hands back naive datetimes: they were stored as UTC.
    assert formats.fr_time(datetime(2026, 7, 14, 8, 30, 5)) == "10:30:05"


def test_no_time_is_a_dash() -> None:
    assert formats.fr_datetime(None) == "—"
    assert formats.fr_time(None) == "—"


def test_dates_day_month_year() -> None:
    assert formats.fr_date("1990-09-10") == "10/09/1990"
    assert formats.fr_date("née en 1990") == "née en 1990"  # shown as sent
    assert formats.fr_date(None) == "—"


def test_amounts_with_comma_and_euro() -> None:
    assert formats.fr_amount("20.00") == "20,00 €"
    assert formats.fr_amount(Decimal("7.5")) == "7,50 €"
