"""Long callbacks on a real prefork Celery worker, with Redis as broker and channel layer."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test import override_settings

from longcallbacks import State, get_state_id, invoke_callback, invoke_long_callback
from longcallbacks.layer import group_name
from longcallbacks.models import LongCallback, StoredState
from longcallbacks.tasks import TASK_NAME
from tests import callbacks
from tests.conftest import WorkerProcess
from tests.helpers import eventually, fresh

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Status = LongCallback.Status


@pytest.fixture
def state(celery_worker: WorkerProcess) -> State:
    return State(StoredState.objects.create().id)


def test_fire_and_forget(state: State) -> None:
    handle = invoke_long_callback(state, callbacks.add, [2, 3])
    record = handle.wait(30)
    assert record.status == Status.SUCCEEDED
    assert record.result == 5
    assert record.worker.startswith("lctest")
    assert record.started_at is not None
    assert record.finished_at is not None
    assert record.started_at <= record.finished_at
    assert fresh(state).events == []


def test_status_true_with_result(state: State) -> None:
    invoke_long_callback(state, callbacks.add, [2, 3], callbacks.record_status).wait(30)
    assert fresh(state).events == [["status", True, 5]]


def test_status_arguments_cut_and_padded(state: State) -> None:
    invoke_long_callback(state, callbacks.add, [1, 1], callbacks.record_status_only, ["ignored"]).wait(30)
    invoke_long_callback(state, callbacks.add, [1, 2], callbacks.record_status_with_args, ["tag"]).wait(30)
    invoke_long_callback(state, callbacks.add, [1, 3], callbacks.record_status_varargs, ["a", "b"]).wait(30)
    assert fresh(state).events == [
        ["status-only", True],
        # Taipy pads the end: with one status argument the result fills the third slot.
        ["status-args", True, "tag", 3, None],
        ["varargs", True, "a", "b", 4],
    ]


def test_failure_gives_false_then_on_exception(state: State) -> None:
    record = invoke_long_callback(state, callbacks.fail, ["bad input"], callbacks.record_status).wait(30)
    assert record.status == Status.FAILED
    assert record.result is None
    assert record.error_type == "builtins.ValueError"
    assert record.error_message == "bad input"
    assert "raise ValueError(message)" in record.traceback
    assert fresh(state).events == [["status", False, None]]
    errors = eventually(lambda: fresh(state).errors)
    assert errors == [["fail", "ValueError", "bad input"]]


def test_failure_without_status_function_still_reported(state: State) -> None:
    invoke_long_callback(state, callbacks.fail, ["quiet"]).wait(30)
    assert eventually(lambda: fresh(state).errors) == [["fail", "ValueError", "quiet"]]


def test_non_json_result_is_failure(state: State) -> None:
    record = invoke_long_callback(state, callbacks.return_not_json, [], callbacks.record_status).wait(30)
    assert record.status == Status.FAILED
    assert record.error_type == "longcallbacks.exceptions.ResultNotJSON"
    assert "result['when'] has type object" in record.error_message
    assert fresh(state).events == [["status", False, None]]


def test_periodic_counts_then_final(state: State) -> None:
    handle = invoke_long_callback(state, callbacks.sleep_then_return, [2.3, "done"], callbacks.record_status, [], 500)
    handle.wait(30)
    events = fresh(state).events
    counts = [event[1] for event in events[:-1]]
    assert counts == list(range(len(counts)))
    assert len(counts) >= 3
    assert events[-1] == ["status", True, "done"]

    time.sleep(1.2)
    assert fresh(state).events == events
    assert handle.record().last_periodic_count == counts[-1]


def test_periodic_status_does_not_drift(state: State) -> None:
    handle = invoke_long_callback(state, callbacks.sleep_then_return, [3.2, 1], callbacks.record_status_timed, [], 500)
    handle.wait(30)
    periodic = [event for event in fresh(state).events if not isinstance(event[1], bool)]
    assert [event[1] for event in periodic] == list(range(len(periodic)))
    assert len(periodic) >= 5
    start = periodic[0][2]
    for count, _, at in [(event[1], None, event[2]) for event in periodic]:
        # Each status call takes 200 ms; a timer restarted after each call would be
        # count * 200 ms late by now.
        assert abs((at - start) - count * 0.5) < 0.15, (count, at - start)


def test_failing_status_function_keeps_outcome(state: State) -> None:
    record = invoke_long_callback(state, callbacks.add, [1, 2], callbacks.failing_status).wait(30)
    assert record.status == Status.SUCCEEDED
    assert record.result == 3
    errors = eventually(lambda: fresh(state).errors)
    assert errors == [["failing_status", "RuntimeError", "status function broke on True"]]
    # The status function's own change was rolled back with its exception.
    assert fresh(state).events == []
    # The worker survived: the next run still works.
    assert invoke_long_callback(state, callbacks.add, [2, 2]).wait(30).result == 4


def test_invoke_callback_from_user_function(state: State) -> None:
    steps = ["Searching documents", "Responding to user", "Fact Checking"]
    handle = invoke_long_callback(
        state, callbacks.post_messages, [get_state_id(state), steps, 0.05], callbacks.record_status
    )
    handle.wait(30)
    assert fresh(state).events == [["message", step] for step in steps] + [["status", True, "done"]]
    assert fresh(state).message == "Fact Checking"


def test_invoke_callback_from_thread(state: State) -> None:
    results: list[Any] = []
    state_id = get_state_id(state)

    def work() -> None:
        try:
            results.append(invoke_callback(state_id, callbacks.set_message, ["from a thread"]))
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert results == ["set from a thread"]
    assert fresh(state).message == "from a thread"


def test_concurrent_appends_from_two_processes(state: State) -> None:
    state_id = get_state_id(state)
    with override_settings(LONGCALLBACKS={"MAX_RUNNING_PER_STATE": 100}):
        handles = [invoke_long_callback(state, callbacks.append_through_callback, [state_id, i]) for i in range(50)]
    records = [handle.wait(60) for handle in handles]
    assert {record.status for record in records} == {Status.SUCCEEDED}
    assert len({record.result for record in records}) == 2
    stored = StoredState.objects.get(pk=state_id)
    assert sorted(stored.data["items"]) == list(range(50))
    assert stored.version == 50


def test_forged_message_rejected_by_worker(state: State, celery_worker: WorkerProcess) -> None:
    from tests.celery_app import app

    record = LongCallback.objects.create(state_id=get_state_id(state), function="tests.callbacks.add", args=[1, 2])
    app.send_task(TASK_NAME, args=[str(record.id), "os.system", ["echo forged"], "", [], 0], task_id=str(record.id))
    failed = eventually(lambda: LongCallback.objects.filter(pk=record.id, status=Status.FAILED).first())
    assert failed.error_type == "longcallbacks.exceptions.RejectedFunction"

    unknown_id = str(uuid.uuid4())
    app.send_task(TASK_NAME, args=[unknown_id, "os.system", ["echo forged"], "", [], 0], task_id=unknown_id)
    eventually(lambda: f"Rejected task {unknown_id}" in celery_worker.log_text())
    assert invoke_long_callback(state, callbacks.add, [5, 5]).wait(30).result == 10


def test_group_receives_diffs_in_version_order(state: State) -> None:
    layer = get_channel_layer()
    state_id = get_state_id(state)
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group_name(state_id), channel)

    steps = [f"step {index}" for index in range(5)]
    invoke_long_callback(state, callbacks.post_messages, [state_id, steps, 0], callbacks.record_status).wait(30)

    async def receive_diffs(count: int) -> list[dict[str, Any]]:
        diffs = []
        while len(diffs) < count:
            message = await asyncio.wait_for(layer.receive(channel), timeout=10)
            if message["type"] == "state.diff":
                diffs.append(message)
        return diffs

    # Five messages each change two variables; the final status changes one more time.
    diffs = async_to_sync(receive_diffs)(11)
    versions = [diff["version"] for diff in diffs]
    assert versions == list(range(1, 12))
    messages = [diff["changes"]["message"] for diff in diffs if "message" in diff["changes"]]
    assert messages == steps
    assert diffs[-1]["changes"]["events"][-1] == ["status", True, "done"]


def test_value_change_pushed_before_toast(state: State) -> None:
    from longcallbacks import notify

    layer = get_channel_layer()
    state_id = get_state_id(state)
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group_name(state_id), channel)

    def assign_then_notify(target: State) -> None:
        target.message = "report ready"
        notify(target, "success", "Report ready")

    invoke_callback(state_id, assign_then_notify)

    async def receive_types(count: int) -> list[str]:
        return [(await asyncio.wait_for(layer.receive(channel), timeout=10))["type"] for _ in range(count)]

    assert async_to_sync(receive_types)(2) == ["state.diff", "notification.new"]
