"""Stored checks: defaults from the key's webhook, one running per key, a check cut off by
a restart finished as failed with that reason, isolation between keys, the vendor reset."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from app.config import Settings
from app.db import read_session, write_session
from app.errors import NoWebhook, ReceiverCheckNotFound, ReceiverCheckRunning, ValidationFailed
from app.fixtures import ApiKeyFixture, load_fixtures
from app.models import Draft, ReceiverCheckRecord, utcnow
from app.notifications.webhooks import set_endpoint
from app.receiver_checks import service
from app.receiver_checks.schemas import CheckStatus, ReceiverCheckBody, Verdict
from app.sandbox import resets
from app.sandbox.schemas import WebhookBody
from tests.helpers import KEY_A, KEY_B
from tests.receiver_checks.receivers import SECRET, correct, serving

BASE_URL = "http://127.0.0.1:8000"


def _key(settings: Settings, key: str) -> ApiKeyFixture:
    found = load_fixtures(settings.fixtures).find_key(key)
    assert found is not None
    return found


def _start(engine: Engine, settings: Settings, key: str = KEY_A, **body: object) -> service.Started:
    return service.start_check(
        engine,
        api_key=_key(settings, key),
        body=ReceiverCheckBody.model_validate(body),
        base_url=BASE_URL,
    )


def test_start_check_without_webhook(engine: Engine, settings: Settings) -> None:
    with pytest.raises(NoWebhook):
        _start(engine, settings)
    with pytest.raises(NoWebhook):
        _start(engine, settings, url="http://127.0.0.1:9/hook")


def test_start_check_defaults_to_the_key_webhook(engine: Engine, settings: Settings) -> None:
    set_endpoint(engine, owner_key=KEY_A, body=WebhookBody(url="http://127.0.0.1:9/x"))
    started = _start(engine, settings)
    assert started.check.url == "http://127.0.0.1:9/x"
    assert started.check.status == CheckStatus.RUNNING
    assert started.check.cases == []
    with read_session(engine) as session:
        draft = session.get(Draft, started.check.draft_id)
    assert draft is not None and draft.owner_key == KEY_A
    assert draft.context_json == f'{{"receiver_check":"{started.check.id}"}}'


def test_start_check_keeps_the_given_context(engine: Engine, settings: Settings) -> None:
    started = _start(engine, settings, url="http://127.0.0.1:9/x", secret=SECRET, context={"a": 1})
    with read_session(engine) as session:
        draft = session.get(Draft, started.check.draft_id)
    assert draft is not None and draft.context_json == '{"a":1}'


def test_start_check_refuses_a_context_too_large(engine: Engine, settings: Settings) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _start(
            engine, settings, url="http://127.0.0.1:9/x", secret=SECRET, context={"a": "x" * 20_000}
        )
    assert caught.value.errors[0].code == "context_too_large"


def test_start_check_refuses_link_local_targets(engine: Engine, settings: Settings) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _start(engine, settings, url="http://169.254.169.254/latest", secret=SECRET)
    assert caught.value.errors[0].field == "url"


def test_start_check_one_running_per_key(engine: Engine, settings: Settings) -> None:
    _start(engine, settings, url="http://127.0.0.1:9/x", secret=SECRET)
    with pytest.raises(ReceiverCheckRunning):
        _start(engine, settings, url="http://127.0.0.1:9/x", secret=SECRET)
    _start(engine, settings, KEY_B, url="http://127.0.0.1:9/x", secret=SECRET)  # another key


def test_run_check_stores_cases_and_verdict(engine: Engine, settings: Settings) -> None:
    with serving(correct) as url:
        started = _start(engine, settings, url=url, secret=SECRET)
        assert started.check.id is not None
        asyncio.run(
            service.run_check(
                engine,
                check_id=started.check.id,
                url=url,
                battery=started.battery,
                request_timeout=5.0,
            )
        )
    check = service.get_check(engine, owner_key=KEY_A, check_id=started.check.id)
    assert check.status == CheckStatus.PASSED
    assert check.finished_at is not None
    assert [case.verdict for case in check.cases] == [Verdict.PASS] * 12
    # Finished: the key may start another.
    _start(engine, settings, url=url, secret=SECRET)


def test_finish_abandoned_fails_a_check_cut_off(engine: Engine, settings: Settings) -> None:
    started = _start(engine, settings, url="http://127.0.0.1:9/x", secret=SECRET)
    assert started.check.id is not None
    assert service.finish_abandoned(engine) == 0  # its heartbeat is fresh
    with write_session(engine) as session:
        row = session.exec(select(ReceiverCheckRecord)).one()
        row.heartbeat_at = utcnow() - service.LEASE - timedelta(seconds=1)
        session.add(row)
    assert service.finish_abandoned(engine) == 1
    check = service.get_check(engine, owner_key=KEY_A, check_id=started.check.id)
    assert check.status == CheckStatus.FAILED
    assert len(check.cases) == 12
    assert {case.verdict for case in check.cases} == {Verdict.FAIL}
    assert all(service.RESTARTED in case.detail for case in check.cases)
    _start(engine, settings, url="http://127.0.0.1:9/x", secret=SECRET)  # the key is free


def test_get_check_of_another_key(engine: Engine, settings: Settings) -> None:
    started = _start(engine, settings, url="http://127.0.0.1:9/x", secret=SECRET)
    assert started.check.id is not None
    with pytest.raises(ReceiverCheckNotFound):
        service.get_check(engine, owner_key=KEY_B, check_id=started.check.id)
    assert service.list_checks(engine, owner_key=KEY_B) == []
    assert [c.id for c in service.list_checks(engine, owner_key=KEY_A)] == [started.check.id]


def test_list_checks_newest_first(engine: Engine, settings: Settings) -> None:
    first = _start(engine, settings, url="http://127.0.0.1:9/x", secret=SECRET).check
    assert first.id is not None
    service.finish_check(engine, check_id=first.id, reason="test")
    second = _start(engine, settings, url="http://127.0.0.1:9/x", secret=SECRET).check
    listed = service.list_checks(engine, owner_key=KEY_A)
    assert [c.id for c in listed] == [second.id, first.id]
    assert [c.id for c in service.list_checks(engine, owner_key=KEY_A, after=first.id)] == [
        second.id
    ]


def test_reset_vendor_deletes_the_key_checks(engine: Engine, settings: Settings) -> None:
    _start(engine, settings, url="http://127.0.0.1:9/x", secret=SECRET)
    _start(engine, settings, KEY_B, url="http://127.0.0.1:9/x", secret=SECRET)
    resets.reset_vendor(engine, settings=settings, owner_key=KEY_A)
    assert service.list_checks(engine, owner_key=KEY_A) == []
    assert len(service.list_checks(engine, owner_key=KEY_B)) == 1
