"""Celery application of the demo project.

Start a worker from the project root with `celery -A demo_project worker -l INFO`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_project.settings")

app = Celery("demo_project")
# Every Celery setting lives in Django settings under the CELERY_ prefix,
# so CELERY_BROKER_URL sets broker_url.
app.config_from_object("django.conf:settings", namespace="CELERY")
# Registers the tasks in the tasks.py module of every installed app.
app.autodiscover_tasks()
# Current app for every thread, not only the one that imported this module: daphne runs sync
# views and actions in worker threads, whose tasks would otherwise go to Celery's fallback app.
app.set_default()
