"""Redis restarts: final statuses and state changes survive, and nothing is delivered twice."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator

import pytest
from django.conf import settings

from longcallbacks.models import LongCallback, StoredState
from tests.helpers import eventually
from tests.private_stack import PrivateStack

Status = LongCallback.Status

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OVERRIDES = {"REPUBLISH_AFTER": 3, "MAX_RUNNING_PER_STATE": 100, "WAITING_NOTICE_AFTER": 600}


@pytest.fixture
def stack(celery_worker: object, request: pytest.FixtureRequest) -> Iterator[PrivateStack]:
    stack = PrivateStack(f"{settings.TEST_PREFIX}-{request.node.name}", OVERRIDES)
    stack.start()
    yield stack
    stack.stop()


def final_count(record_ids: list[str]) -> int:
    return LongCallback.objects.filter(pk__in=record_ids, status__in=LongCallback.FINAL_STATUSES).count()


def status_events(state_id: str) -> list[list[object]]:
    data = StoredState.objects.get(pk=state_id).data
    return [event for event in data.get("events", []) if event[0] == "status"]


def test_redis_restart_mid_run(stack: PrivateStack) -> None:
    runs = stack.run_driver(1, 1, 3.0, 500)
    [(state_id, [record_id])] = runs.items()
    eventually(lambda: LongCallback.objects.get(pk=record_id).status == Status.RUNNING)
    time.sleep(1.0)
    stack.redis.restart()

    eventually(lambda: final_count([record_id]) == 1, timeout=30)
    record = LongCallback.objects.get(pk=record_id)
    assert record.status == Status.SUCCEEDED
    events = status_events(state_id)
    finals = [event for event in events if isinstance(event[1], bool)]
    counts = [event[1] for event in events if not isinstance(event[1], bool)]
    assert finals == [["status", True, 0]]
    assert events[-1] == ["status", True, 0]
    assert counts == sorted(set(counts))
    assert counts[0] == 0


@pytest.mark.soak
@pytest.mark.timeout(600)
def test_soak_500_runs_redis_restart(stack: PrivateStack) -> None:
    runs = stack.run_driver(50, 10, 0.05, 0)
    record_ids = [record_id for ids in runs.values() for record_id in ids]
    assert len(record_ids) == 500

    eventually(lambda: final_count(record_ids) >= 100, timeout=120, interval=0.1)
    finished_before_restart = final_count(record_ids)
    stack.redis.restart()

    eventually(lambda: final_count(record_ids) == 500, timeout=300, interval=0.5)
    statuses = collections.Counter(LongCallback.objects.filter(pk__in=record_ids).values_list("status", flat=True))
    republished = LongCallback.objects.filter(pk__in=record_ids, publish_count__gt=1).count()

    delivered = 0
    duplicated = 0
    for state_id, ids in runs.items():
        events = status_events(state_id)
        delivered += len(events)
        results = [event[2] for event in events if event[1] is True]
        duplicated += len(results) - len(set(results))
        assert len(events) == len(ids), (state_id, events)
    print(
        f"soak: 500 runs on 50 states, {finished_before_restart} final before the Redis restart, "
        f"{delivered} final statuses delivered, {duplicated} duplicates, {republished} republished, "
        f"statuses {dict(statuses)}"
    )
    assert delivered == 500
    assert duplicated == 0
    assert statuses[Status.SUCCEEDED] == 500
