"""Pushes to the channel layer: the fast path to browser tabs, never the only copy.

Everything sent here is already committed to the database, so a message the layer drops
(channel layers deliver at most once) is recovered from the database on the next snapshot.
"""

from __future__ import annotations

import logging
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
        async_to_sync(layer.group_send)(group_name(state_id), message)
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
