"""invoke_long_callback's checks at invoke time, before anything reaches a worker."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory, override_settings

from longcallbacks import State, TooManyLongCallbacks, get_state_id, invoke_long_callback
from longcallbacks.models import LongCallback, Notification, StoredState
from tests import callbacks

pytestmark = pytest.mark.django_db


@pytest.fixture
def state() -> State:
    return State(StoredState.objects.create().id)


@pytest.mark.parametrize("period", [1, 100, 499, -1])
def test_period_below_minimum_rejected(state: State, period: int) -> None:
    with pytest.raises(ValueError, match=rf"period={period} is invalid.*500 milliseconds or more"):
        invoke_long_callback(state, callbacks.add, [1, 2], callbacks.record_status, period=period)


@pytest.mark.parametrize("period", [1000.0, "1000", True, None])
def test_period_must_be_int(state: State, period: Any) -> None:
    with pytest.raises(ValueError, match="period must be whole milliseconds as an int"):
        invoke_long_callback(state, callbacks.add, [1, 2], callbacks.record_status, period=period)


def test_period_needs_status_function(state: State) -> None:
    with pytest.raises(ValueError, match="needs a user_status_function"):
        invoke_long_callback(state, callbacks.add, [1, 2], period=1000)


def test_lambda_rejected_at_invoke(state: State) -> None:
    with pytest.raises(ValueError, match="user_function .* is a lambda"):
        invoke_long_callback(state, lambda: None)
    assert LongCallback.objects.count() == 0


def test_nested_status_function_rejected(state: State) -> None:
    def status(state: State, status: Any) -> None:
        return None

    with pytest.raises(ValueError, match="user_status_function .*nested"):
        invoke_long_callback(state, callbacks.add, [1, 2], status)
    assert LongCallback.objects.count() == 0


def test_non_json_argument_rejected(state: State) -> None:
    with pytest.raises(TypeError, match=r"user_function_args\[1\] has type bytes"):
        invoke_long_callback(state, callbacks.add, [1, b"2"])
    with pytest.raises(TypeError, match=r"user_status_function_args\[0\] has type object"):
        invoke_long_callback(state, callbacks.add, [1, 2], callbacks.record_status, [object()])
    assert LongCallback.objects.count() == 0


def test_record_written_queued(state: State) -> None:
    handle = invoke_long_callback(state, callbacks.add, (1, 2), callbacks.record_status_with_args, ["tag", 3], 1000)
    record = handle.record()
    assert record.status == LongCallback.Status.QUEUED
    assert record.function == "tests.callbacks.add"
    assert record.args == [1, 2]
    assert record.status_function == "tests.callbacks.record_status_with_args"
    assert record.status_args == ["tag", 3]
    assert record.period == 1000
    assert record.task_id == str(handle.id)
    assert record.state_id == get_state_id(state)


def test_request_resolves_session_state() -> None:
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    handle = invoke_long_callback(request, callbacks.do_nothing)
    assert handle.state_id == request.session["_longcallbacks_state_id"]


def test_other_types_rejected_as_state() -> None:
    with pytest.raises(TypeError, match="Expected a State or an HttpRequest, not str"):
        invoke_long_callback("abc", callbacks.do_nothing)  # type: ignore[arg-type]


def test_limit_per_state(state: State) -> None:
    with override_settings(LONGCALLBACKS={"MAX_RUNNING_PER_STATE": 2}):
        invoke_long_callback(state, callbacks.do_nothing)
        invoke_long_callback(state, callbacks.do_nothing)
        with pytest.raises(TooManyLongCallbacks, match=r"already has 2 long callbacks.*MAX_RUNNING_PER_STATE"):
            invoke_long_callback(state, callbacks.do_nothing)
        other = State(StoredState.objects.create().id)
        invoke_long_callback(other, callbacks.do_nothing)
    assert LongCallback.objects.filter(state_id=get_state_id(state)).count() == 2
    warning = Notification.objects.get(state_id=get_state_id(state))
    assert warning.type == "warning"
    assert "Too many tasks" in warning.message


def test_finished_runs_do_not_count_toward_limit(state: State) -> None:
    with override_settings(LONGCALLBACKS={"MAX_RUNNING_PER_STATE": 1}):
        first = invoke_long_callback(state, callbacks.do_nothing)
        LongCallback.objects.filter(pk=first.id).update(status=LongCallback.Status.SUCCEEDED)
        invoke_long_callback(state, callbacks.do_nothing)
