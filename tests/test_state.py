"""State rules: declared variables, JSON values, versions, grouping and request scoping."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import RequestFactory, override_settings

from longcallbacks import State, StateVariables, get_state, get_state_id, invoke_callback
from longcallbacks.exceptions import StateNotFound
from longcallbacks.models import StoredState
from longcallbacks.variables import declared_variables, registry
from tests import callbacks

pytestmark = pytest.mark.django_db


def new_state() -> State:
    return State(StoredState.objects.create().id)


def stored(state: State) -> StoredState:
    return StoredState.objects.get(pk=get_state_id(state))


def test_defaults_for_new_state() -> None:
    state = new_state()
    assert state.message == "initial"
    assert state.items == []
    assert state.counter == 0


def test_undeclared_read_lists_declared_names() -> None:
    state = new_state()
    with pytest.raises(AttributeError, match=r"no variable 'nope'.*counter, errors, events, items, message"):
        _ = state.nope


def test_undeclared_write_rejected() -> None:
    state = new_state()
    with pytest.raises(AttributeError, match="no variable 'nope'"):
        state.nope = 1


def test_non_json_value_names_variable() -> None:
    state = new_state()
    with pytest.raises(TypeError, match=r"state variable 'items'\[0\] has type object"):
        state.items = [object()]
    assert stored(state).version == 0


def test_assign_returns_old_value_and_bumps_version() -> None:
    state = new_state()
    assert state.assign("counter", 5) == 0
    assert state.assign("counter", 6) == 5
    row = stored(state)
    assert row.version == 2
    assert row.data["counter"] == 6


def test_read_returns_copy() -> None:
    state = new_state()
    state.items = [1]
    items = state.items
    items.append(2)
    assert state.items == [1]


def test_with_block_is_one_version() -> None:
    state = new_state()
    with state:
        state.counter = 1
        state.message = "grouped"
        state.counter = 2
    row = stored(state)
    assert row.version == 1
    assert row.data == {"counter": 2, "message": "grouped"}


def test_with_block_exception_propagates_and_rolls_back() -> None:
    state = new_state()
    state.message = "before"
    with pytest.raises(KeyError, match="boom"):
        with state:
            state.message = "inside"
            raise KeyError("boom")
    row = stored(state)
    assert row.data["message"] == "before"
    assert row.version == 1
    assert state.message == "before"


def test_nested_with_rolls_back_inner_only() -> None:
    state = new_state()
    with state:
        state.counter = 1
        try:
            with state:
                state.counter = 99
                raise ValueError("inner")
        except ValueError:
            pass
        assert state.counter == 1
        state.message = "outer"
    row = stored(state)
    assert row.data == {"counter": 1, "message": "outer"}
    assert row.version == 1


def test_with_block_reads_fresh_data_under_lock() -> None:
    state = new_state()
    other = State(get_state_id(state))
    assert other.counter == 0
    state.counter = 7
    with other:
        assert other.counter == 7


def test_reads_outside_lock_are_fresh() -> None:
    state = new_state()
    other = State(get_state_id(state))
    assert other.message == "initial"
    state.message = "changed elsewhere"
    assert other.message == "changed elsewhere"
    assert other.refresh("message") == "changed elsewhere"


def test_reads_inside_lock_see_own_changes() -> None:
    state = new_state()
    other = State(get_state_id(state))
    with state:
        state.message = "not committed yet"
        assert state.message == "not committed yet"
    assert other.message == "not committed yet"


def test_snapshot_has_all_variables() -> None:
    state = new_state()
    state.counter = 3
    snapshot = state.snapshot()
    assert snapshot["version"] == 1
    assert snapshot["variables"]["counter"] == 3
    assert snapshot["variables"]["message"] == "initial"
    assert set(snapshot["variables"]) == set(declared_variables())


def test_missing_state_raises() -> None:
    state = State("0" * 32)
    with pytest.raises(StateNotFound, match="0{32}"):
        _ = state.counter
    with pytest.raises(StateNotFound):
        state.counter = 1


def test_invoke_callback_returns_value_and_commits() -> None:
    state = new_state()
    assert invoke_callback(get_state_id(state), callbacks.increment) == 1
    assert invoke_callback(get_state_id(state), callbacks.increment, []) == 2
    assert stored(state).data["counter"] == 2


def test_invoke_callback_exception_rolls_back_and_reports() -> None:
    state = new_state()
    assert invoke_callback(get_state_id(state), callbacks.raise_in_callback) is None
    fresh = State(get_state_id(state))
    assert fresh.message == "initial"
    assert fresh.errors == [["raise_in_callback", "RuntimeError", "callback broke"]]


def test_invoke_callback_without_handler_logs_warning(caplog: pytest.LogCaptureFixture) -> None:
    state = new_state()
    with override_settings(LONGCALLBACKS={}):
        assert invoke_callback(get_state_id(state), callbacks.raise_in_callback) is None
    assert "raise_in_callback raised RuntimeError" in caplog.text
    assert "Traceback" in caplog.text


def test_invoke_callback_rejects_state_object() -> None:
    state = new_state()
    with pytest.raises(TypeError, match="get_state_id"):
        invoke_callback(state, callbacks.increment)  # type: ignore[arg-type]


def test_nested_invoke_callback_shares_state() -> None:
    state = new_state()

    def outer(inner_state: State) -> None:
        inner_state.counter = 10
        invoke_callback(get_state_id(inner_state), callbacks.increment)
        inner_state.message = "after"

    invoke_callback(get_state_id(state), outer)
    row = stored(state)
    assert row.data["counter"] == 11
    assert row.data["message"] == "after"


@pytest.mark.django_db(transaction=True)
def test_threads_never_lose_updates() -> None:
    state_id = StoredState.objects.create().id
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                invoke_callback(state_id, callbacks.increment)
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    row = StoredState.objects.get(pk=state_id)
    assert row.data["counter"] == 40
    assert row.version == 40


def request_with_session(user: Any = None) -> Any:
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = user or AnonymousUser()
    return request


def test_get_state_creates_once_per_session() -> None:
    request = request_with_session()
    state = get_state(request)
    assert get_state(request) is state
    again = request_with_session()
    again.session = request.session
    assert get_state_id(get_state(again)) == get_state_id(state)
    assert request_with_session() is not None
    assert get_state_id(get_state(request_with_session())) != get_state_id(state)


def test_get_state_ignores_unknown_session_value() -> None:
    request = request_with_session()
    request.session["_longcallbacks_state_id"] = "f" * 32
    state = get_state(request)
    assert get_state_id(state) != "f" * 32


def test_user_scope_shares_state_across_sessions() -> None:
    user = User.objects.create_user("ada")
    with override_settings(LONGCALLBACKS={"STATE_SCOPE": "user"}):
        first = get_state(request_with_session(user))
        second = get_state(request_with_session(user))
        anonymous = get_state(request_with_session())
    assert get_state_id(first) == get_state_id(second)
    assert get_state_id(anonymous) != get_state_id(first)
    assert stored(first).user == user


def test_invalid_scope_setting() -> None:
    with override_settings(LONGCALLBACKS={"STATE_SCOPE": "tab"}):
        with pytest.raises(ImproperlyConfigured, match="'tab'"):
            get_state(request_with_session())


def test_get_state_without_session_middleware() -> None:
    with pytest.raises(ImproperlyConfigured, match="SessionMiddleware"):
        get_state(RequestFactory().get("/"))


def test_variable_declaration_rules() -> None:
    with pytest.raises(ImproperlyConfigured, match="declared twice"):

        class Clash(StateVariables):
            counter = 1

    with pytest.raises(ImproperlyConfigured, match="reserved"):

        class Reserved(StateVariables):
            assign = 1

    with pytest.raises(ImproperlyConfigured, match="not JSON-serializable"):

        class NotJson(StateVariables):
            when = object()

    with pytest.raises(ImproperlyConfigured, match="no default"):

        class NoDefault(StateVariables):
            missing: int

    for name in ("Clash", "Reserved", "NotJson", "NoDefault"):
        registry.undeclare(f"{__name__}.test_variable_declaration_rules.<locals>.{name}")
    assert "when" not in declared_variables()
