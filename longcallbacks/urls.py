"""HTTP URLs of the app: the action and cancel views for pages without JavaScript."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "longcallbacks"

urlpatterns = [
    path("action/", views.action_view, name="action"),
    path("cancel/", views.cancel_view, name="cancel"),
]
