"""Helpers for testing your own long callbacks; the pytest plugin wraps them in fixtures.

``Recorder`` collects what happened (status calls, state changes, notifications) from the
app's signals. ``run_synchronously`` runs each ``invoke_long_callback`` at once in the test's
thread, without a broker, through Celery's ``Task.apply`` so that the same signals and record
updates happen as on a worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from . import events

__all__ = ["NotificationEvent", "Recorder", "StateChange", "StatusCall", "run_synchronously"]


@dataclass(frozen=True)
class StatusCall:
    record_id: uuid.UUID
    state_id: str
    function: str
    status: Any
    result: Any


@dataclass(frozen=True)
class StateChange:
    state_id: str
    version: int
    changes: dict[str, Any]


@dataclass(frozen=True)
class NotificationEvent:
    state_id: str
    type: str
    message: str
    id: str


@dataclass
class Recorder:
    """Records events while connected; use as a context manager or call ``connect()``."""

    status_calls: list[StatusCall] = field(default_factory=list)
    state_changes: list[StateChange] = field(default_factory=list)
    notifications: list[NotificationEvent] = field(default_factory=list)

    def connect(self) -> None:
        events.status_delivered.connect(self._on_status, weak=False, dispatch_uid=f"recorder-status-{id(self)}")
        events.state_changed.connect(self._on_change, weak=False, dispatch_uid=f"recorder-change-{id(self)}")
        events.notification_sent.connect(self._on_notification, weak=False, dispatch_uid=f"recorder-notify-{id(self)}")

    def disconnect(self) -> None:
        events.status_delivered.disconnect(dispatch_uid=f"recorder-status-{id(self)}")
        events.state_changed.disconnect(dispatch_uid=f"recorder-change-{id(self)}")
        events.notification_sent.disconnect(dispatch_uid=f"recorder-notify-{id(self)}")

    def __enter__(self) -> Recorder:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disconnect()

    def _on_status(self, sender: Any, **kwargs: Any) -> None:
        self.status_calls.append(
            StatusCall(kwargs["record_id"], kwargs["state_id"], kwargs["function"], kwargs["status"], kwargs["result"])
        )

    def _on_change(self, sender: Any, **kwargs: Any) -> None:
        self.state_changes.append(StateChange(kwargs["state_id"], kwargs["version"], kwargs["changes"]))

    def _on_notification(self, sender: Any, **kwargs: Any) -> None:
        payload = kwargs["notification"]
        self.notifications.append(
            NotificationEvent(kwargs["state_id"], payload["type"], payload["message"], payload["id"])
        )

    # Queries and assertions.

    def statuses(self, function: str | None = None) -> list[Any]:
        """Return the status values delivered, optionally for one status function's path or name."""
        return [call.status for call in self.status_calls if function is None or _matches(call.function, function)]

    def final_statuses(self, function: str | None = None) -> list[bool]:
        return [status for status in self.statuses(function) if isinstance(status, bool)]

    def messages(self, notification_type: str | None = None) -> list[str]:
        return [event.message for event in self.notifications if notification_type in (None, event.type)]

    def values(self, name: str) -> list[Any]:
        """Return every value assigned to state variable ``name``, in order."""
        return [change.changes[name] for change in self.state_changes if name in change.changes]

    def assert_statuses(self, expected: list[Any], function: str | None = None) -> None:
        actual = self.statuses(function)
        if actual != expected:
            raise AssertionError(f"status calls were {actual!r}, expected {expected!r}")

    def assert_notified(self, message: str, notification_type: str | None = None) -> None:
        if message not in self.messages(notification_type):
            shown = [(event.type, event.message) for event in self.notifications]
            raise AssertionError(
                f"no {notification_type or 'any'} notification {message!r}; notifications were {shown!r}"
            )

    def clear(self) -> None:
        self.status_calls.clear()
        self.state_changes.clear()
        self.notifications.clear()


def _matches(path: str, function: str) -> bool:
    return path == function or path.rsplit(".", 1)[-1] == function


def _apply_task(record_id: uuid.UUID, message: list[Any]) -> None:
    from .tasks import run_long_callback

    # throw=False: a failing user function becomes a failed record, as on a worker.
    run_long_callback.apply(args=tuple(message), task_id=str(record_id), throw=False)


@contextmanager
def run_synchronously() -> Iterator[None]:
    """Run every long callback invoked inside the block at once, in this thread.

    The final status is delivered before ``invoke_long_callback`` returns. Periodic statuses
    run in a helper thread with its own database connection, so they reach a test only with
    ``django_db(transaction=True)``.
    """
    from . import invoke

    previous = invoke.synchronous_runner
    invoke.synchronous_runner = _apply_task
    try:
        yield
    finally:
        invoke.synchronous_runner = previous
