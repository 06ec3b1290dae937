"""End to end: daphne, a prefork Celery worker, Redis and websocket clients on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from longcallbacks import State
from longcallbacks.models import LongCallback, Notification
from tests.helpers import eventually
from tests.live import DaphneProcess, Tab, daphne_server

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

__all__ = ["daphne_server"]


def notification_messages(frames: list[dict[str, Any]]) -> list[str]:
    messages = []
    for frame in frames:
        if frame["type"] == "notification":
            messages.append(frame["notification"]["message"])
        elif frame["type"] == "snapshot":
            messages.extend(item["message"] for item in frame["notifications"])
    return messages


def variable_values(frames: list[dict[str, Any]], name: str) -> list[Any]:
    values = []
    for frame in frames:
        if frame["type"] == "diff" and name in frame["changes"]:
            values.append(frame["changes"][name])
        elif frame["type"] == "snapshot":
            values.append(frame["variables"][name])
    return values


def finished(frame: dict[str, Any]) -> bool:
    return frame["type"] == "diff" and frame["changes"].get("task_result") == "done"


def state_id_of(daphne: DaphneProcess, cookie: str) -> str:
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore(session_key=cookie.split("=", 1)[1])
    state_id: str = session.load()["_longcallbacks_state_id"]
    return state_id


def test_two_tabs_see_one_run(daphne_server: DaphneProcess) -> None:
    cookie = daphne_server.session_cookie()
    state_id = state_id_of(daphne_server, cookie)

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        first = await Tab.open(daphne_server, cookie)
        second = await Tab.open(daphne_server, cookie)
        await first.receive_until(lambda frame: frame["type"] == "snapshot")
        await second.receive_until(lambda frame: frame["type"] == "snapshot")
        await first.send(
            {"type": "action", "name": "start_job", "payload": {"seconds": "1.3", "value": "done"}, "id": 1}
        )
        frames = await asyncio.gather(first.receive_until(finished), second.receive_until(finished))
        # Give a duplicate delivery the time to show up before counting.
        late = await asyncio.gather(first.receive_for(0.7), second.receive_for(0.7))
        await first.close()
        await second.close()
        return frames[0] + late[0], frames[1] + late[1]

    tabs = asyncio.run(scenario())

    for frames in tabs:
        assert [frame for frame in frames if frame["type"] == "error"] == []
        assert notification_messages(frames).count("Job started") == 1
        assert notification_messages(frames).count("Job finished: done") == 1
        logs = variable_values(frames, "status_log")
        final_log = logs[-1]
        counts = final_log[:-1]
        assert final_log[-1] is True
        assert counts == list(range(len(counts)))
        assert len(counts) >= 2
        # Each status arrived as its own diff: 0, then 0 1, ... then the final True.
        assert logs == [final_log[: index + 1] for index in range(len(final_log))]
        statuses = [frame["long_callback"]["status"] for frame in frames if frame["type"] == "long_callback"]
        assert statuses == ["queued", "running", "succeeded"]
        versions = [frame["version"] for frame in frames if frame["type"] == "diff"]
        assert versions == sorted(versions)
        assert len(set(versions)) == len(versions)
    assert variable_values(tabs[0], "status_log") == variable_values(tabs[1], "status_log")

    state = State(state_id)
    assert state.status_log == variable_values(tabs[0], "status_log")[-1]
    assert state.task_result == "done"
    record = LongCallback.objects.get(state_id=state_id)
    assert record.status == LongCallback.Status.SUCCEEDED
    assert record.last_periodic_count == len(state.status_log) - 2
    notifications = Notification.objects.filter(state_id=state_id)
    assert sorted(notifications.values_list("message", flat=True)) == ["Job finished: done", "Job started"]
    eventually(lambda: not notifications.filter(delivered_at__isnull=True).exists(), timeout=5)


def test_reconnect_gets_result_and_notification_once(daphne_server: DaphneProcess) -> None:
    cookie = daphne_server.session_cookie()
    state_id = state_id_of(daphne_server, cookie)

    async def before() -> int:
        tab = await Tab.open(daphne_server, cookie)
        await tab.receive_until(lambda frame: frame["type"] == "snapshot")
        await tab.send({"type": "action", "name": "start_job", "payload": {"seconds": "1.5", "value": "done"}})
        frames = await tab.receive_until(lambda frame: frame["type"] == "diff" and "status_log" in frame["changes"])
        assert notification_messages(frames) == ["Job started"]
        version: int = frames[-1]["version"]
        await tab.close()
        return version

    last_version = asyncio.run(before())
    record = eventually(lambda: LongCallback.objects.filter(state_id=state_id, status="succeeded").first(), timeout=20)
    assert record.finished_at is not None

    async def after(version: int) -> list[dict[str, Any]]:
        tab = await Tab.open(daphne_server, cookie)
        snapshot = await tab.receive_until(lambda frame: frame["type"] == "snapshot")
        await tab.send({"type": "resume", "version": version})
        await tab.receive_for(1.0)
        await tab.close()
        assert snapshot[-1]["variables"]["task_result"] == "done"
        assert snapshot[-1]["variables"]["status_log"][-1] is True
        assert snapshot[-1]["long_callbacks"] == []
        return tab.frames

    frames = asyncio.run(after(last_version))
    assert notification_messages(frames) == ["Job finished: done"]
    eventually(
        lambda: Notification.objects.filter(state_id=state_id, delivered_at__isnull=True).count() == 0, timeout=5
    )

    async def third_visit() -> list[dict[str, Any]]:
        tab = await Tab.open(daphne_server, cookie)
        await tab.receive_until(lambda frame: frame["type"] == "snapshot")
        await tab.receive_for(0.5)
        await tab.close()
        return tab.frames

    assert notification_messages(asyncio.run(third_visit())) == []
    assert LongCallback.objects.filter(state_id=state_id).count() == 1


def test_cross_origin_handshake_rejected(daphne_server: DaphneProcess) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    cookie = daphne_server.session_cookie()

    async def attempt() -> int:
        try:
            async with connect(
                daphne_server.socket_url,
                origin="http://evil.example",
                additional_headers={"Cookie": cookie},  # type: ignore[arg-type]
            ):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    assert asyncio.run(attempt()) == 403
