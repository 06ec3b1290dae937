"""Progress reports and cancellation, on a real worker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import override_settings

from longcallbacks import (
    LongCallbackCancelled,
    State,
    cancel_long_callback,
    get_state_id,
    invoke_long_callback,
    is_cancelled,
    set_progress,
)
from longcallbacks.checker import check_long_callbacks
from longcallbacks.layer import group_name
from longcallbacks.models import LongCallback, StoredState
from tests import callbacks
from tests.conftest import WorkerProcess
from tests.helpers import eventually, fresh, process_exists, running_pid, status_events

Status = LongCallback.Status


def test_set_progress_outside_long_callback() -> None:
    with pytest.raises(RuntimeError, match="only inside a user function"):
        set_progress(1, 2)
    with pytest.raises(RuntimeError, match="only inside a user function"):
        is_cancelled()


@pytest.mark.parametrize(
    ("current", "total", "error"),
    [(-1, None, "current=-1"), (True, None, "current=True"), (5, 2, "more than total"), ("3", None, "current='3'")],
)
def test_set_progress_rejects_invalid_values(current: Any, total: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        set_progress(current, total)


@pytest.mark.django_db
def test_cancel_of_other_state_rejected() -> None:
    owner = State(StoredState.objects.create().id)
    intruder = State(StoredState.objects.create().id)
    handle = invoke_long_callback(owner, callbacks.do_nothing)
    with pytest.raises(LookupError, match="no long callback with id"):
        cancel_long_callback(intruder, handle.id)
    with pytest.raises(LookupError, match="not a long callback id"):
        cancel_long_callback(intruder, "../etc")
    assert handle.record().status == Status.QUEUED


@pytest.fixture
def state(celery_worker: WorkerProcess) -> State:
    return State(StoredState.objects.create().id)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_progress_is_throttled_and_pushed(state: State) -> None:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group_name(get_state_id(state)), channel)

    record = invoke_long_callback(state, callbacks.count_with_progress, [20, 0.05]).wait(30)
    assert record.status == Status.SUCCEEDED
    assert record.progress_current == 20
    assert record.progress_total == 20
    assert record.progress_message == "step 20 of 20"

    async def receive_updates() -> list[dict[str, Any]]:
        updates = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=1)
            except TimeoutError:
                return updates
            if message["type"] == "long_callback.update":
                updates.append(message["long_callback"])

    updates = async_to_sync(receive_updates)()
    progress = [
        update["progress_current"]
        for update in updates
        if update["status"] == Status.RUNNING and update["progress_current"] is not None
    ]
    # 20 steps in about one second, at most one write per 0.25 s, plus the last step.
    assert 2 <= len(progress) <= 8, progress
    assert progress[-1] == 20
    assert progress == sorted(progress)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_cooperative_cancel(state: State) -> None:
    handle = invoke_long_callback(
        state, callbacks.stop_when_cancelled, [get_state_id(state), 30], callbacks.record_status
    )
    running_pid(state)
    assert cancel_long_callback(state, handle.id) is True
    assert handle.record().status == Status.CANCELLED
    assert status_events(state) == [["status", False, None]]
    assert cancel_long_callback(state, handle.id) is False

    # The function sees the cancellation and returns; its success is kept only as a late outcome.
    record = eventually(lambda: handle.record() if handle.record().late_outcome else None)
    assert record.status == Status.CANCELLED
    assert record.late_outcome["result"] == "stopped early"
    assert status_events(state) == [["status", False, None]]
    assert fresh(state).errors == []


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_set_progress_raises_after_cancel(state: State) -> None:
    handle = invoke_long_callback(
        state, callbacks.progress_until_cancelled, [get_state_id(state), 30], callbacks.record_status
    )
    pid = running_pid(state)
    eventually(lambda: handle.record().progress_current)
    assert cancel_long_callback(state, handle.id) is True
    # LongCallbackCancelled ends the function quickly; no late outcome is recorded for it.
    eventually(lambda: handle.record().heartbeat_at and not _heartbeat_fresh(handle.id), timeout=10)
    record = handle.record()
    assert record.status == Status.CANCELLED
    assert record.late_outcome is None
    assert process_exists(pid)
    assert status_events(state) == [["status", False, None]]
    assert fresh(state).errors == []


def _heartbeat_fresh(record_id: Any) -> bool:
    from django.utils import timezone

    record = LongCallback.objects.get(pk=record_id)
    return record.heartbeat_at is not None and (timezone.now() - record.heartbeat_at).total_seconds() < 1.0


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_hard_stop_after_grace(state: State) -> None:
    handle = invoke_long_callback(
        state, callbacks.store_pid_then_sleep, [get_state_id(state), 60], callbacks.record_status
    )
    pid = running_pid(state)
    assert cancel_long_callback(state, handle.id) is True
    assert check_long_callbacks()["terminated"] == 0

    with override_settings(LONGCALLBACKS={**settings.LONGCALLBACKS, "CANCEL_GRACE": 1}):
        time.sleep(1.2)
        eventually(lambda: check_long_callbacks()["terminated"], timeout=10)
    eventually(lambda: not process_exists(pid), timeout=15)
    record = handle.record()
    assert record.status == Status.CANCELLED
    assert status_events(state) == [["status", False, None]]
    assert fresh(state).errors == []
    assert invoke_long_callback(state, callbacks.add, [3, 3]).wait(30).result == 6


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_cancel_before_start_never_runs(state: State) -> None:
    with override_settings(LONGCALLBACKS={**settings.LONGCALLBACKS, "QUEUE": f"{settings.TEST_PREFIX}-later"}):
        handle = invoke_long_callback(
            state, callbacks.set_message_later, [get_state_id(state)], callbacks.record_status
        )
    assert cancel_long_callback(state, handle.id) is True
    assert status_events(state) == [["status", False, None]]
    assert handle.record().started_at is None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_cancel_after_finish_returns_false(state: State) -> None:
    handle = invoke_long_callback(state, callbacks.add, [1, 2], callbacks.record_status)
    handle.wait(30)
    assert cancel_long_callback(state, handle.id) is False
    assert handle.record().status == Status.SUCCEEDED
    assert status_events(state) == [["status", True, 3]]


def test_cancelled_exception_is_public() -> None:
    assert issubclass(LongCallbackCancelled, Exception)
