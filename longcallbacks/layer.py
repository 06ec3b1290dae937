"""Pushes to the channel layer: the fast path to browser tabs, never the only copy.

Everything sent here is already committed to the database, so a message the layer drops
(channel layers deliver at most once) is recovered from the database on the next snapshot.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .conf import lc_settings
from .logs import get_logger, repeat_limiter

logger = get_logger("layer")

# Event types sent to a state's group; every consumer in the group must handle each of them.
STATE_DIFF = "state.diff"
STATE_REFRESH = "state.refresh"
NOTIFICATION_NEW = "notification.new"
NOTIFICATION_CLOSE = "notification.close"
LONG_CALLBACK_UPDATE = "long_callback.update"


def group_name(state_id: str) -> str:
    """Return the channel-layer group of one state (ASCII, well under the 100-character limit)."""
    return f"longcallbacks.state.{state_id}"


# Seconds a send from sync code may take before it counts as failed.
SEND_TIMEOUT = 5.0


class PublisherLoop:
    """One event loop thread per process for channel-layer sends from sync code.

    ``async_to_sync`` outside an event loop starts a new loop per call, and channels_redis
    keeps its connection pool per loop, so every push opened a new Redis connection. Sends
    from a worker go through this long-lived loop instead and reuse one pool. A forked pool
    process starts its own loop, because the parent's thread does not survive the fork.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="longcallbacks-publisher", daemon=True)
                thread.start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = SEND_TIMEOUT) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._running_loop())
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"channel layer send took longer than {timeout} s") from None


publisher_loop = PublisherLoop()


def send_to_group(layer: Any, group: str, message: dict[str, Any]) -> None:
    """Send from sync code, on the publisher loop when that is safe for the layer.

    Layers whose state lives in one event loop (the in-memory layers) and calls made from a
    thread that asgiref runs for an event loop keep using ``async_to_sync``, which hands the
    send back to that loop.
    """
    module = type(layer).__module__
    if module.startswith("channels_redis.") and not _inside_asgiref_thread():
        publisher_loop.run(layer.group_send(group, message))
        return
    async_to_sync(layer.group_send)(group, message)


def _inside_asgiref_thread() -> bool:
    from asgiref.sync import SyncToAsync

    return SyncToAsync.threadlocal.__dict__.get("main_event_loop") is not None


def publish(state_id: str, message: dict[str, Any]) -> bool:
    """Send ``message`` to the state's group; return False when the layer is missing or failing."""
    layer = get_channel_layer(lc_settings.CHANNEL_LAYER)
    if layer is None:
        repeat_limiter.log(
            logger,
            logging.WARNING,
            "no-layer",
            "No channel layer %r is configured, so changes of state %s reach tabs only on reload.",
            lc_settings.CHANNEL_LAYER,
            state_id,
        )
        return False
    try:
        send_to_group(layer, group_name(state_id), message)
    except Exception as exc:
        repeat_limiter.log(
            logger,
            logging.WARNING,
            f"publish-failed:{type(exc).__name__}",
            "Could not publish %s to state %s: %s. Tabs catch up from the database on reconnect.",
            message.get("type"),
            state_id,
            exc,
        )
        return False
    return True


def publish_state_diffs(state_id: str, diffs: list[tuple[int, dict[str, Any]]]) -> None:
    for version, changes in diffs:
        publish(state_id, {"type": STATE_DIFF, "state_id": state_id, "version": version, "changes": changes})
