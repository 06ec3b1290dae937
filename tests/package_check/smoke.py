"""Run inside a fresh virtual environment that has only the built wheel installed.

It configures a throwaway project in a temporary folder and checks what a user of the wheel
relies on: migrations, templates, template tags, static files, the pytest plugin entry point
and a long callback run synchronously.
"""

from __future__ import annotations

import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path

folder = Path(tempfile.mkdtemp())
app = folder / "smokeapp"
app.mkdir()
(app / "__init__.py").write_text("")
(app / "callbacks.py").write_text(
    "from longcallbacks import StateVariables\n"
    "class SmokeVariables(StateVariables):\n"
    "    answer: int = 0\n"
    "def compute(a, b):\n"
    "    return a * b\n"
    "def store(state, status, result):\n"
    "    if status is True:\n"
    "        state.answer = result\n"
)
sys.path.insert(0, str(folder))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    SECRET_KEY="smoke",
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.staticfiles",
        "channels",
        "django_celery_results",
        "longcallbacks",
        "smokeapp",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(folder / "db.sqlite3")}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
    STATIC_URL="/static/",
    CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
    CELERY_BROKER_URL="memory://",
    USE_TZ=True,
)
django.setup()

from django.contrib.staticfiles import finders  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.template import engines  # noqa: E402

import longcallbacks  # noqa: E402

call_command("migrate", verbosity=0)
assert Path(longcallbacks.__file__).parent.joinpath("py.typed").exists(), "py.typed missing"
assert finders.find("longcallbacks/client.js"), "static file longcallbacks/client.js missing"
assert finders.find("longcallbacks/client.css"), "static file longcallbacks/client.css missing"

rendered = engines["django"].from_string("{% load longcallbacks %}{% longcallbacks_client %}").render({})
assert "longcallbacks/client.js" in rendered, rendered

plugins = [entry.value for entry in entry_points(group="pytest11")]
assert "longcallbacks.pytest_plugin" in plugins, plugins

from celery import Celery  # noqa: E402

Celery("smoke").config_from_object("django.conf:settings", namespace="CELERY")

from longcallbacks import State, invoke_long_callback  # noqa: E402
from longcallbacks.models import StoredState  # noqa: E402
from longcallbacks.testing import run_synchronously  # noqa: E402
from smokeapp import callbacks  # noqa: E402

state = State(StoredState.objects.create().id)
with run_synchronously():
    record = invoke_long_callback(state, callbacks.compute, [6, 7], callbacks.store).record()
assert record.status == "succeeded", (record.status, record.error_message)
assert State(record.state_id).answer == 42
print("wheel smoke test passed:", Path(longcallbacks.__file__).parent)
