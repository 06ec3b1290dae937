from __future__ import annotations

from django.urls import path

from . import analysis_views, views

app_name = "demo"

urlpatterns = [
    path("", views.index, name="index"),
    path("examples/<slug:slug>/", views.example, name="example"),
    path("analysis/", analysis_views.analysis_page, name="analysis"),
    path("analysis/start/", analysis_views.start_analysis, name="analysis-start"),
]
