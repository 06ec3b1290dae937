"""Admin views of long callback runs, states and notifications.

Everything is read-only. Staff with the custom permissions can cancel runs and run them
again. The changelist stays fast on millions of rows: no full count, related rows joined in
the same query, filters on indexed columns, and live progress fetched for visible rows only.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import LongCallback, Notification, StoredState

Status = LongCallback.Status

# Rows counted exactly before the changelist shows "more than N" instead of a total.
COUNT_LIMIT = 10_000

BADGE_COLORS: dict[str, str] = {
    Status.QUEUED: "#6c757d",
    Status.RUNNING: "#0d6efd",
    Status.SUCCEEDED: "#198754",
    Status.FAILED: "#dc3545",
    Status.CANCELLED: "#fd7e14",
    Status.LOST: "#6f42c1",
}


class BoundedCountPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator that never counts a whole large table.

    It counts at most COUNT_LIMIT + 1 rows, so a changelist over a million rows costs one
    bounded query. Past the limit, the pages after COUNT_LIMIT / per_page are not linked.
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        return queryset.order_by()[: COUNT_LIMIT + 1].count()


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Records are written by the app; the admin shows them and never edits them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def format_time(moment: datetime.datetime | None) -> str:
    """Return the local time (today) or date and time, with the full timestamp as a tooltip."""
    if moment is None:
        return "-"
    local = timezone.localtime(moment)
    shown = local.strftime("%H:%M:%S") if local.date() == timezone.localdate() else local.strftime("%b %d %H:%M")
    return format_html('<span title="{}">{}</span>', local.isoformat(timespec="seconds"), shown)


def format_duration(start: datetime.datetime | None, end: datetime.datetime | None) -> str:
    if start is None:
        return "-"
    seconds = int(((end or timezone.now()) - start).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


@admin.register(LongCallback)
class LongCallbackAdmin(ReadOnlyAdmin):
    list_display = (
        "short_id",
        "status_badge",
        "function_name",
        "user",
        "state_link",
        "progress_bar",
        "created",
        "started",
        "duration",
        "worker",
    )
    list_filter = ("status", "function", "created_at")
    search_fields = ("=id", "=task_id", "function", "user__username", "=state__id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    list_per_page = 50
    show_full_result_count = False
    paginator = BoundedCountPaginator
    actions = ["cancel_selected", "run_again"]
    readonly_fields = [
        "id",
        "status_badge",
        "function",
        "arguments",
        "status_function",
        "status_arguments",
        "period",
        "user",
        "state_link",
        "worker",
        "task_result_link",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "progress_bar",
        "result_json",
        "error_type",
        "error_message",
        "traceback",
        "late_outcome_json",
        "timeline",
    ]
    fieldsets = [
        (None, {"fields": ["id", "status_badge", "function", "arguments", "user", "state_link"]}),
        (_("Status function"), {"fields": ["status_function", "status_arguments", "period"]}),
        (
            _("Execution"),
            {
                "fields": [
                    "worker",
                    "task_result_link",
                    "created_at",
                    "started_at",
                    "finished_at",
                    "duration",
                    "progress_bar",
                ]
            },
        ),
        (_("Outcome"), {"fields": ["result_json", "error_type", "error_message", "traceback", "late_outcome_json"]}),
        (_("Timeline"), {"fields": ["timeline"]}),
    ]

    class Media:
        js = ["longcallbacks/admin/live-progress.js"]
        css = {"all": ["longcallbacks/admin/admin.css"]}

    # Columns.

    @admin.display(description=_("id"), ordering="id")
    def short_id(self, record: LongCallback) -> str:
        return str(record.id)[:8]

    @admin.display(description=_("function"), ordering="function")
    def function_name(self, record: LongCallback) -> str:
        """Show the function's name, with its module on a second, quieter line, to keep the column narrow."""
        module, _dot, name = record.function.rpartition(".")
        return format_html(
            '<span class="lc-function" title="{}">{}<small>{}</small></span>', record.function, name, module
        )

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, record: LongCallback) -> str:
        return format_time(record.created_at)

    @admin.display(description=_("started"), ordering="started_at")
    def started(self, record: LongCallback) -> str:
        return format_time(record.started_at)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, record: LongCallback) -> str:
        return format_html(
            '<span class="lc-badge" data-lc-status="{}" style="background:{}">{}</span>',
            record.status,
            BADGE_COLORS.get(record.status, "#6c757d"),
            record.get_status_display(),
        )

    @admin.display(description=_("state"))
    def state_link(self, record: LongCallback) -> str:
        url = reverse("admin:longcallbacks_storedstate_change", args=[record.state_id])
        return format_html('<a href="{}">{}</a>', url, record.state_id[:8])

    @admin.display(description=_("progress"))
    def progress_bar(self, record: LongCallback) -> str:
        current, total = record.progress_current, record.progress_total
        if current is not None and total:
            percent = int(100 * current / total)
            label = f"{percent}%"
            title = f"{current:,} of {total:,}"
        else:
            percent = 100 if record.status == Status.SUCCEEDED else 0
            label = "" if current is None else f"{current:,}"
            title = label
        return format_html(
            '<div class="lc-progress" data-lc-record="{}" data-lc-active="{}" title="{}">'
            '<div class="lc-progress-track"><div class="lc-progress-bar" style="width:{}%"></div></div>'
            '<span class="lc-progress-label">{} {}</span></div>',
            record.id,
            "1" if record.status in LongCallback.ACTIVE_STATUSES else "0",
            title,
            percent,
            label,
            record.progress_message,
        )

    @admin.display(description=_("duration"))
    def duration(self, record: LongCallback) -> str:
        return format_duration(record.started_at, record.finished_at)

    # Detail fields.

    def _json(self, value: Any) -> str:
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))

    @admin.display(description=_("arguments"))
    def arguments(self, record: LongCallback) -> str:
        return self._json(record.args)

    @admin.display(description=_("status arguments"))
    def status_arguments(self, record: LongCallback) -> str:
        return self._json(record.status_args)

    @admin.display(description=_("result"))
    def result_json(self, record: LongCallback) -> str:
        return self._json(record.result)

    @admin.display(description=_("late outcome"))
    def late_outcome_json(self, record: LongCallback) -> str:
        return self._json(record.late_outcome) if record.late_outcome else "-"

    @admin.display(description=_("Celery task result"))
    def task_result_link(self, record: LongCallback) -> str:
        from django_celery_results.models import TaskResult

        task_result = TaskResult.objects.filter(task_id=record.task_id or str(record.id)).only("pk", "status").first()
        if task_result is None:
            return "-"
        url = reverse("admin:django_celery_results_taskresult_change", args=[task_result.pk])
        return format_html('<a href="{}">{} ({})</a>', url, record.task_id, task_result.status)

    @admin.display(description=_("timeline"))
    def timeline(self, record: LongCallback) -> str:
        rows = timeline_events(record)
        return format_html(
            '<table class="lc-timeline"><tbody>{}</tbody></table>',
            format_html_join_rows(rows),
        )

    # Actions.

    @admin.action(description=_("Cancel selected long callbacks"), permissions=["cancel"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[LongCallback]) -> None:
        from .progress import cancel_long_callback
        from .state import State

        cancelled = 0
        active = queryset.select_related(None).filter(status__in=LongCallback.ACTIVE_STATUSES).only("id", "state_id")
        for record in active:
            if cancel_long_callback(State(record.state_id), record.id):
                cancelled += 1
        self.message_user(
            request,
            ngettext("Cancelled %d long callback.", "Cancelled %d long callbacks.", cancelled) % cancelled,
            messages.SUCCESS if cancelled else messages.WARNING,
        )

    @admin.action(description=_("Run selected long callbacks again for the same state"), permissions=["rerun"])
    def run_again(self, request: HttpRequest, queryset: QuerySet[LongCallback]) -> None:
        from .exceptions import LongCallbackError
        from .functions import resolve_function
        from .invoke import invoke_long_callback
        from .state import State

        started = 0
        for record in queryset:
            try:
                function = resolve_function(record.function, "user function")
                status_function = (
                    resolve_function(record.status_function, "status function") if record.status_function else None
                )
                invoke_long_callback(
                    State(record.state_id), function, record.args, status_function, record.status_args, record.period
                )
            except (LongCallbackError, ValueError, TypeError) as exc:
                self.message_user(request, f"{record.id}: {exc}", messages.ERROR)
                continue
            started += 1
        if started:
            self.message_user(
                request, ngettext("Started %d long callback.", "Started %d long callbacks.", started) % started
            )

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("longcallbacks.cancel_longcallback"))

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("longcallbacks.rerun_longcallback"))

    # Live progress.

    def get_urls(self) -> list[URLPattern]:
        live = path(
            "progress/", self.admin_site.admin_view(self.progress_view), name="longcallbacks_longcallback_progress"
        )
        return [live, *super().get_urls()]

    def progress_view(self, request: HttpRequest) -> JsonResponse:
        """Return status and progress of up to 200 visible rows, for the changelist's polling."""
        if not self.has_view_permission(request):
            return JsonResponse({"error": "permission denied"}, status=403)
        ids = [value for value in request.GET.get("ids", "").split(",") if value][:200]
        try:
            records = LongCallback.objects.filter(pk__in=ids).only(
                "id", "status", "progress_current", "progress_total", "progress_message", "started_at", "finished_at"
            )
            rows = {
                str(record.id): {
                    "status": record.status,
                    "status_label": str(record.get_status_display()),
                    "color": BADGE_COLORS.get(record.status, "#6c757d"),
                    "progress_current": record.progress_current,
                    "progress_total": record.progress_total,
                    "progress_message": record.progress_message,
                    "duration": format_duration(record.started_at, record.finished_at),
                    "active": record.status in LongCallback.ACTIVE_STATUSES,
                }
                for record in records
            }
        except ValidationError:
            return JsonResponse({"error": "ids must be comma-separated long callback ids"}, status=400)
        return JsonResponse({"records": rows})


