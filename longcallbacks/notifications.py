"""Toasts for a state's tabs, stored until delivered so that an offline user still sees them."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from . import events, layer
from .conf import lc_settings
from .models import Notification
from .state import State, as_state

_TYPES_BY_LETTER = {
    "i": Notification.Type.INFO,
    "s": Notification.Type.SUCCESS,
    "w": Notification.Type.WARNING,
    "e": Notification.Type.ERROR,
}


def normalize_type(notification_type: str) -> str:
    """Map ``info``/``success``/``warning``/``error`` and Taipy's letters I/S/W/E to a type."""
    if isinstance(notification_type, str):
        lowered = notification_type.strip().lower()
        if lowered in Notification.Type.values:
            return lowered
        if lowered in _TYPES_BY_LETTER:
            return str(_TYPES_BY_LETTER[lowered])
    raise ValueError(
        f"notification_type {notification_type!r} is invalid; use 'info', 'success', 'warning' or "
        f"'error' (or Taipy's 'I', 'S', 'W', 'E')."
    )


def notification_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.notification_id,
        "type": notification.type,
        "message": notification.message,
        "system_notification": bool(notification.system_notification),
        "duration": notification.duration if notification.duration is not None else lc_settings.NOTIFICATION_DURATION,
        "created_at": notification.created_at.isoformat(),
    }


def notify(
    state: State | HttpRequest,
    notification_type: str = "info",
    message: str = "",
    system_notification: bool | None = None,
    duration: int | None = None,
    notification_id: str | None = None,
) -> str:
    """Show a toast in every tab of the state and return its id.

    A notification with an id that already exists for the state replaces it. Inside a
    callback the toast is sent when the callback's changes commit, and dropped if it raises.
    """
    target = as_state(state)
    kind = normalize_type(notification_type)
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int) or duration < 0):
        raise ValueError(f"duration {duration!r} is invalid; give whole milliseconds (an int, 0 or more) or None.")
    if notification_id is None or notification_id == "":
        notification_id = uuid.uuid4().hex
    if not isinstance(notification_id, str) or len(notification_id) > 64:
        raise ValueError(f"notification_id {notification_id!r} is invalid; use a str of at most 64 characters.")

    with target._locked():
        notification, _ = Notification.objects.update_or_create(
            state_id=target._state_id,
            notification_id=notification_id,
            defaults={
                "type": kind,
                "message": str(message),
                "system_notification": system_notification,
                "duration": duration,
                "created_at": timezone.now(),
                "delivered_at": None,
                "closed_at": None,
                "state_version": target._version,
            },
        )
        payload = notification_payload(notification)
        events.notification_sent.send(sender=Notification, state_id=target._state_id, notification=payload)
        state_id = target._state_id
        push = {"type": layer.NOTIFICATION_NEW, "state_id": state_id, "notification": payload}
        target._publish_after_changes(lambda: layer.publish(state_id, push))
    return notification_id


def close_notification(state: State | HttpRequest, notification_id: str) -> None:
    """Close a notification in every tab; unknown ids are ignored, as in Taipy."""
    target = as_state(state)
    with target._locked():
        Notification.objects.filter(state_id=target._state_id, notification_id=notification_id).update(
            closed_at=timezone.now()
        )
        state_id = target._state_id
        transaction.on_commit(
            lambda: layer.publish(
                state_id, {"type": layer.NOTIFICATION_CLOSE, "state_id": state_id, "notification_id": notification_id}
            )
        )
