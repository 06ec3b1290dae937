"""Database side of the websocket consumer: which state a socket may see, and what it is sent.

Every function here is synchronous and runs in a ``database_sync_to_async`` thread. The
consumer only relays, and these functions decide what a tab receives from the database.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from .conf import lc_settings
from .lifecycle import record_payload
from .models import Connection, LongCallback, Notification, StoredState
from .notifications import notification_payload
from .state import State, resolve_state_id

# Notification ids a tab may acknowledge in one frame.
MAX_ACK_IDS = 100


@dataclass(frozen=True)
class SocketState:
    """The state a socket belongs to, found from its session or user only."""

    state_id: str
    user_id: Any


def resolve_socket_state(session: Any, user: Any) -> SocketState | None:
    """Return the state of the socket's session (or user), creating it when the session exists.

    Returns None when the socket has neither a stored session nor an authenticated user,
    because a state created then could never be reached again from a page.
    """
    if session is None:
        return None
    authenticated = user is not None and getattr(user, "is_authenticated", False)

    state_id = resolve_state_id(session, user, create=False)
    if state_id is None:
        # Loading the session above sets session_key to None when the cookie names no stored session.
        if session.session_key is None and not (authenticated and lc_settings.STATE_SCOPE == "user"):
            return None
        state_id = resolve_state_id(session, user, create=True)
        if session.modified:
            # Channels does not save a session changed over a socket.
            session.save()
    assert state_id is not None  # create=True always returns an id

    return SocketState(state_id, user.pk if authenticated else None)


def _retention_cutoff() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=lc_settings.NOTIFICATION_RETENTION)


def _open_notifications(state_id: str) -> Any:
    return Notification.objects.filter(state_id=state_id, closed_at__isnull=True, created_at__gte=_retention_cutoff())


def build_snapshot(state_id: str) -> dict[str, Any]:
    """Return the state's version and variables, undelivered notifications and active runs."""
    snapshot = State(state_id).snapshot()
    notifications = _open_notifications(state_id).filter(delivered_at__isnull=True)
    return {
        "version": snapshot["version"],
        "variables": snapshot["variables"],
        "notifications": [notification_payload(notification) for notification in notifications],
        "long_callbacks": [run_payload(record) for record in active_runs(state_id)],
    }


def active_runs(state_id: str) -> list[LongCallback]:
    """Return the state's queued and running long callbacks, oldest first."""
    runs = LongCallback.objects.filter(state_id=state_id, status__in=LongCallback.ACTIVE_STATUSES)
    return list(runs.order_by("created_at"))


def run_payload(record: LongCallback) -> dict[str, Any]:
    """Return what a tab is sent about a run, with the action that started it."""
    return {**record_payload(record), "action": record.action}


def take_page_notifications(state_id: str) -> list[dict[str, Any]]:
    """Return the state's undelivered open notifications and mark them delivered.

    For pages that render notifications into their HTML, such as a page after a POST and
    redirect without JavaScript. Marked delivered, they are not in the next snapshot.
    """
    notifications = list(_open_notifications(state_id).filter(delivered_at__isnull=True)[:MAX_ACK_IDS])
    if notifications:
        Notification.objects.filter(pk__in=[item.pk for item in notifications], delivered_at__isnull=True).update(
            delivered_at=timezone.now()
        )
    return [notification_payload(notification) for notification in notifications]


def missed_notifications(state_id: str, since_version: int) -> list[dict[str, Any]]:
    """Return open notifications stored at ``since_version`` or later, delivered or not.

    A tab that was offline while another tab got a notification finds it here. The tab
    skips ids it has already shown, so returning too many is harmless.
    """
    notifications = _open_notifications(state_id).filter(state_version__gte=since_version)
    return [notification_payload(notification) for notification in notifications]


def mark_delivered(state_id: str, notification_ids: Iterable[str]) -> int:
    """Record that a tab showed these notifications; ids of other states are ignored."""
    ids = [notification_id for notification_id in notification_ids if isinstance(notification_id, str)][:MAX_ACK_IDS]
    if not ids:
        return 0
    return Notification.objects.filter(
        Q(state_id=state_id) & Q(notification_id__in=ids) & Q(delivered_at__isnull=True)
    ).update(delivered_at=timezone.now())


def open_connection(channel_name: str, state_id: str) -> None:
    now = timezone.now()
    Connection.objects.update_or_create(
        channel_name=channel_name, defaults={"state_id": state_id, "connected_at": now, "last_seen_at": now}
    )


def state_version(state_id: str) -> int | None:
    """Return the state's committed version, or None when the state is gone."""
    version: int | None = StoredState.objects.filter(pk=state_id).values_list("version", flat=True).first()
    return version


def touch_connection(channel_name: str) -> bool:
    """Refresh the connection's heartbeat; return False when its row is gone."""
    return bool(Connection.objects.filter(channel_name=channel_name).update(last_seen_at=timezone.now()))


def close_connection(channel_name: str) -> None:
    Connection.objects.filter(channel_name=channel_name).delete()
