"""The admin task view: fast changelist, detail page, permissions, actions and live progress."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from longcallbacks import State, get_state_id, notify
from longcallbacks.models import LongCallback, StoredState

pytestmark = pytest.mark.django_db

Status = LongCallback.Status
CHANGELIST = "admin:longcallbacks_longcallback_changelist"


def staff_client(*permissions: str) -> Client:
    user = User.objects.create_user("operator", password="pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def state() -> State:
    return State(StoredState.objects.create().id)


def make_record(state: State, **fields: Any) -> LongCallback:
    defaults: dict[str, Any] = {"function": "tests.callbacks.add", "args": [1, 2], "status": Status.QUEUED}
    defaults.update(fields)
    return LongCallback.objects.create(state_id=get_state_id(state), **defaults)


def test_changelist_queries_bounded_with_100000_rows(admin_client: Client, state: State) -> None:
    now = timezone.now()
    LongCallback.objects.bulk_create(
        [
            LongCallback(
                state_id=get_state_id(state),
                function=f"tests.callbacks.function_{index % 7}",
                status=Status.SUCCEEDED,
                created_at=now - datetime.timedelta(seconds=index),
            )
            for index in range(100_000)
        ],
        batch_size=10_000,
    )
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    assert len(sql) <= 12, "\n".join(sql)
    counts = [statement for statement in sql if "COUNT(" in statement.upper()]
    # Every count is bounded by a LIMIT subquery: none scans the whole table.
    assert counts
    assert all("LIMIT" in statement.upper() for statement in counts), counts
    # The user of each row comes with the rows, not one query per row.
    assert sum('FROM "auth_user"' in statement for statement in sql) <= 1

    filtered = admin_client.get(
        reverse(CHANGELIST), {"status__exact": "succeeded", "function": "tests.callbacks.function_3"}
    )
    assert filtered.status_code == 200


def test_changelist_shows_badges_and_progress(admin_client: Client, state: State) -> None:
    make_record(state, status=Status.RUNNING, progress_current=3, progress_total=4, progress_message="parsing",
                started_at=timezone.now())  # fmt: skip
    content = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert 'class="lc-badge" data-lc-status="running"' in content
    assert 'style="width:75%"' in content
    assert "75% parsing" in content
    assert 'title="3 of 4"' in content
    assert "live-progress.js" in content


def test_detail_shows_outcome_and_timeline(admin_client: Client, state: State) -> None:
    start = timezone.now()
    record = make_record(
        state,
        status=Status.FAILED,
        started_at=start,
        finished_at=start + datetime.timedelta(seconds=2),
        worker="worker-a@host",
        error_type="builtins.ValueError",
        error_message="bad <input>",
        traceback="Traceback (most recent call last): ...",
        args=[{"file": "data.csv"}],
    )
    notify(state, "error", "Task failed.")
    response = admin_client.get(reverse("admin:longcallbacks_longcallback_change", args=[record.id]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "builtins.ValueError" in content
    assert "bad &lt;input&gt;" in content
    assert "&quot;file&quot;: &quot;data.csv&quot;" in content
    assert "started on worker-a@host" in content
    assert "notification [error] Task failed." in content
    assert "ended failed" in content


def test_records_are_read_only(admin_client: Client, state: State) -> None:
    record = make_record(state)
    url = reverse("admin:longcallbacks_longcallback_change", args=[record.id])
    admin_client.post(url, {"function": "os.system"})
    record.refresh_from_db()
    assert record.function == "tests.callbacks.add"
    assert admin_client.get(reverse("admin:longcallbacks_longcallback_add")).status_code == 403


def action_names(client: Client) -> list[str]:
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    form = response.context["action_form"]
    return [] if form is None else [name for name, _ in form.fields["action"].choices]


def test_actions_need_permissions(state: State) -> None:
    viewer = staff_client("view_longcallback")
    assert "cancel_selected" not in action_names(viewer)
    assert "run_again" not in action_names(viewer)
    record = make_record(state)
    viewer.post(reverse(CHANGELIST), {"action": "cancel_selected", "_selected_action": [str(record.id)]})
    assert LongCallback.objects.get(pk=record.id).status == Status.QUEUED


def test_cancel_action_cancels_active_rows(state: State) -> None:
    operator = staff_client("view_longcallback", "cancel_longcallback")
    assert "cancel_selected" in action_names(operator)
    queued = make_record(state)
    finished = make_record(state, status=Status.SUCCEEDED, finished_at=timezone.now())
    response = operator.post(
        reverse(CHANGELIST),
        {"action": "cancel_selected", "_selected_action": [str(queued.id), str(finished.id)]},
        follow=True,
    )
    assert "Cancelled 1 long callback." in response.content.decode()
    assert LongCallback.objects.get(pk=queued.id).status == Status.CANCELLED
    assert LongCallback.objects.get(pk=finished.id).status == Status.SUCCEEDED


def test_run_again_action_starts_new_run(state: State) -> None:
    operator = staff_client("view_longcallback", "rerun_longcallback")
    record = make_record(
        state, status=Status.FAILED, status_function="tests.callbacks.record_status", status_args=["x"]
    )
    operator.post(reverse(CHANGELIST), {"action": "run_again", "_selected_action": [str(record.id)]})
    new = LongCallback.objects.exclude(pk=record.id).get()
    assert new.state_id == record.state_id
    assert new.function == record.function
    assert new.args == [1, 2]
    assert new.status_args == ["x"]
    assert new.status == Status.QUEUED


def test_run_again_reports_rejected_function(state: State) -> None:
    operator = staff_client("view_longcallback", "rerun_longcallback")
    record = make_record(state, function="os.system")
    response = operator.post(
        reverse(CHANGELIST), {"action": "run_again", "_selected_action": [str(record.id)]}, follow=True
    )
    assert "module &#x27;os&#x27; is not allowed" in response.content.decode()
    assert LongCallback.objects.count() == 1


def test_progress_endpoint(admin_client: Client, state: State) -> None:
    record = make_record(state, status=Status.RUNNING, progress_current=5, progress_total=10, started_at=timezone.now())
    url = reverse("admin:longcallbacks_longcallback_progress")
    payload = json.loads(admin_client.get(url, {"ids": str(record.id)}).content)
    row = payload["records"][str(record.id)]
    assert row["status"] == "running"
    assert row["progress_current"] == 5
    assert row["active"] is True
    assert admin_client.get(url, {"ids": "not-a-uuid"}).status_code == 400
    anonymous = Client().get(url, {"ids": str(record.id)})
    assert anonymous.status_code == 302
