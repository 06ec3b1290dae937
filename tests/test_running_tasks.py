"""The run list tag, the running indicator, server-rendered toasts and the no-JS cancel view."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.utils import timezone

from longcallbacks import State, get_state, invoke_long_callback, notify
from longcallbacks.actions import run_action
from longcallbacks.delivery import build_snapshot
from longcallbacks.models import LongCallback, Notification, StoredState
from longcallbacks.progress_display import format_duration
from tests import callbacks

pytestmark = pytest.mark.django_db

Status = LongCallback.Status


def page_request(path: str = "/page/") -> HttpRequest:
    request = RequestFactory().get(path)
    request.session = SessionStore()
    return request


def render(source: str, request: HttpRequest) -> str:
    return Template("{% load longcallbacks %}" + source).render(Context({"request": request}))


def add_run(state: State, **fields: object) -> LongCallback:
    record: LongCallback = LongCallback.objects.create(
        state_id=state._state_id, function="tests.callbacks.count_with_progress", **fields
    )
    return record


# {% long_callbacks %}


def test_run_list_shows_progress_and_escapes_message() -> None:
    request = page_request()
    state = get_state(request)
    started = timezone.now() - datetime.timedelta(seconds=65)
    record = add_run(
        state,
        status=Status.RUNNING,
        started_at=started,
        progress_current=25,
        progress_total=200,
        progress_message="<b>rows</b> & more",
    )
    html = render("{% long_callbacks %}", request)

    assert f'data-lc-run-id="{record.id}"' in html
    assert 'data-lc-run-status="running"' in html
    assert "count_with_progress" in html
    assert 'style="width: 12.5%"' in html
    assert 'aria-valuenow="25"' in html
    assert 'aria-valuemax="200"' in html
    assert "&lt;b&gt;rows&lt;/b&gt; &amp; more" in html
    assert "<b>rows</b>" not in html
    assert "Elapsed 1:05" in html
    assert "estimating…" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'action="/longcallbacks/cancel/"' in html
    assert re.search(r'data-lc-runs-empty hidden', html)


def test_run_list_indeterminate_and_queued() -> None:
    request = page_request()
    state = get_state(request)
    add_run(state, status=Status.QUEUED)
    html = render("{% long_callbacks %}", request)
    run_html = html.split("<template")[0]
    assert "lc-run-bar lc-run-bar-indeterminate" in run_html
    assert "aria-valuenow" not in run_html
    assert "Waiting for a worker" in run_html
    assert "estimating" not in run_html


def test_run_list_only_active_runs_of_own_state() -> None:
    request = page_request()
    state = get_state(request)
    add_run(state, status=Status.SUCCEEDED)
    other = add_run(State(StoredState.objects.create().id), status=Status.RUNNING)
    html = render("{% long_callbacks %}", request)
    run_html = html.split("<template")[0]
    assert "data-lc-run-id" not in run_html
    assert str(other.id) not in html
    assert "No tasks are running." in html
    assert "data-lc-runs-empty hidden" not in html
    assert "<template data-lc-run-template>" in html


def test_run_list_creates_no_state() -> None:
    request = page_request()
    before = StoredState.objects.count()
    render("{% long_callbacks %}", request)
    assert StoredState.objects.count() == before


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (59.9, "0:59"), (65, "1:05"), (3600, "1:00:00"), (-3, "0:00")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


# The running indicator.


def test_run_started_by_action_records_action() -> None:
    state = State(StoredState.objects.create().id)
    assert run_action(state, "run_noop", {}).ok
    handle = invoke_long_callback(state, callbacks.do_nothing)
    actions = dict(LongCallback.objects.filter(state_id=state._state_id).values_list("pk", "action"))
    assert handle.id in actions
    assert actions.pop(handle.id) is None
    assert list(actions.values()) == ["run_noop"]


def test_button_disabled_while_action_run_active() -> None:
    request = page_request()
    state = get_state(request)
    tag = '{% action_button "run_noop" "Start" disable_while_running=True %}'
    assert "disabled" not in render(tag, request)

    run_action(state, "run_noop", {})
    html = render(tag, request)
    assert '<button type="submit" class="lc-button" data-lc-disable-while-running disabled>Start</button>' in html
    form_html = render('{% action_button "run_noop" "Start" form="f" disable_while_running=True %}', request)
    assert 'data-lc-action="run_noop" data-lc-disable-while-running disabled>' in form_html

    LongCallback.objects.filter(state_id=state._state_id).update(status=Status.SUCCEEDED)
    html = render(tag, request)
    assert "data-lc-disable-while-running>" in html
    assert "disabled>" not in html.replace("data-lc-disable-while-running>", "")


def test_button_enabled_for_other_actions_run() -> None:
    request = page_request()
    state = get_state(request)
    add_run(state, status=Status.RUNNING, action="start_job")
    html = render('{% action_button "run_noop" "Start" disable_while_running=True %}', request)
    assert " disabled" not in html
    assert "data-lc-disable-while-running" not in render('{% action_button "start_job" "Job" %}', request)


# Server-rendered notifications.


def test_notification_area_renders_undelivered_once() -> None:
    request = page_request()
    state = get_state(request)
    notify(state, "error", '<img src=x onerror="alert(1)"> failed', notification_id="n1")
    notify(state, "info", "delivered before", notification_id="n2")
    Notification.objects.filter(notification_id="n2").update(delivered_at=timezone.now())

    html = render("{% notification_area %}", request)
    assert 'class="lc-toast lc-toast-error"' in html
    assert 'data-lc-notification-id="n1"' in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; failed" in html
    assert "<img" not in html
    assert "delivered before" not in html
    created = Notification.objects.get(notification_id="n1").created_at.isoformat()
    assert f'data-lc-notification-key="n1@{created}"' in html

    assert Notification.objects.get(notification_id="n1").delivered_at is not None
    assert build_snapshot(state._state_id)["notifications"] == []
    assert "lc-toast-error" not in render("{% notification_area %}", request)


def test_notification_area_without_request() -> None:
    html = Template("{% load longcallbacks %}{% notification_area %}").render(Context({}))
    assert html.startswith('<div class="lc-notifications" data-lc-notifications></div>')


# The cancel view for pages without JavaScript.


def client_with_state(*, enforce_csrf: bool) -> tuple[Client, State]:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.get("/live/")
    state_id = client.session["_longcallbacks_state_id"]
    return client, State(state_id)


def csrf_token(client: Client) -> str:
    response = client.get("/live/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert found, "the live page has no CSRF token"
    return found.group(1)


def test_cancel_post_with_csrf_token() -> None:
    client, state = client_with_state(enforce_csrf=True)
    handle = invoke_long_callback(state, callbacks.do_nothing)
    response = client.post(
        "/longcallbacks/cancel/",
        {"long_callback": str(handle.id), "next": "/live/?tab=1", "csrfmiddlewaretoken": csrf_token(client)},
    )
    assert response.status_code == 302
    assert response["Location"] == "/live/?tab=1"
    assert handle.record().status == Status.CANCELLED


def test_cancel_post_without_csrf_rejected() -> None:
    client, state = client_with_state(enforce_csrf=True)
    handle = invoke_long_callback(state, callbacks.do_nothing)
    response = client.post("/longcallbacks/cancel/", {"long_callback": str(handle.id)})
    assert response.status_code == 403
    assert handle.record().status == Status.QUEUED


def test_cancel_post_other_state_not_found() -> None:
    client, _ = client_with_state(enforce_csrf=False)
    other = invoke_long_callback(State(StoredState.objects.create().id), callbacks.do_nothing)
    cross_state = client.post("/longcallbacks/cancel/", {"long_callback": str(other.id)})
    unknown = client.post("/longcallbacks/cancel/", {"long_callback": "00000000-0000-4000-8000-000000000000"})
    assert cross_state.status_code == 404
    assert unknown.status_code == 404
    assert cross_state.content == unknown.content
    assert other.record().status == Status.QUEUED


def test_cancel_get_not_allowed() -> None:
    client, _ = client_with_state(enforce_csrf=False)
    assert client.get("/longcallbacks/cancel/").status_code == 405
