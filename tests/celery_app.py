"""The Celery app of the test suite's worker processes (``celery -A tests.celery_app``)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

app = Celery("tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Current app for every thread, not only the one that imported this module: daphne runs sync
# views and actions in worker threads, whose tasks would otherwise go to Celery's fallback app.
app.set_default()
