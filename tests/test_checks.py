"""System checks of the core: each reports its problem with an id and a hint, and stays quiet otherwise."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from longcallbacks import checks
from longcallbacks.checker import CHECK_TASK_NAME, schedule_checker


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def with_settings(**changes: Any) -> dict[str, Any]:
    return {**settings.LONGCALLBACKS, **changes}


def test_test_settings_pass_every_check() -> None:
    for check in (
        checks.check_settings,
        checks.check_sqlite_locking,
        checks.check_serializer,
        checks.check_result_backend,
        checks.check_visibility_timeout,
        checks.check_setting_values,
        checks.check_app_installed,
    ):
        assert check() == [], check.__name__


def test_settings_not_a_dict() -> None:
    with override_settings(LONGCALLBACKS=["ON_EXCEPTION"]):
        assert ids(checks.check_settings()) == ["longcallbacks.E001"]


def test_unknown_key_suggests_close_match() -> None:
    with override_settings(LONGCALLBACKS={"MAX_RUNING_PER_STATE": 3}):
        [message] = checks.check_settings()
    assert message.id == "longcallbacks.E002"
    assert "'MAX_RUNING_PER_STATE'" in message.msg
    assert message.hint == "Did you mean 'MAX_RUNNING_PER_STATE'?"


def test_unknown_key_without_close_match_lists_keys() -> None:
    with override_settings(LONGCALLBACKS={"ZZZ": 1}):
        [message] = checks.check_settings()
    assert message.hint.startswith("Known keys: ACTION_RATE_LIMIT")


def test_invalid_state_scope() -> None:
    with override_settings(LONGCALLBACKS={"STATE_SCOPE": "tab"}):
        assert ids(checks.check_settings()) == ["longcallbacks.E003"]


def test_pickle_accepted() -> None:
    with override_settings(CELERY_ACCEPT_CONTENT=["json", "pickle"]):
        assert ids(checks.check_serializer()) == ["longcallbacks.E004"]


def test_sqlite_deferred_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in settings object: overriding DATABASES in a running test suite is unsupported.
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.sqlite3", "OPTIONS": {}}
    monkeypatch.setattr(checks, "settings", SimpleNamespace(DATABASES={"default": database}))
    assert ids(checks.check_sqlite_locking()) == ["longcallbacks.W002"]
    database["OPTIONS"] = {"transaction_mode": "IMMEDIATE"}
    assert checks.check_sqlite_locking() == []


def test_checker_not_scheduled() -> None:
    from celery import current_app

    # The app that is current depends on which tests ran first; schedule on it as ready() does.
    schedule_checker(current_app)
    schedule = current_app.conf.beat_schedule
    assert any(entry.get("task") == CHECK_TASK_NAME for entry in schedule.values())
    assert checks.check_checker_scheduled() == []
    current_app.conf.beat_schedule = {}
    try:
        assert ids(checks.check_checker_scheduled()) == ["longcallbacks.W003"]
    finally:
        current_app.conf.beat_schedule = schedule


def test_result_backend_and_extended() -> None:
    with override_settings(CELERY_RESULT_BACKEND="redis://127.0.0.1:6379/1", CELERY_RESULT_EXTENDED=False):
        assert ids(checks.check_result_backend()) == ["longcallbacks.W007", "longcallbacks.W008"]


def test_visibility_timeout_shorter_than_time_limit() -> None:
    with override_settings(LONGCALLBACKS=with_settings(TIME_LIMIT=7200)):
        [message] = checks.check_visibility_timeout()
    assert message.id == "longcallbacks.W009"
    assert "visibility_timeout is 3600 s" in message.msg
    assert "TIME_LIMIT=7200 s" in message.msg
    with override_settings(
        LONGCALLBACKS=with_settings(TIME_LIMIT=7200), CELERY_BROKER_TRANSPORT_OPTIONS={"visibility_timeout": 10_000}
    ):
        assert checks.check_visibility_timeout() == []
    with override_settings(LONGCALLBACKS=with_settings(TIME_LIMIT=None)):
        assert ids(checks.check_visibility_timeout()) == ["longcallbacks.W009"]
    with override_settings(CELERY_BROKER_URL="amqp://guest@127.0.0.1//", LONGCALLBACKS=with_settings(TIME_LIMIT=None)):
        assert checks.check_visibility_timeout() == []


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("LOST_AFTER", 0, "a number greater than 0"),
        ("HEARTBEAT_INTERVAL", "5", "a number greater than 0"),
        ("MAX_RUNNING_PER_STATE", 2.5, "an int greater than 0"),
        ("PRUNE_BATCH_SIZE", True, "an int greater than 0"),
        ("TIME_LIMIT", -1, "None or a number of seconds"),
        ("ALLOWED_MODULES", "myapp", "a list or tuple of module names"),
        ("QUEUE", 5, "None or a queue name"),
        ("ON_EXCEPTION", "tests.callbacks.missing_handler", "the dotted path of an importable function"),
        ("LOST_AFTER", 0.6, "more than twice HEARTBEAT_INTERVAL"),
    ],
)
def test_invalid_setting_value(key: str, value: Any, expected: str) -> None:
    with override_settings(LONGCALLBACKS=with_settings(**{key: value})):
        messages = checks.check_setting_values()
    assert ids(messages)[:1] == ["longcallbacks.E009"]
    assert f"LONGCALLBACKS[{key!r}] is {value!r}" in messages[0].msg
    assert expected in messages[0].hint


def test_app_not_installed() -> None:
    apps_without = [app for app in settings.INSTALLED_APPS if app != "longcallbacks"]
    with override_settings(INSTALLED_APPS=apps_without):
        assert ids(checks.check_app_installed()) == ["longcallbacks.E008"]
