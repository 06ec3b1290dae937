"""Daphne restarted in the middle of a run: the tab reconnects and learns the outcome once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from longcallbacks import State
from longcallbacks.models import LongCallback
from tests.conftest import WorkerProcess, worker_environment
from tests.helpers import eventually
from tests.live import DaphneProcess, Tab
from tests.test_live import notification_messages, state_id_of

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def own_daphne(celery_worker: WorkerProcess, django_db_blocker: Any) -> Iterator[DaphneProcess]:
    """A daphne of this test alone, so restarting it does not disturb other tests."""
    server = DaphneProcess(Path(settings.OUTPUT_DIR) / "daphne-restart.log")
    with django_db_blocker.unblock():
        server.start(worker_environment())
    yield server
    server.stop()


def test_daphne_restart_mid_run(own_daphne: DaphneProcess) -> None:
    cookie = own_daphne.session_cookie()
    state_id = state_id_of(own_daphne, cookie)

    def run_finished() -> bool:
        from django.db import connection

        try:
            return LongCallback.objects.filter(state_id=state_id, status="succeeded").exists()
        finally:
            connection.close()

    async def scenario() -> list[dict[str, Any]]:
        tab = await Tab.open(own_daphne, cookie)
        await tab.receive_until(lambda frame: frame["type"] == "snapshot")
        await tab.send({"type": "action", "name": "start_job", "payload": {"seconds": "2.0", "value": "done"}})
        frames = await tab.receive_until(lambda frame: frame["type"] == "diff" and "status_log" in frame["changes"])
        last_version: int = frames[-1]["version"]

        await asyncio.to_thread(own_daphne.stop)
        await tab.close()
        # The run ends while no web server is up; the worker stores everything in the database.
        await asyncio.to_thread(eventually, run_finished, 20)
        await asyncio.to_thread(own_daphne.start, worker_environment())

        tab = await Tab.open(own_daphne, cookie)
        await tab.receive_until(lambda frame: frame["type"] == "snapshot")
        await tab.send({"type": "resume", "version": last_version})
        await tab.receive_for(1.0)
        await tab.close()
        return tab.frames

    frames = asyncio.run(scenario())
    snapshot = next(frame for frame in frames if frame["type"] == "snapshot")
    assert snapshot["variables"]["task_result"] == "done"
    assert snapshot["long_callbacks"] == []
    assert notification_messages(frames).count("Job finished: done") == 1
    assert "Job started" not in notification_messages(frames)

    status_log = State(state_id).status_log
    assert [value for value in status_log if value is True] == [True]
    assert status_log[-1] is True
    assert LongCallback.objects.filter(state_id=state_id).count() == 1
