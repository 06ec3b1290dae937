from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import LongCallback, Notification, StoredState


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Records are written by the app; the admin shows them and never edits them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LongCallback)
class LongCallbackAdmin(ReadOnlyAdmin):
    list_display = ("id", "function", "status", "user", "state", "created_at", "started_at", "finished_at", "worker")
    list_filter = ("status", "function", "created_at")
    search_fields = ("=id", "function", "user__username", "=state__id")
    date_hierarchy = "created_at"
    list_select_related = ("user", "state")
    show_full_result_count = False
    readonly_fields = [field.name for field in LongCallback._meta.fields]


@admin.register(StoredState)
class StoredStateAdmin(ReadOnlyAdmin):
    list_display = ("id", "scope", "user", "version", "created_at", "updated_at")
    list_filter = ("scope",)
    search_fields = ("=id", "user__username", "=session_key")
    list_select_related = ("user",)
    readonly_fields = [field.name for field in StoredState._meta.fields]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("notification_id", "type", "message", "state", "created_at", "delivered_at", "closed_at")
    list_filter = ("type",)
    search_fields = ("=notification_id", "=state__id", "message")
    readonly_fields = [field.name for field in Notification._meta.fields]
