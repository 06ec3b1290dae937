"""Settings for the test suite, shared by pytest and the Celery worker processes it starts.

Environment variables:
- DATABASE_URL: a postgres:// URL to run against PostgreSQL; SQLite files otherwise.
- LONGCALLBACKS_TEST_DB_NAME: set by the test suite for worker processes, so they open the
  test database that pytest-django created rather than the configured name.
- REDIS_URL: the Redis server for the broker and the channel layer.
- LONGCALLBACKS_TEST_PREFIX: a per-run prefix isolating queues and channel-layer keys.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT_DIR = Path(os.environ.get("LONGCALLBACKS_TEST_OUTPUT", BASE_DIR / "test-output"))

# Per test run, and inherited by the worker processes it starts, so that concurrent runs on
# one machine use separate queues, channel-layer keys and test databases.
TEST_PREFIX = os.environ.setdefault("LONGCALLBACKS_TEST_PREFIX", f"lctest{os.getpid()}")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_celery_results",
    "longcallbacks",
    "tests",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STATIC_URL = "/static/"


def _database(url: str | None, test_name_override: str | None) -> dict[str, object]:
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("postgres", "postgresql"):
            raise ValueError(f"DATABASE_URL {url!r} is not supported by the test settings; use postgres://.")
        database: dict[str, object] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "test",
            "USER": unquote(parsed.username or "postgres"),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "127.0.0.1",
            "PORT": str(parsed.port or 5432),
            # 0 for the tests, which drop the test database at the end; the benchmark sets
            # DATABASE_CONN_MAX_AGE to keep connections open, as a production worker would.
            "CONN_MAX_AGE": int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
            "TEST": {"NAME": f"test_{TEST_PREFIX}"},
        }
    else:
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(OUTPUT_DIR / "tests.sqlite3"),
            # A file, not memory, so worker processes share it with the test process.
            "TEST": {"NAME": str(OUTPUT_DIR / f"test_{TEST_PREFIX}.sqlite3")},
            # WAL lets readers run beside the one writer, and synchronous=NORMAL skips an fsync per
            # commit; both are safe for a test database and cut commit latency several times.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if test_name_override:
        database["NAME"] = test_name_override
    return database


DATABASES = {"default": _database(os.environ.get("DATABASE_URL"), os.environ.get("LONGCALLBACKS_TEST_DB_NAME"))}


CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = f"{TEST_PREFIX}-queue"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 reads with a 5 s socket_timeout by default, which breaks the layer's
        # blocking receive of an idle consumer; None waits as long as the blocking pop does.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}], "prefix": f"{TEST_PREFIX}-layer"},
    }
}

LONGCALLBACKS: dict[str, object] = {
    "ON_EXCEPTION": "tests.callbacks.record_exception",
    # Short intervals, so that tests see a dead worker declared lost within seconds.
    "HEARTBEAT_INTERVAL": 0.5,
    "LOST_AFTER": 3,
    "CHECK_INTERVAL": 0.5,
    # Below the Redis broker's visibility timeout (3600 s), as check W009 requires.
    "TIME_LIMIT": 600,
}

# JSON merged into LONGCALLBACKS, for processes that a test starts with other settings.
LONGCALLBACKS.update(json.loads(os.environ.get("LONGCALLBACKS_TEST_OVERRIDES", "{}")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"longcallbacks": {"handlers": ["console"], "level": "INFO"}},
}
