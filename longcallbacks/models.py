"""Database records: per-user states, long callback runs, notifications and open connections."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_state_id() -> str:
    return uuid.uuid4().hex


class StoredState(models.Model):
    """The persisted variables of one user's state, with a version bumped by every change."""

    class Scope(models.TextChoices):
        SESSION = "session", _("session")
        USER = "user", _("user")

    id = models.CharField(primary_key=True, max_length=32, default=new_state_id, editable=False)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.SESSION)
    session_key = models.CharField(max_length=40, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="longcallbacks_states",
    )
    data = models.JSONField(default=dict, blank=True)
    version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("state")
        verbose_name_plural = _("states")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(scope="user"),
                name="longcallbacks_state_one_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["updated_at"], name="lc_state_updated_idx"),
            models.Index(fields=["session_key"], name="lc_state_session_idx"),
        ]

    def __str__(self) -> str:
        return self.id


class LongCallback(models.Model):
    """One run of ``invoke_long_callback``: written at invoke time, then moved by Celery signals."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")
        LOST = "lost", _("lost")

    FINAL_STATUSES = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.LOST})
    ACTIVE_STATUSES = frozenset({Status.QUEUED, Status.RUNNING})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state = models.ForeignKey(StoredState, on_delete=models.CASCADE, related_name="long_callbacks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="longcallbacks_runs",
    )
    function = models.CharField(_("function"), max_length=255)
    args = models.JSONField(default=list, blank=True)
    status_function = models.CharField(max_length=255, blank=True, default="")
    status_args = models.JSONField(default=list, blank=True)
    period = models.PositiveIntegerField(_("period (ms)"), default=0)
    # The registered action that started the run, if any, so that its buttons can be disabled
    # while the run is queued or running.
    action = models.CharField(_("action"), max_length=100, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    task_id = models.CharField(_("Celery task id"), max_length=255, blank=True, default="")
    worker = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error_type = models.CharField(max_length=255, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    # Progress is reported by user functions; the fields exist from the start so that the
    # admin and the consumer can rely on them.
    progress_current = models.BigIntegerField(null=True, blank=True)
    progress_total = models.BigIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=500, blank=True, default="")
    progress_updated_at = models.DateTimeField(null=True, blank=True)
    # The last periodic count delivered to the status function, so a count is never repeated.
    last_periodic_count = models.IntegerField(null=True, blank=True)
    # Written every few seconds by the worker running the function; a stale heartbeat on a
    # running record means its worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When the task message was last sent to the broker, and how many times. A broker that
    # restarts without persistence loses queued messages; the checker sends them again.
    published_at = models.DateTimeField(null=True, blank=True)
    publish_count = models.PositiveSmallIntegerField(default=0)
    # When the user was notified that the run is still waiting for a worker.
    waiting_notified_at = models.DateTimeField(null=True, blank=True)
    # An outcome reported after the record was already final, such as a worker declared lost
    # that finished later. It is kept for the admin and never delivered to the status function.
    late_outcome = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("long callback")
        verbose_name_plural = _("long callbacks")
        ordering = ["-created_at"]
        permissions = [
            ("cancel_longcallback", _("Can cancel long callbacks")),
            ("rerun_longcallback", _("Can run long callbacks again")),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="lc_run_status_idx"),
            models.Index(fields=["function", "created_at"], name="lc_run_function_idx"),
            models.Index(fields=["user", "created_at"], name="lc_run_user_idx"),
            models.Index(fields=["state", "status"], name="lc_run_state_status_idx"),
            models.Index(fields=["created_at"], name="lc_run_created_idx"),
            models.Index(fields=["finished_at"], name="lc_run_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.function} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES


class Notification(models.Model):
    """A toast for one state, kept until a tab has shown it or the retention time has passed."""

    class Type(models.TextChoices):
        INFO = "info", _("info")
        SUCCESS = "success", _("success")
        WARNING = "warning", _("warning")
        ERROR = "error", _("error")

    state = models.ForeignKey(StoredState, on_delete=models.CASCADE, related_name="notifications")
    notification_id = models.CharField(max_length=64)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.INFO)
    message = models.TextField(blank=True, default="")
    system_notification = models.BooleanField(null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The state's version when the notification was stored. A tab that resumes from an older
    # version is sent the notifications it may have missed, even if another tab got them.
    state_version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["state", "notification_id"], name="longcallbacks_notification_unique_id"),
        ]
        indexes = [
            models.Index(fields=["state", "delivered_at"], name="lc_notif_state_deliv_idx"),
            models.Index(fields=["created_at"], name="lc_notif_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type}: {self.message[:50]}"


class Connection(models.Model):
    """An open websocket of a state, refreshed by its consumer's heartbeat."""

    channel_name = models.CharField(primary_key=True, max_length=255)
    state = models.ForeignKey(StoredState, on_delete=models.CASCADE, related_name="connections")
    connected_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        indexes = [models.Index(fields=["last_seen_at"], name="lc_conn_seen_idx")]

    def __str__(self) -> str:
        return self.channel_name
