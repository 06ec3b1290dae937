"""The action registry, payload rules and the plain POST view."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from longcallbacks import State, action
from longcallbacks.actions import InvalidPayload, UnknownAction, clean_payload, registry, run_action
from longcallbacks.models import LongCallback, Notification, StoredState


@pytest.fixture
def throwaway_names() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        registry.unregister(name)


def greet(state: State, payload: dict[str, Any]) -> None:
    state.message = f"hello {payload.get('name', '')}"


def test_decorator_bare_and_named(throwaway_names: list[str]) -> None:
    throwaway_names.extend(["greet", "say-hello"])
    assert action(greet) is greet
    assert action("say-hello")(greet) is greet
    assert registry.get("greet").function is greet
    assert registry.get("say-hello").function is greet
    assert "greet" in registry.names()


def test_same_name_from_other_function_rejected(throwaway_names: list[str]) -> None:
    throwaway_names.append("greet")
    action(greet)

    def greet_again(state: State, payload: dict[str, Any]) -> None:
        return None

    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        action("greet")(greet_again)


@pytest.mark.parametrize("name", ["", "has space", "<script>", "1starts-with-digit", "x" * 101])
def test_invalid_names_rejected(name: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="is invalid"):
        action(name)(greet)


def test_unknown_action_lookup() -> None:
    with pytest.raises(UnknownAction, match="No action named 'missing'"):
        registry.get("missing")
    with pytest.raises(UnknownAction):
        registry.get(None)


def test_callbacks_module_actions_registered() -> None:
    assert {"set_message", "fail", "run_noop", "start_job", "bench"} <= set(registry.names())


@pytest.mark.parametrize(
    ("payload", "cleaned"),
    [(None, {}), ({}, {}), ({"a": "1", "b": ["x", "y"]}, {"a": "1", "b": ["x", "y"]}), ({"a": []}, {"a": []})],
)
def test_clean_payload_accepts(payload: Any, cleaned: dict[str, Any]) -> None:
    assert clean_payload(payload) == cleaned


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([("a", "1")], "must be an object"),
        ({1: "a"}, "field name 1 is not a string"),
        ({"a": 1}, "'a' has a value of type int"),
        ({"a": None}, "'a' has a value of type NoneType"),
        ({"a": ["x", 2]}, "'a' has a value of type list"),
        ({str(index): "v" for index in range(101)}, "at most 100"),
    ],
)
def test_clean_payload_rejects(payload: Any, message: str) -> None:
    with pytest.raises(InvalidPayload, match=message):
        clean_payload(payload)


@pytest.mark.django_db
def test_run_action_changes_state() -> None:
    state = State(StoredState.objects.create().id)
    outcome = run_action(state, "set_message", {"text": "ran"})
    assert outcome.ok
    assert State(state._state_id).message == "ran"


@pytest.mark.django_db
def test_run_action_failure_rolled_back() -> None:
    state = State(StoredState.objects.create().id)
    outcome = run_action(state, "fail", {})
    assert not outcome.ok
    assert outcome.error_code == "action_failed"
    fresh = State(state._state_id)
    assert fresh.message == "initial"
    assert fresh.errors == [["fail", "RuntimeError", "action broke"]]


@pytest.mark.django_db
def test_run_action_over_limit_keeps_warning() -> None:
    state = State(StoredState.objects.create().id)
    LongCallback.objects.create(state_id=state._state_id, function="tests.callbacks.add", status="running")
    with override_settings(LONGCALLBACKS={"MAX_RUNNING_PER_STATE": 1}):
        outcome = run_action(state, "run_noop", {})
    assert outcome.error_code == "too_many_long_callbacks"
    assert LongCallback.objects.filter(state_id=state._state_id).count() == 1
    warning = Notification.objects.get(state_id=state._state_id)
    assert warning.type == "warning"
    assert "Too many tasks" in warning.message


# The POST view.


def page_session(client: Client) -> str:
    client.get("/live/")
    state_id: str = client.session["_longcallbacks_state_id"]
    return state_id


@pytest.mark.django_db
def test_post_runs_action_and_redirects_to_next() -> None:
    client = Client()
    state_id = page_session(client)
    response = client.post(
        "/longcallbacks/action/", {"action": "set_message", "text": "posted", "next": "/live/?tab=2"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/live/?tab=2"
    assert State(state_id).message == "posted"


@pytest.mark.django_db
def test_post_repeated_fields_become_list() -> None:
    client = Client()
    state_id = page_session(client)
    client.post("/longcallbacks/action/", {"action": "set_message", "text": ["a", "b"]})
    assert State(state_id).message == "a,b"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("next_url", "referer", "expected"),
    [
        ("https://evil.example/", "", "/"),
        ("//evil.example/path", "", "/"),
        ("javascript:alert(1)", "", "/"),
        ("", "http://testserver/live/", "http://testserver/live/"),
        ("", "http://evil.example/live/", "/"),
        ("https://evil.example/", "http://testserver/from-referer/", "http://testserver/from-referer/"),
    ],
)
def test_post_redirects_only_to_this_site(next_url: str, referer: str, expected: str) -> None:
    client = Client()
    page_session(client)
    data = {"action": "set_message", "text": "x"}
    if next_url:
        data["next"] = next_url
    response = (
        client.post("/longcallbacks/action/", data, HTTP_REFERER=referer)
        if referer
        else client.post("/longcallbacks/action/", data)
    )
    assert response.status_code == 302
    assert response["Location"] == expected


@pytest.mark.django_db
def test_post_unknown_action_is_bad_request() -> None:
    client = Client()
    state_id = page_session(client)
    response = client.post("/longcallbacks/action/", {"action": "os.system", "text": "x"})
    assert response.status_code == 400
    assert b"No action named 'os.system'" in response.content
    assert State(state_id).message == "initial"


@pytest.mark.django_db
def test_post_without_csrf_token_rejected() -> None:
    client = Client(enforce_csrf_checks=True)
    state_id = page_session(client)
    response = client.post("/longcallbacks/action/", {"action": "set_message", "text": "forged"})
    assert response.status_code == 403
    assert State(state_id).message == "initial"


@pytest.mark.django_db
def test_post_with_csrf_token_from_page_accepted() -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/live/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/longcallbacks/action/", {"action": "set_message", "text": "ok", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert State(client.session["_longcallbacks_state_id"]).message == "ok"


@pytest.mark.django_db
def test_get_not_allowed() -> None:
    assert Client().get("/longcallbacks/action/").status_code == 405
