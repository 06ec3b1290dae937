from __future__ import annotations

import pytest

from longcallbacks import State, close_notification, get_state_id, notify
from longcallbacks.models import Notification, StoredState

pytestmark = pytest.mark.django_db


@pytest.fixture
def state() -> State:
    return State(StoredState.objects.create().id)


@pytest.mark.parametrize(
    ("given", "stored"),
    [("info", "info"), ("I", "info"), ("s", "success"), ("W", "warning"), ("error", "error"), ("E", "error")],
)
def test_types_and_taipy_letters(state: State, given: str, stored: str) -> None:
    notification_id = notify(state, given, "hello")
    assert Notification.objects.get(notification_id=notification_id).type == stored


def test_unknown_type_rejected(state: State) -> None:
    with pytest.raises(ValueError, match="notification_type 'fatal' is invalid"):
        notify(state, "fatal", "x")


def test_invalid_duration_rejected(state: State) -> None:
    with pytest.raises(ValueError, match=r"duration -5 is invalid"):
        notify(state, "info", "x", duration=-5)


def test_same_id_replaces(state: State) -> None:
    assert notify(state, "info", "first", notification_id="job") == "job"
    notify(state, "success", "second", notification_id="job")
    notification = Notification.objects.get(state_id=get_state_id(state), notification_id="job")
    assert notification.message == "second"
    assert notification.type == "success"


def test_rapid_notifications_all_kept(state: State) -> None:
    ids = [notify(state, "info", f"message {index}") for index in range(5)]
    assert len(set(ids)) == 5
    assert list(Notification.objects.values_list("message", flat=True)) == [f"message {index}" for index in range(5)]


def test_close_marks_closed(state: State) -> None:
    notification_id = notify(state, "info", "x")
    close_notification(state, notification_id)
    assert Notification.objects.get(notification_id=notification_id).closed_at is not None
    close_notification(state, "unknown")
