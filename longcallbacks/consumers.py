"""The websocket consumer: relays one state's changes, notifications and runs to a browser tab.

It never runs status functions or callbacks itself; those ran once where the event happened.
The consumer keeps the tab's copy of the state, applies diffs in version order and sends a
fresh snapshot from the database when it sees a gap. ``docs/protocol.md`` lists the frames,
the error codes and the close codes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import connections

from . import delivery
from .actions import ActionOutcome, InvalidPayload, UnknownAction, clean_payload, registry, run_action
from .conf import lc_settings
from .exceptions import StateNotFound
from .layer import group_name
from .logs import get_logger, repeat_limiter
from .progress import cancel_long_callback
from .state import State

logger = get_logger("consumers")

# Close codes sent by the consumer (1000-2999 are the WebSocket standard's, 4000-4999 ours).
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_LARGE = 1009
CLOSE_SERVER_ERROR = 1011
CLOSE_NO_SESSION = 4001
CLOSE_STATE_NOT_FOUND = 4004

# A connection whose action frames keep arriving after this many "rate_limited" errors in a row
# (times ACTION_RATE_LIMIT) is closed, so a runaway script cannot keep the consumer busy.
FLOOD_CLOSE_FACTOR = 5

# Notifications (id and created_at) remembered per connection, to skip ones this socket was already sent.
MAX_REMEMBERED_NOTIFICATIONS = 1000

MAX_REQUEST_ID_LENGTH = 64

# Long callback ids (UUIDs, 36 characters) accepted in a cancel frame; longer strings are invalid.
MAX_RECORD_ID_LENGTH = 64


class LongCallbacksConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels ships no types
    """One browser tab: the state of its session, live."""

    state_id: str | None
    user_id: Any
    version: int | None
    variables: dict[str, Any]

    @property
    def channel_layer_alias(self) -> str:
        alias: str = lc_settings.CHANNEL_LAYER
        return alias

    async def connect(self) -> None:
        """Find the socket's state from its session, join the state's group and send a snapshot.

        A state id from the browser is never read: only the session cookie and the user count.
        """
        self.state_id = None
        self.user_id = None
        self.version = None
        self.variables = {}
        self.sent_notifications: set[str] = set()
        self.action_times: deque[float] = deque()
        self.rejected_in_row = 0
        self.heartbeat_task: asyncio.Task[None] | None = None
        await self.accept()

        if self.channel_layer is None:
            self._log_error("no-layer", "no channel layer %r is configured", lc_settings.CHANNEL_LAYER)
            await self.send_error("server_error", "The server has no channel layer for live updates.")
            await self.close(CLOSE_SERVER_ERROR)
            return

        session = self.scope.get("session")
        if session is None:
            self._log_error(
                "no-session-middleware", "the websocket has no session; wrap the routing in AuthMiddlewareStack"
            )
            await self.send_error("no_session", "The server does not read sessions on websockets.")
            await self.close(CLOSE_NO_SESSION)
            return
        found = await database_sync_to_async(delivery.resolve_socket_state)(session, self.scope.get("user"))
        if found is None:
            await self.send_error("no_session", "No session: load the page again to start one.")
            await self.close(CLOSE_NO_SESSION)
            return

        self.state_id = found.state_id
        self.user_id = found.user_id
        await self.channel_layer.group_add(group_name(self.state_id), self.channel_name)
        await database_sync_to_async(delivery.open_connection)(self.channel_name, self.state_id)
        if not await self.send_snapshot():
            return
        self.heartbeat_task = asyncio.create_task(self._heartbeat())
        logger.debug("Websocket %s opened for state %s.", self.channel_name, self.state_id)

    async def disconnect(self, code: int) -> None:
        """Leave the group and drop the Connection row; runs once when the socket closes."""
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
        if self.state_id is None:
            return
        await self.channel_layer.group_discard(group_name(self.state_id), self.channel_name)
        await database_sync_to_async(delivery.close_connection)(self.channel_name)
        logger.debug("Websocket %s of state %s closed with code %s.", self.channel_name, self.state_id, code)

    # Frames from the browser.

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.state_id is None:
            return
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > lc_settings.MAX_FRAME_SIZE:
            self._log_error("frame_too_large", "a frame of %d bytes exceeds MAX_FRAME_SIZE", size)
            await self.send_error("frame_too_large", f"Frames may have at most {lc_settings.MAX_FRAME_SIZE} bytes.")
            await self.close(CLOSE_TOO_LARGE)
            return
        if text_data is None:
            await self.reject_frame("invalid_message", "Binary frames are not supported; send JSON text.")
            return

        try:
            message = json.loads(text_data)
        except ValueError:
            await self.reject_frame("invalid_json", "The frame is not valid JSON.")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.reject_frame("invalid_message", 'A frame must be a JSON object with a string "type".')
            return

        handlers = {
            "action": self.receive_action,
            "resume": self.receive_resume,
            "ack": self.receive_ack,
            "cancel": self.receive_cancel,
            "ping": self.receive_ping,
        }
        handler = handlers.get(message["type"])
        if handler is None:
            await self.reject_frame("unknown_type", f"Unknown frame type {message['type'][:50]!r}.")
            return
        try:
            await handler(message)
        except StateNotFound:
            await self.close_state_not_found()
        except Exception as exc:
            # Whatever broke, this tab gets an error frame and the consumer keeps serving it.
            repeat_limiter.log(
                logger,
                logging.ERROR,
                f"socket-handler:{type(exc).__name__}",
                "Websocket %s of state %s: %s frame failed.",
                self.channel_name,
                self.state_id,
                message["type"],
                exc_info=True,
            )
            await self.send_error("server_error", "The server failed to handle the frame.", message.get("id"))

    async def receive_action(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        if request_id is not None and not _valid_request_id(request_id):
            await self.reject_frame(
                "invalid_message", f'"id" must be a string of at most {MAX_REQUEST_ID_LENGTH} characters or an integer.'
            )
            return
        if not await self._admit_action(request_id):
            return

        name = message.get("name")
        try:
            registry.get(name)
            payload = clean_payload(message.get("payload"))
        except UnknownAction:
            shown_name = name[:100] if isinstance(name, str) else name
            await self.reject_frame("unknown_action", f"No action named {shown_name!r} exists.", request_id)
            return
        except InvalidPayload as exc:
            await self.reject_frame("invalid_payload", str(exc), request_id)
            return

        # Outside asgiref's single thread for thread-sensitive code, so that a slow action does
        # not hold up every other socket's database calls in this process.
        outcome = await database_sync_to_async(self._run_action, thread_sensitive=False)(name, payload)
        if not outcome.ok:
            await self.send_error(outcome.error_code, outcome.message, request_id)

    async def _admit_action(self, request_id: Any) -> bool:
        """Count an action or cancel frame against the rate limit; reject it when the window is full."""
        if self._take_action_slot():
            self.rejected_in_row = 0
            return True
        self.rejected_in_row += 1
        if self.rejected_in_row >= FLOOD_CLOSE_FACTOR * lc_settings.ACTION_RATE_LIMIT:
            self._log_error("action_flood", "closed after %d rate-limited actions in a row", self.rejected_in_row)
            await self.send_error("rate_limited", "Too many actions; the connection is closed.", request_id)
            await self.close(CLOSE_POLICY_VIOLATION)
            return False
        await self.reject_frame("rate_limited", "Too many actions; wait, then try again.", request_id)
        return False

    def _run_action(self, name: str, payload: dict[str, Any]) -> ActionOutcome:
        assert self.state_id is not None
        try:
            return run_action(State(self.state_id, user_id=self.user_id), name, payload)
        finally:
            # NOTE: close_old_connections() of database_sync_to_async left PostgreSQL connections
            # of these executor threads open in the tests (seen as ResourceWarnings), so the
            # thread's connections are closed here. The cause is not known.
            connections.close_all()

    async def receive_cancel(self, message: dict[str, Any]) -> None:
        """Cancel one of this state's long callbacks; its final status arrives as a long_callback frame."""
        request_id = message.get("id")
        if request_id is not None and not _valid_request_id(request_id):
            await self.reject_frame(
                "invalid_message", f'"id" must be a string of at most {MAX_REQUEST_ID_LENGTH} characters or an integer.'
            )
            return
        record_id = message.get("long_callback")
        if not isinstance(record_id, str) or not 0 < len(record_id) <= MAX_RECORD_ID_LENGTH:
            await self.reject_frame("invalid_message", '"long_callback" must be a long callback id string.', request_id)
            return
        if not await self._admit_action(request_id):
            return

        try:
            await database_sync_to_async(self._cancel, thread_sensitive=False)(record_id)
        except LookupError:
            # The same error for an unknown id and for another state's id, so ids cannot be probed.
            await self.reject_frame(
                "long_callback_not_found", "This page's state has no long callback with that id.", request_id
            )

    def _cancel(self, record_id: str) -> bool:
        assert self.state_id is not None
        try:
            return cancel_long_callback(State(self.state_id, user_id=self.user_id), record_id)
        finally:
            # Closed for the same reason as in _run_action.
            connections.close_all()

    async def receive_resume(self, message: dict[str, Any]) -> None:
        version = message.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            await self.reject_frame("invalid_message", '"version" must be an integer of 0 or more.')
            return
        assert self.state_id is not None
        missed = await database_sync_to_async(delivery.missed_notifications)(self.state_id, version)
        for notification in missed:
            await self.send_notification(notification)

    async def receive_ack(self, message: dict[str, Any]) -> None:
        ids = message.get("notifications")
        if (
            not isinstance(ids, list)
            or len(ids) > delivery.MAX_ACK_IDS
            or not all(isinstance(item, str) for item in ids)
        ):
            await self.reject_frame(
                "invalid_message", f'"notifications" must be a list of at most {delivery.MAX_ACK_IDS} id strings.'
            )
            return
        assert self.state_id is not None
        await database_sync_to_async(delivery.mark_delivered)(self.state_id, ids)

    async def receive_ping(self, message: dict[str, Any]) -> None:
        await self.send_frame({"type": "pong"})

    # Events from the state's group; every type that layer.py sends needs a handler here.

    async def state_diff(self, event: dict[str, Any]) -> None:
        version = event["version"]
        if self.version is None or version <= self.version:
            return
        if version > self.version + 1:
            logger.info(
                "State %s: websocket %s got version %d after %d; sending a fresh snapshot.",
                self.state_id,
                self.channel_name,
                version,
                self.version,
            )
            await self.rejoin_group()
            await self.send_snapshot()
            return
        self.version = version
        self.variables.update(event["changes"])
        await self.send_frame({"type": "diff", "version": version, "changes": event["changes"]})

    async def state_refresh(self, event: dict[str, Any]) -> None:
        version = event["version"]
        if self.version is None or version < self.version:
            # An older read; the tab already has a newer value.
            return
        if version > self.version:
            await self.rejoin_group()
            await self.send_snapshot()
            return
        self.variables.update(event["changes"])
        await self.send_frame({"type": "diff", "version": version, "changes": event["changes"], "refresh": True})

    async def notification_new(self, event: dict[str, Any]) -> None:
        await self.send_notification(event["notification"])

    async def notification_close(self, event: dict[str, Any]) -> None:
        await self.send_frame({"type": "notification_close", "notification_id": event["notification_id"]})

    async def long_callback_update(self, event: dict[str, Any]) -> None:
        await self.send_frame({"type": "long_callback", "long_callback": event["long_callback"]})

    # Sending.

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_error(self, code: str, message: str, request_id: Any = None) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if request_id is not None:
            frame["id"] = request_id
        await self.send_frame(frame)

    async def reject_frame(self, code: str, message: str, request_id: Any = None) -> None:
        """Reject bad input with an error frame and a rate-limited log line; the socket stays open."""
        self._log_error(code, "%s", message)
        await self.send_error(code, message, request_id)

    async def send_notification(self, notification: dict[str, Any]) -> None:
        """Send a notification unless this socket already got it (from the snapshot, say).

        A notification replaced under the same id has a new ``created_at``, so it is sent again.
        """
        key = _notification_key(notification)
        if key in self.sent_notifications:
            return
        if len(self.sent_notifications) >= MAX_REMEMBERED_NOTIFICATIONS:
            self.sent_notifications.clear()
        self.sent_notifications.add(key)
        await self.send_frame({"type": "notification", "notification": notification})

    async def send_snapshot(self) -> bool:
        """Send the state as stored now; return False when the state is gone and the socket closed."""
        assert self.state_id is not None
        try:
            snapshot = await database_sync_to_async(delivery.build_snapshot)(self.state_id)
        except StateNotFound:
            await self.close_state_not_found()
            return False
        self.version = snapshot["version"]
        self.variables = dict(snapshot["variables"])
        for notification in snapshot["notifications"]:
            self.sent_notifications.add(_notification_key(notification))
        await self.send_frame({"type": "snapshot", **snapshot})
        return True

    async def close_state_not_found(self) -> None:
        logger.warning("State %s of websocket %s no longer exists; closing.", self.state_id, self.channel_name)
        await self.send_error("state_not_found", "This page's state no longer exists; load the page again.")
        await self.close(CLOSE_STATE_NOT_FOUND)

    # Helpers.

    def _take_action_slot(self) -> bool:
        """Count an action in the sliding window; return False when the window is full."""
        now = time.monotonic()
        window_start = now - float(lc_settings.ACTION_RATE_PERIOD)
        while self.action_times and self.action_times[0] <= window_start:
            self.action_times.popleft()
        if len(self.action_times) >= lc_settings.ACTION_RATE_LIMIT:
            return False
        self.action_times.append(now)
        return True

    async def rejoin_group(self) -> None:
        """Add this socket to its state's group again.

        channels-redis drops a member after its ``group_expiry`` (one day by default) and
        when Redis restarts without persistence. Adding a member that is already there only
        refreshes its expiry.
        """
        assert self.state_id is not None
        try:
            await self.channel_layer.group_add(group_name(self.state_id), self.channel_name)
        except Exception as exc:
            self._log_error("group_add", "joining the state's group again failed: %s", exc)

    async def _heartbeat(self) -> None:
        """Refresh Connection.last_seen_at, which broadcast_callback reads, and the group membership."""
        while True:
            await asyncio.sleep(float(lc_settings.CONNECTION_HEARTBEAT_INTERVAL))
            assert self.state_id is not None
            await self.rejoin_group()
            try:
                if not await database_sync_to_async(delivery.touch_connection)(self.channel_name):
                    await database_sync_to_async(delivery.open_connection)(self.channel_name, self.state_id)
                # The channel layer drops messages for a full channel, and a dropped last diff
                # leaves no later gap to notice; the database version shows it.
                version = await database_sync_to_async(delivery.state_version)(self.state_id)
                if version is not None and self.version is not None and version > self.version:
                    logger.info(
                        "State %s: websocket %s is at version %d, the database at %d; sending a snapshot.",
                        self.state_id,
                        self.channel_name,
                        self.version,
                        version,
                    )
                    await self.send_snapshot()
            except Exception as exc:
                self._log_error("heartbeat", "heartbeat failed: %s", exc)

    def _log_error(self, code: str, message: str, *args: Any) -> None:
        repeat_limiter.log(
            logger,
            logging.WARNING,
            f"socket:{code}",
            f"Websocket %s of state %s: {message}",
            getattr(self, "channel_name", "?"),
            self.state_id,
            *args,
        )


def _notification_key(notification: dict[str, Any]) -> str:
    return f"{notification['id']}@{notification['created_at']}"


def _valid_request_id(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and len(value) <= MAX_REQUEST_ID_LENGTH