def timeline_events(record: LongCallback) -> list[tuple[datetime.datetime, str]]:
    """Return the run's known moments and the state's notifications while it ran, by time."""
    events: list[tuple[datetime.datetime, str]] = [(record.created_at, str(_("queued")))]
    if record.published_at:
        events.append((record.published_at, f"{_('task sent to the broker')} ({record.publish_count}x)"))
    if record.waiting_notified_at:
        events.append((record.waiting_notified_at, str(_("user told the run waits for a worker"))))
    if record.started_at:
        events.append((record.started_at, f"{_('started on')} {record.worker}"))
    if record.progress_updated_at:
        events.append(
            (
                record.progress_updated_at,
                f"{_('last progress')}: {record.progress_current}/{record.progress_total} {record.progress_message}",
            )
        )
    if record.last_periodic_count is not None and record.heartbeat_at:
        events.append(
            (record.heartbeat_at, f"{_('last heartbeat; periodic status count')} {record.last_periodic_count}")
        )
    if record.finished_at:
        events.append((record.finished_at, f"{_('ended')} {record.get_status_display()}"))
    if record.late_outcome:
        reported = datetime.datetime.fromisoformat(record.late_outcome["reported_at"])
        events.append((reported, f"{_('late outcome ignored')}: {record.late_outcome['status']}"))

    window_end = (record.finished_at or timezone.now()) + datetime.timedelta(seconds=5)
    notifications = Notification.objects.filter(
        state_id=record.state_id, created_at__gte=record.created_at, created_at__lte=window_end
    ).only("created_at", "type", "message")[:50]
    for notification in notifications:
        events.append((notification.created_at, f"{_('notification')} [{notification.type}] {notification.message}"))
    return sorted(events, key=lambda event: event[0])


def format_html_join_rows(rows: list[tuple[datetime.datetime, str]]) -> str:
    from django.utils.html import format_html_join

    return format_html_join(
        "", "<tr><td>{}</td><td>{}</td></tr>", ((when.isoformat(timespec="milliseconds"), text) for when, text in rows)
    )


@admin.register(StoredState)
class StoredStateAdmin(ReadOnlyAdmin):
    list_display = ("id", "scope", "user", "version", "created_at", "updated_at")
    list_filter = ("scope",)
    search_fields = ("=id", "user__username", "=session_key")
    list_select_related = ("user",)
    show_full_result_count = False
    paginator = BoundedCountPaginator
    readonly_fields = [field.name for field in StoredState._meta.fields]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("notification_id", "type", "message", "state", "created_at", "delivered_at", "closed_at")
    list_filter = ("type",)
    search_fields = ("=notification_id", "=state__id", "message")
    show_full_result_count = False
    paginator = BoundedCountPaginator
    readonly_fields = [field.name for field in Notification._meta.fields]
