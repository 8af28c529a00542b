"""The dashboard's French: a title for every case, a translation for every hint."""

from __future__ import annotations

from app.receiver_checks import battery, french


def test_titles_name_every_case() -> None:
    assert list(french.TITLES) == list(battery.EXPECTED)


def test_hint_translates_every_hint_the_battery_gives() -> None:
    given = [
        *battery.HINTS.values(),
        battery.HINT_SERVER_ERROR_ON_REJECT,
        battery.HINT_REDIRECT,
        battery.HINT_TIMEOUT,
        battery.HINT_CONNECTION,
        battery.HINT_SLOW,
        battery.HINT_RUN_AGAIN,
    ]
    assert list(battery.HINTS) == list(battery.EXPECTED)
    for hint in given:
        translated = french.hint(hint)
        assert translated is not None and translated != hint
    assert french.hint(None) is None
