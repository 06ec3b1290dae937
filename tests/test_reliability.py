"""Fault injection with real processes: every run ends with exactly one final status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from longcallbacks import State, get_state_id, invoke_long_callback
from longcallbacks.checker import check_long_callbacks
from longcallbacks.models import LongCallback, Notification, StoredState
from tests import callbacks
from tests.conftest import ROOT, WorkerProcess, worker_environment
from tests.helpers import eventually, fresh, running_pid, status_events

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Status = LongCallback.Status


@pytest.fixture
def state(celery_worker: WorkerProcess) -> State:
    return State(StoredState.objects.create().id)


def interrupted_notices(state: State) -> list[str]:
    return list(
        Notification.objects.filter(state_id=get_state_id(state), notification_id__startswith="lost-").values_list(
            "message", flat=True
        )
    )


def test_killed_pool_child_is_lost_once(state: State, celery_worker: WorkerProcess) -> None:
    handle = invoke_long_callback(
        state, callbacks.store_pid_then_sleep, [get_state_id(state), 30], callbacks.record_status
    )
    os.kill(running_pid(state), signal.SIGKILL)

    record = handle.wait(30)
    assert record.status == Status.LOST
    assert record.error_type == "billiard.exceptions.WorkerLostError"
    assert status_events(state) == [["status", False, None]]
    errors = eventually(lambda: fresh(state).errors)
    assert errors[0][:2] == ["store_pid_then_sleep", "WorkerLostError"]
    assert len(interrupted_notices(state)) == 1

    # The checker finds nothing more to do, and the worker replaced its child.
    assert check_long_callbacks()["lost"] == 0
    assert status_events(state) == [["status", False, None]]
    assert invoke_long_callback(state, callbacks.add, [1, 1]).wait(30).result == 2


@pytest.fixture
def doomed_worker(celery_worker: WorkerProcess, django_db_blocker: object) -> Iterator[WorkerProcess]:
    queue = f"{settings.TEST_PREFIX}-doomed"
    worker = WorkerProcess(f"{settings.TEST_PREFIX}-doomed", Path(settings.OUTPUT_DIR) / "worker-doomed.log", 1, queue)
    worker.start(worker_environment())
    yield worker
    worker.stop()


def test_killed_worker_is_declared_lost_by_checker(state: State, doomed_worker: WorkerProcess) -> None:
    with override_settings(LONGCALLBACKS={**settings.LONGCALLBACKS, "QUEUE": doomed_worker.queue}):
        handle = invoke_long_callback(
            state, callbacks.store_pid_then_sleep, [get_state_id(state), 60], callbacks.record_status
        )
    running_pid(state)
    doomed_worker.kill_all()
    assert handle.record().status == Status.RUNNING

    # Heartbeats stop with the worker; LOST_AFTER is 3 s in the test settings.
    lost = eventually(lambda: check_long_callbacks()["lost"], timeout=15, interval=0.5)
    assert lost == 1
    record = handle.record()
    assert record.status == Status.LOST
    assert record.error_type == "longcallbacks.exceptions.WorkerLost"
    assert status_events(state) == [["status", False, None]]
    assert eventually(lambda: fresh(state).errors)[0][:2] == ["store_pid_then_sleep", "WorkerLost"]
    assert len(interrupted_notices(state)) == 1
    assert check_long_callbacks()["lost"] == 0
    assert status_events(state) == [["status", False, None]]


def test_slow_worker_finishing_late_keeps_one_status(state: State) -> None:
    handle = invoke_long_callback(state, callbacks.sleep_then_return, [3, "late"], callbacks.record_status)
    eventually(lambda: handle.record().status == Status.RUNNING)
    # Make the heartbeat look stale, as if the worker had been unreachable for a while.
    LongCallback.objects.filter(pk=handle.id).update(heartbeat_at=timezone.now() - timezone.timedelta(minutes=5))
    assert check_long_callbacks()["lost"] == 1
    assert status_events(state) == [["status", False, None]]

    record = eventually(lambda: handle.record() if handle.record().late_outcome else None, timeout=15)
    assert record.status == Status.LOST
    assert record.late_outcome["status"] == Status.SUCCEEDED
    assert record.late_outcome["result"] == "late"
    assert status_events(state) == [["status", False, None]]


def test_hard_time_limit_fails_with_reason(state: State) -> None:
    with override_settings(LONGCALLBACKS={**settings.LONGCALLBACKS, "TIME_LIMIT": 1}):
        handle = invoke_long_callback(state, callbacks.sleep_then_return, [10, "never"], callbacks.record_status)
    record = handle.wait(30)
    assert record.status == Status.FAILED
    assert record.error_type == "longcallbacks.exceptions.TaskTimeLimit"
    assert record.error_message == "time limit: the function ran past its hard time limit of 1 s."
    assert status_events(state) == [["status", False, None]]
    assert invoke_long_callback(state, callbacks.add, [2, 2]).wait(30).result == 4


def test_waiting_notice_once_then_expiry(state: State) -> None:
    overrides = {**settings.LONGCALLBACKS, "QUEUE": f"{settings.TEST_PREFIX}-nobody", "WAITING_NOTICE_AFTER": 0}
    with override_settings(LONGCALLBACKS=overrides):
        handle = invoke_long_callback(state, callbacks.add, [1, 2], callbacks.record_status)
        assert check_long_callbacks()["waiting"] == 1
        assert check_long_callbacks()["waiting"] == 0
    notices = Notification.objects.filter(state_id=get_state_id(state), notification_id=f"waiting-{handle.id}")
    assert notices.count() == 1
    assert notices.get().type == "warning"
    assert handle.record().status == Status.QUEUED

    with override_settings(LONGCALLBACKS={**overrides, "QUEUE_EXPIRY": 1}):
        time.sleep(1.2)
        assert check_long_callbacks()["expired"] == 1
        assert check_long_callbacks()["expired"] == 0
    record = handle.record()
    assert record.status == Status.FAILED
    assert record.error_type == "longcallbacks.exceptions.QueueExpired"
    assert status_events(state) == [["status", False, None]]


def test_two_beats_deliver_once(state: State, celery_worker: WorkerProcess) -> None:
    # A run whose worker vanished: running, with a heartbeat long past LOST_AFTER.
    stale = timezone.now() - timezone.timedelta(minutes=5)
    record = LongCallback.objects.create(
        state_id=get_state_id(state),
        function="tests.callbacks.add",
        status_function="tests.callbacks.record_status",
        status=Status.RUNNING,
        started_at=stale,
        heartbeat_at=stale,
    )
    beats = []
    environment = worker_environment()
    for index in range(2):
        log = (Path(settings.OUTPUT_DIR) / f"beat-{index}.log").open("wb")
        command = [
            sys.executable, "-m", "celery", "-A", "tests.celery_app", "beat",
            "-s", str(Path(settings.OUTPUT_DIR) / f"beat-{index}-schedule"), "--loglevel=INFO",
        ]  # fmt: skip
        beats.append(subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT))
        log.close()
    try:
        eventually(lambda: LongCallback.objects.get(pk=record.pk).status == Status.LOST, timeout=30)
        # Both beats keep sending checks every 0.5 s; give them time to collide.
        time.sleep(3)
    finally:
        for beat in beats:
            beat.terminate()
            beat.wait(timeout=20)
    assert status_events(state) == [["status", False, None]]
    assert len(interrupted_notices(state)) == 1
    assert len(fresh(state).errors) == 1
