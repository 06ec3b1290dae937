"""The websocket protocol, driven through the ASGI stack that the README sets up.

These tests use an in-memory channel layer, so they need neither Redis nor a worker. Changes
made in ``database_sync_to_async`` threads reach the layer through asgiref, which runs the
layer's coroutines on the test's event loop.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings
from django.utils import timezone

from longcallbacks import State, close_notification, notify
from longcallbacks.execution import connected_state_ids
from longcallbacks.layer import group_name
from longcallbacks.lifecycle import mark_running
from longcallbacks.logs import RepeatLimiter
from longcallbacks.models import Connection, LongCallback, Notification, StoredState
from longcallbacks.state import resolve_state_id
from tests.asgi import websocket_application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = "http://127.0.0.1"
PATH = "/ws/longcallbacks/"

LIVE_SETTINGS: dict[str, Any] = {"ON_EXCEPTION": "tests.callbacks.record_exception"}


@pytest.fixture(autouse=True)
def memory_layer() -> Iterator[None]:
    with override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}):
        yield


@pytest.fixture(autouse=True)
def fresh_repeat_limiter(monkeypatch: pytest.MonkeyPatch) -> RepeatLimiter:
    limiter = RepeatLimiter()
    monkeypatch.setattr("longcallbacks.consumers.repeat_limiter", limiter)
    return limiter


def live_settings(**overrides: Any) -> Any:
    return override_settings(LONGCALLBACKS={**LIVE_SETTINGS, **overrides})


@database_sync_to_async
def new_session() -> tuple[str, str]:
    """Create a stored session with a state, as a page that calls get_state() does."""
    session = SessionStore()
    session.create()
    state_id = resolve_state_id(session, None)
    assert state_id is not None
    session.save()
    return str(session.session_key), state_id


def socket(session_key: str | None, origin: str | None = ORIGIN, path: str = PATH) -> WebsocketCommunicator:
    headers = []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if session_key is not None:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(websocket_application, path, headers=headers)


async def open_tab(session_key: str) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    communicator = socket(session_key)
    connected, _ = await communicator.connect()
    assert connected
    snapshot = await communicator.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot"
    return communicator, snapshot


async def receive(communicator: WebsocketCommunicator, frame_type: str, timeout: float = 5) -> dict[str, Any]:
    """Return the next frame of ``frame_type``, failing on any other frame in between."""
    frame: dict[str, Any] = await communicator.receive_json_from(timeout=timeout)
    assert frame["type"] == frame_type, frame
    return frame


async def send(communicator: WebsocketCommunicator, frame: dict[str, Any]) -> None:
    await communicator.send_to(text_data=json.dumps(frame))


async def receive_close(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output
    code: int = output["code"]
    return code


@database_sync_to_async
def assign(state_id: str, **values: Any) -> None:
    state = State(state_id)
    with state:
        for name, value in values.items():
            state.assign(name, value)


@database_sync_to_async
def read_state(state_id: str) -> dict[str, Any]:
    variables: dict[str, Any] = State(state_id).snapshot()["variables"]
    return variables


@database_sync_to_async
def state_version(state_id: str) -> int:
    return int(StoredState.objects.get(pk=state_id).version)


# Connecting and the snapshot.


async def test_snapshot_on_connect() -> None:
    session_key, state_id = await new_session()
    await assign(state_id, message="before connect")
    notification_id = await database_sync_to_async(notify)(State(state_id), "success", "waiting for you")
    record = await database_sync_to_async(LongCallback.objects.create)(
        state_id=state_id, function="tests.callbacks.add"
    )

    communicator, snapshot = await open_tab(session_key)
    assert snapshot["version"] == 1
    assert snapshot["variables"]["message"] == "before connect"
    assert snapshot["variables"]["counter"] == 0
    assert [item["id"] for item in snapshot["notifications"]] == [notification_id]
    assert snapshot["notifications"][0]["type"] == "success"
    assert snapshot["notifications"][0]["message"] == "waiting for you"
    assert [item["id"] for item in snapshot["long_callbacks"]] == [str(record.id)]
    assert snapshot["long_callbacks"][0]["status"] == "queued"
    await communicator.disconnect()


async def test_connection_row_and_heartbeat() -> None:
    session_key, state_id = await new_session()
    with live_settings(CONNECTION_HEARTBEAT_INTERVAL=0.05):
        communicator, _ = await open_tab(session_key)
        first = await database_sync_to_async(Connection.objects.get)(state_id=state_id)
        await asyncio.sleep(0.4)
        second = await database_sync_to_async(Connection.objects.get)(state_id=state_id)
        assert second.last_seen_at > first.last_seen_at
        assert state_id in await database_sync_to_async(connected_state_ids)()
        await communicator.disconnect()
    assert not await database_sync_to_async(Connection.objects.filter(state_id=state_id).exists)()


async def test_ping_gets_pong() -> None:
    session_key, _ = await new_session()
    communicator, _ = await open_tab(session_key)
    await send(communicator, {"type": "ping"})
    assert await receive(communicator, "pong") == {"type": "pong"}
    await communicator.disconnect()


# Relaying group events.


async def test_diff_relayed_in_version_order() -> None:
    session_key, state_id = await new_session()
    communicator, snapshot = await open_tab(session_key)
    await assign(state_id, message="one")
    await assign(state_id, counter=2, message="two")

    first = await receive(communicator, "diff")
    second = await receive(communicator, "diff")
    assert first == {"type": "diff", "version": snapshot["version"] + 1, "changes": {"message": "one"}}
    assert second["version"] == snapshot["version"] + 2
    assert second["changes"] == {"counter": 2, "message": "two"}
    await communicator.disconnect()


async def test_gap_sends_fresh_snapshot() -> None:
    session_key, state_id = await new_session()
    communicator, snapshot = await open_tab(session_key)
    # Two changes in the database, but the tab only hears about the second one.
    await assign(state_id, message="missed")
    await receive(communicator, "diff")
    await database_sync_to_async(StoredState.objects.filter(pk=state_id).update)(
        version=snapshot["version"] + 3, data={"message": "latest"}
    )
    await get_channel_layer().group_send(
        group_name(state_id),
        {
            "type": "state.diff",
            "state_id": state_id,
            "version": snapshot["version"] + 3,
            "changes": {"message": "latest"},
        },
    )

    fresh = await receive(communicator, "snapshot")
    assert fresh["version"] == snapshot["version"] + 3
    assert fresh["variables"]["message"] == "latest"
    await communicator.disconnect()


async def test_old_and_repeated_diffs_dropped() -> None:
    session_key, state_id = await new_session()
    await assign(state_id, message="one")
    communicator, snapshot = await open_tab(session_key)
    for version in (snapshot["version"], snapshot["version"] - 1):
        await get_channel_layer().group_send(
            group_name(state_id),
            {"type": "state.diff", "state_id": state_id, "version": version, "changes": {"message": "old"}},
        )
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_refresh_relayed_as_diff() -> None:
    session_key, state_id = await new_session()
    communicator, snapshot = await open_tab(session_key)
    await database_sync_to_async(lambda: State(state_id).refresh("message"))()
    frame = await receive(communicator, "diff")
    assert frame == {"type": "diff", "version": snapshot["version"], "changes": {"message": "initial"}, "refresh": True}
    await communicator.disconnect()


async def test_long_callback_update_relayed() -> None:
    session_key, state_id = await new_session()
    record = await database_sync_to_async(LongCallback.objects.create)(
        state_id=state_id, function="tests.callbacks.add"
    )
    communicator, _ = await open_tab(session_key)
    await database_sync_to_async(mark_running)(record.id, "worker-1")
    frame = await receive(communicator, "long_callback")
    assert frame["long_callback"]["id"] == str(record.id)
    assert frame["long_callback"]["status"] == "running"
    assert "args" not in frame["long_callback"]
    await communicator.disconnect()


# Notifications.


async def test_three_tabs_each_get_notification_once() -> None:
    session_key, state_id = await new_session()
    tabs = [(await open_tab(session_key))[0] for _ in range(3)]
    notification_id = await database_sync_to_async(notify)(State(state_id), "info", "to every tab")

    for tab in tabs:
        frame = await receive(tab, "notification")
        assert frame["notification"]["id"] == notification_id
        assert frame["notification"]["message"] == "to every tab"
    for tab in tabs:
        await send(tab, {"type": "ack", "notifications": [notification_id]})
        assert await tab.receive_nothing(timeout=0.2)
        await tab.disconnect()


async def test_late_group_copy_of_snapshot_notification_skipped() -> None:
    session_key, state_id = await new_session()
    notification_id = await database_sync_to_async(notify)(State(state_id), "info", "committed before connect")
    communicator, snapshot = await open_tab(session_key)
    payload = snapshot["notifications"][0]
    assert payload["id"] == notification_id

    # The group message of the same notification arrives after the snapshot read it.
    await get_channel_layer().group_send(
        group_name(state_id), {"type": "notification.new", "state_id": state_id, "notification": payload}
    )
    assert await communicator.receive_nothing(timeout=0.3)

    # The same id notified again is a replacement, with a new created_at, and is sent.
    await database_sync_to_async(notify)(State(state_id), "success", "replaced", notification_id=notification_id)
    frame = await receive(communicator, "notification")
    assert frame["notification"]["id"] == notification_id
    assert frame["notification"]["message"] == "replaced"
    await communicator.disconnect()


async def test_ack_marks_delivered_and_next_connect_skips() -> None:
    session_key, state_id = await new_session()
    notification_id = await database_sync_to_async(notify)(State(state_id), "info", "offline notice")

    communicator, snapshot = await open_tab(session_key)
    assert [item["id"] for item in snapshot["notifications"]] == [notification_id]
    await send(communicator, {"type": "ack", "notifications": [notification_id]})
    await send(communicator, {"type": "ping"})
    await receive(communicator, "pong")
    await communicator.disconnect()

    stored = await database_sync_to_async(Notification.objects.get)(notification_id=notification_id)
    assert stored.delivered_at is not None
    again, snapshot = await open_tab(session_key)
    assert snapshot["notifications"] == []
    await again.disconnect()


async def test_ack_ignores_other_states_ids() -> None:
    session_a, state_a = await new_session()
    session_b, _ = await new_session()
    notification_id = await database_sync_to_async(notify)(State(state_a), "info", "only for A")
    communicator, _ = await open_tab(session_b)
    await send(communicator, {"type": "ack", "notifications": [notification_id]})
    await send(communicator, {"type": "ping"})
    await receive(communicator, "pong")
    stored = await database_sync_to_async(Notification.objects.get)(notification_id=notification_id)
    assert stored.delivered_at is None
    await communicator.disconnect()


async def test_resume_sends_missed_notifications() -> None:
    session_key, state_id = await new_session()
    staying, snapshot = await open_tab(session_key)
    leaving, _ = await open_tab(session_key)
    await leaving.disconnect()

    notification_id = await database_sync_to_async(notify)(State(state_id), "info", "while you were away")
    await receive(staying, "notification")
    await send(staying, {"type": "ack", "notifications": [notification_id]})
    await send(staying, {"type": "ping"})
    await receive(staying, "pong")

    back, fresh = await open_tab(session_key)
    assert fresh["notifications"] == []
    await send(back, {"type": "resume", "version": snapshot["version"]})
    frame = await receive(back, "notification")
    assert frame["notification"]["id"] == notification_id
    assert await back.receive_nothing(timeout=0.2)

    await assign(state_id, message="after the notification")
    await receive(back, "diff")
    later, _ = await open_tab(session_key)
    await send(later, {"type": "resume", "version": await state_version(state_id)})
    assert await later.receive_nothing(timeout=0.3)
    for communicator in (staying, back, later):
        await communicator.disconnect()


async def test_expired_notification_not_sent() -> None:
    session_key, state_id = await new_session()
    notification_id = await database_sync_to_async(notify)(State(state_id), "info", "old news")
    await database_sync_to_async(Notification.objects.filter(notification_id=notification_id).update)(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )
    communicator, snapshot = await open_tab(session_key)
    assert snapshot["notifications"] == []
    await communicator.disconnect()


async def test_close_relayed_and_closed_not_resent() -> None:
    session_key, state_id = await new_session()
    communicator, _ = await open_tab(session_key)
    notification_id = await database_sync_to_async(notify)(State(state_id), "info", "short-lived")
    await receive(communicator, "notification")
    await database_sync_to_async(close_notification)(State(state_id), notification_id)
    frame = await receive(communicator, "notification_close")
    assert frame == {"type": "notification_close", "notification_id": notification_id}
    await communicator.disconnect()

    again, snapshot = await open_tab(session_key)
    assert snapshot["notifications"] == []
    await again.disconnect()


# Actions.


async def test_action_runs_with_payload() -> None:
    session_key, state_id = await new_session()
    communicator, snapshot = await open_tab(session_key)
    await send(communicator, {"type": "action", "name": "set_message", "payload": {"text": "from the socket"}, "id": 1})
    frame = await receive(communicator, "diff")
    assert frame["changes"] == {"message": "from the socket"}
    assert frame["version"] == snapshot["version"] + 1
    assert (await read_state(state_id))["message"] == "from the socket"
    await communicator.disconnect()


async def test_action_list_values_and_empty_payload() -> None:
    session_key, state_id = await new_session()
    communicator, _ = await open_tab(session_key)
    await send(communicator, {"type": "action", "name": "set_message", "payload": {"text": ["a", "b"]}})
    assert (await receive(communicator, "diff"))["changes"] == {"message": "a,b"}
    await send(communicator, {"type": "action", "name": "set_message"})
    assert (await receive(communicator, "diff"))["changes"] == {"message": ""}
    await communicator.disconnect()


async def test_unknown_action_rejected() -> None:
    session_key, state_id = await new_session()
    communicator, _ = await open_tab(session_key)
    await send(communicator, {"type": "action", "name": "os.system", "payload": {}, "id": "a1"})
    frame = await receive(communicator, "error")
    assert frame["code"] == "unknown_action"
    assert frame["id"] == "a1"
    assert "'os.system'" in frame["message"]
    await send(communicator, {"type": "action", "name": ["set_message"], "id": 2})
    assert (await receive(communicator, "error"))["code"] == "unknown_action"
    assert (await read_state(state_id))["message"] == "initial"
    await communicator.disconnect()


@pytest.mark.parametrize(
    "payload",
    [[], "text=1", {"text": {"nested": "object"}}, {"text": 5}, {"text": ["a", 1]}],
    ids=["list", "string", "nested", "number", "mixed-list"],
)
async def test_invalid_payload_rejected(payload: Any) -> None:
    session_key, state_id = await new_session()
    communicator, _ = await open_tab(session_key)
    await send(communicator, {"type": "action", "name": "set_message", "payload": payload, "id": 7})
    frame = await receive(communicator, "error")
    assert frame["code"] == "invalid_payload"
    assert frame["id"] == 7
    assert (await read_state(state_id))["message"] == "initial"
    await communicator.disconnect()


async def test_failing_action_rolled_back_and_reported() -> None:
    session_key, state_id = await new_session()
    with live_settings():
        communicator, _ = await open_tab(session_key)
        await send(communicator, {"type": "action", "name": "fail", "id": 3})
        error = await receive(communicator, "error")
        assert error["code"] == "action_failed"
        assert error["id"] == 3
        # ON_EXCEPTION recorded the error; the action's own change was rolled back.
        diff = await receive(communicator, "diff")
        assert diff["changes"] == {"errors": [["fail", "RuntimeError", "action broke"]]}
    assert (await read_state(state_id))["message"] == "initial"
    await communicator.disconnect()


async def test_limit_per_state_gives_error_and_warning() -> None:
    session_key, state_id = await new_session()
    await database_sync_to_async(LongCallback.objects.create)(
        state_id=state_id, function="tests.callbacks.add", status=LongCallback.Status.RUNNING
    )
    with live_settings(MAX_RUNNING_PER_STATE=1):
        communicator, snapshot = await open_tab(session_key)
        assert len(snapshot["long_callbacks"]) == 1
        await send(communicator, {"type": "action", "name": "run_noop", "id": 4})
        frames = [await communicator.receive_json_from(timeout=5) for _ in range(2)]

    by_type = {frame["type"]: frame for frame in frames}
    assert by_type["error"]["code"] == "too_many_long_callbacks"
    assert by_type["error"]["id"] == 4
    assert "MAX_RUNNING_PER_STATE" in by_type["error"]["message"]
    assert by_type["notification"]["notification"]["type"] == "warning"
    assert "Too many tasks" in by_type["notification"]["notification"]["message"]
    assert await database_sync_to_async(LongCallback.objects.filter(state_id=state_id).count)() == 1
    warnings = await database_sync_to_async(Notification.objects.filter(state_id=state_id, type="warning").count)()
    assert warnings == 1
    await communicator.disconnect()


async def test_action_flood_rate_limited_then_closed() -> None:
    session_key, state_id = await new_session()
    bystander_key, _ = await new_session()
    with live_settings(ACTION_RATE_LIMIT=3, ACTION_RATE_PERIOD=60):
        communicator, _ = await open_tab(session_key)
        bystander, _ = await open_tab(bystander_key)
        for index in range(3):
            await send(communicator, {"type": "action", "name": "set_message", "payload": {"text": str(index)}})
            await receive(communicator, "diff")

        await send(communicator, {"type": "action", "name": "set_message", "payload": {"text": "too many"}, "id": 9})
        limited = await receive(communicator, "error")
        assert limited["code"] == "rate_limited"
        assert limited["id"] == 9

        # 5 x ACTION_RATE_LIMIT rejected actions in a row close the socket.
        for _ in range(13):
            await send(communicator, {"type": "action", "name": "set_message", "payload": {"text": "flood"}})
            assert (await receive(communicator, "error"))["code"] == "rate_limited"
        await send(communicator, {"type": "action", "name": "set_message", "payload": {"text": "flood"}})
        assert (await receive(communicator, "error"))["code"] == "rate_limited"
        assert await receive_close(communicator) == 1008
        await communicator.disconnect()

        await send(bystander, {"type": "ping"})
        await receive(bystander, "pong")
        await bystander.disconnect()
    assert (await read_state(state_id))["message"] == "2"


# Bad frames.


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('{"type": 5}', "invalid_message"),
        ('{"name": "set_message"}', "invalid_message"),
        ('{"type": "subscribe", "state_id": "x"}', "unknown_type"),
        ('{"type": "resume", "version": "12"}', "invalid_message"),
        ('{"type": "resume", "version": -1}', "invalid_message"),
        ('{"type": "ack", "notifications": "abc"}', "invalid_message"),
        ('{"type": "ack", "notifications": [1, 2]}', "invalid_message"),
        ('{"type": "action", "name": "set_message", "id": {"a": 1}}', "invalid_message"),
    ],
)
async def test_bad_frame_gets_error_and_socket_stays(text: str, code: str) -> None:
    session_key, _ = await new_session()
    communicator, _ = await open_tab(session_key)
    await communicator.send_to(text_data=text)
    frame = await receive(communicator, "error")
    assert frame["code"] == code
    assert frame["message"]
    await send(communicator, {"type": "ping"})
    await receive(communicator, "pong")
    await communicator.disconnect()


async def test_binary_frame_rejected() -> None:
    session_key, _ = await new_session()
    communicator, _ = await open_tab(session_key)
    await communicator.send_to(bytes_data=b'{"type": "ping"}')
    assert (await receive(communicator, "error"))["code"] == "invalid_message"
    await communicator.disconnect()


async def test_oversized_frame_closes_socket() -> None:
    session_key, _ = await new_session()
    bystander_key, _ = await new_session()
    communicator, _ = await open_tab(session_key)
    bystander, _ = await open_tab(bystander_key)
    big = json.dumps({"type": "action", "name": "set_message", "payload": {"text": "x" * 70_000}})
    await communicator.send_to(text_data=big)
    frame = await receive(communicator, "error")
    assert frame["code"] == "frame_too_large"
    assert "65536" in frame["message"]
    assert await receive_close(communicator) == 1009
    await communicator.disconnect()

    await send(bystander, {"type": "ping"})
    await receive(bystander, "pong")
    await bystander.disconnect()


async def test_frame_size_setting_applies() -> None:
    session_key, _ = await new_session()
    with live_settings(MAX_FRAME_SIZE=100):
        communicator, _ = await open_tab(session_key)
        await send(communicator, {"type": "action", "name": "set_message", "payload": {"text": "y" * 120}})
        assert (await receive(communicator, "error"))["code"] == "frame_too_large"
        assert await receive_close(communicator) == 1009
        await communicator.disconnect()


async def test_repeated_errors_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    session_key, state_id = await new_session()
    communicator, _ = await open_tab(session_key)
    with caplog.at_level(logging.WARNING, logger="longcallbacks.consumers"):
        for _ in range(5):
            await communicator.send_to(text_data="{broken")
            await receive(communicator, "error")
    lines = [record.getMessage() for record in caplog.records if record.name == "longcallbacks.consumers"]
    assert len(lines) == 1
    assert "not valid JSON" in lines[0]
    assert state_id in lines[0]
    await communicator.disconnect()


# Origins, sessions and other states.


@pytest.mark.parametrize("origin", ["http://evil.example", "null", None], ids=["foreign", "null", "missing"])
async def test_cross_origin_socket_rejected(origin: str | None) -> None:
    session_key, _ = await new_session()
    communicator = socket(session_key, origin=origin)
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def test_socket_without_session_closed() -> None:
    for session_key in (None, "x" * 32):
        communicator = socket(session_key)
        connected, _ = await communicator.connect()
        assert connected
        assert (await receive(communicator, "error"))["code"] == "no_session"
        assert await receive_close(communicator) == 4001
        await communicator.disconnect()
    assert await database_sync_to_async(StoredState.objects.count)() == 0


async def test_session_without_state_gets_new_state() -> None:
    session = SessionStore()
    await database_sync_to_async(session.create)()
    communicator, snapshot = await open_tab(str(session.session_key))
    assert snapshot["version"] == 0
    stored = await database_sync_to_async(SessionStore(session_key=session.session_key).load)()
    assert stored["_longcallbacks_state_id"]
    assert await database_sync_to_async(StoredState.objects.filter(pk=stored["_longcallbacks_state_id"]).exists)()
    await communicator.disconnect()


async def test_state_id_from_browser_ignored() -> None:
    session_a, state_a = await new_session()
    session_b, state_b = await new_session()
    await assign(state_a, message="secret of A")
    await database_sync_to_async(notify)(State(state_a), "info", "for A only")

    communicator = socket(session_b, path=f"{PATH}?state_id={state_a}")
    connected, _ = await communicator.connect()
    assert connected
    snapshot = await receive(communicator, "snapshot")
    assert snapshot["variables"]["message"] == "initial"
    assert snapshot["notifications"] == []

    await send(
        communicator, {"type": "action", "name": "set_message", "payload": {"text": "by B"}, "state_id": state_a}
    )
    await receive(communicator, "diff")
    await send(communicator, {"type": "resume", "version": 0, "state_id": state_a})
    assert (await read_state(state_a))["message"] == "secret of A"
    assert (await read_state(state_b))["message"] == "by B"

    # A change to A's state never reaches B's socket.
    await assign(state_a, message="A again")
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_each_cookie_sees_only_its_state() -> None:
    session_a, state_a = await new_session()
    session_b, state_b = await new_session()
    tab_a, snapshot_a = await open_tab(session_a)
    tab_b, snapshot_b = await open_tab(session_b)
    await assign(state_b, message="B's value")
    assert (await receive(tab_b, "diff"))["changes"] == {"message": "B's value"}
    assert await tab_a.receive_nothing(timeout=0.3)
    assert (await read_state(state_a))["message"] == "initial"
    await tab_a.disconnect()
    await tab_b.disconnect()


async def test_deleted_state_closes_socket() -> None:
    session_key, state_id = await new_session()
    communicator, _ = await open_tab(session_key)
    await database_sync_to_async(StoredState.objects.filter(pk=state_id).delete)()
    await send(communicator, {"type": "action", "name": "set_message", "payload": {"text": "x"}})
    assert (await receive(communicator, "error"))["code"] == "state_not_found"
    assert await receive_close(communicator) == 4004
    await communicator.disconnect()


# Cancelling long callbacks and the running indicator.


@database_sync_to_async
def queued_run(state_id: str, action: str | None = None) -> LongCallback:
    record: LongCallback = LongCallback.objects.create(
        state_id=state_id, function="tests.callbacks.do_nothing", action=action
    )
    return record


@database_sync_to_async
def run_status(record_id: Any) -> str:
    return str(LongCallback.objects.get(pk=record_id).status)


async def test_cancel_own_run() -> None:
    session_key, state_id = await new_session()
    record = await queued_run(state_id)
    communicator, snapshot = await open_tab(session_key)
    assert [run["id"] for run in snapshot["long_callbacks"]] == [str(record.id)]

    await send(communicator, {"type": "cancel", "long_callback": str(record.id), "id": 7})
    frame = await receive(communicator, "long_callback")
    assert frame["long_callback"]["id"] == str(record.id)
    assert frame["long_callback"]["status"] == "cancelled"
    assert await run_status(record.id) == "cancelled"
    await communicator.disconnect()


async def test_cancel_other_states_run_rejected() -> None:
    session_key, _ = await new_session()
    _, other_state_id = await new_session()
    other_run = await queued_run(other_state_id)
    communicator, _ = await open_tab(session_key)

    await send(communicator, {"type": "cancel", "long_callback": str(other_run.id), "id": "c1"})
    cross_state = await receive(communicator, "error")
    await send(communicator, {"type": "cancel", "long_callback": "00000000-0000-4000-8000-000000000000", "id": "c2"})
    unknown = await receive(communicator, "error")
    await send(communicator, {"type": "cancel", "long_callback": "../etc", "id": "c3"})
    not_an_id = await receive(communicator, "error")

    assert cross_state == {
        "type": "error",
        "code": "long_callback_not_found",
        "message": "This page's state has no long callback with that id.",
        "id": "c1",
    }
    # The same error, so a socket cannot tell another state's id from an unknown one.
    assert {**unknown, "id": "c1"} == cross_state
    assert {**not_an_id, "id": "c1"} == cross_state
    assert await run_status(other_run.id) == "queued"
    await communicator.disconnect()


@pytest.mark.parametrize(
    "frame",
    [{"type": "cancel"}, {"type": "cancel", "long_callback": 5}, {"type": "cancel", "long_callback": "x" * 65}],
    ids=["missing", "integer", "too-long"],
)
async def test_cancel_invalid_id_rejected(frame: dict[str, Any]) -> None:
    session_key, _ = await new_session()
    communicator, _ = await open_tab(session_key)
    await send(communicator, frame)
    error = await receive(communicator, "error")
    assert error["code"] == "invalid_message"
    await communicator.disconnect()


async def test_runs_carry_starting_action() -> None:
    session_key, state_id = await new_session()
    earlier = await queued_run(state_id, action="start_job")
    communicator, snapshot = await open_tab(session_key)
    assert snapshot["long_callbacks"][0]["action"] == "start_job"

    await send(communicator, {"type": "action", "name": "run_noop"})
    frame = await receive(communicator, "long_callback")
    assert frame["long_callback"]["status"] == "queued"
    assert frame["long_callback"]["action"] == "run_noop"

    await database_sync_to_async(mark_running)(earlier.id, "worker-1")
    frame = await receive(communicator, "long_callback")
    assert frame["long_callback"]["action"] == "start_job"
    await communicator.disconnect()


# Group membership lost in the channel layer (group_expiry, a Redis restart).


@database_sync_to_async
def channel_of(state_id: str) -> str:
    return str(Connection.objects.get(state_id=state_id).channel_name)


async def notify_group(state_id: str, notification_id: str) -> None:
    await get_channel_layer().group_send(
        group_name(state_id), {"type": "notification.close", "state_id": state_id, "notification_id": notification_id}
    )


async def test_heartbeat_rejoins_group() -> None:
    session_key, state_id = await new_session()
    with live_settings(CONNECTION_HEARTBEAT_INTERVAL=0.2):
        communicator, _ = await open_tab(session_key)
        channel_name = await channel_of(state_id)
        await get_channel_layer().group_discard(group_name(state_id), channel_name)
        await notify_group(state_id, "while-out")
        assert await communicator.receive_nothing(timeout=0.1)

        await asyncio.sleep(0.5)
        await notify_group(state_id, "after-heartbeat")
        frame = await receive(communicator, "notification_close")
        assert frame["notification_id"] == "after-heartbeat"
        await communicator.disconnect()


async def test_gap_rejoins_group() -> None:
    session_key, state_id = await new_session()
    communicator, snapshot = await open_tab(session_key)
    channel_name = await channel_of(state_id)
    layer = get_channel_layer()
    await layer.group_discard(group_name(state_id), channel_name)

    # A diff that reached the socket directly shows a gap, as after a lost group message.
    await layer.send(
        channel_name,
        {"type": "state.diff", "state_id": state_id, "version": snapshot["version"] + 2, "changes": {}},
    )
    await receive(communicator, "snapshot")
    await notify_group(state_id, "after-gap")
    frame = await receive(communicator, "notification_close")
    assert frame["notification_id"] == "after-gap"
    await communicator.disconnect()


@database_sync_to_async
def change_without_push(state_id: str) -> None:
    """Commit a change as a status function would, but drop its push, as a full channel does."""
    StoredState.objects.filter(pk=state_id).update(data={"message": "changed while dropped"}, version=7)


async def test_heartbeat_catches_up_after_dropped_diff() -> None:
    session_key, state_id = await new_session()
    with live_settings(CONNECTION_HEARTBEAT_INTERVAL=0.2):
        communicator, snapshot = await open_tab(session_key)
        assert snapshot["version"] < 7
        await change_without_push(state_id)
        frame = await receive(communicator, "snapshot")
        assert frame["version"] == 7
        assert frame["variables"]["message"] == "changed while dropped"
        # Up to date now: later heartbeats send nothing more.
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
