"""Settings for the demo project, read from environment variables.

For local development only: the defaults turn DEBUG on and use a public secret key.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from demo_project.env import (
    SQLITE_OPTIONS,
    env_bool,
    env_float,
    env_int,
    env_list,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# This default is public, so set DJANGO_SECRET_KEY anywhere but on your own machine.
# `manage.py check --deploy` flags it (security.W009) by its "django-insecure-" prefix.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY",
    "django-insecure-demo-only-do-not-use-this-key-outside-local-development",
)
DEBUG = env_bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    # daphne comes first so that its runserver command, which serves ASGI, replaces
    # the one from django.contrib.staticfiles.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_celery_results",
    "django_celery_beat",
    "longcallbacks",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "demo.context_processors.demo_mode",
            ],
        },
    },
]

ASGI_APPLICATION = "demo_project.asgi.application"

if "DATABASE_URL" in os.environ:
    DATABASES = {"default": parse_database_url(os.environ["DATABASE_URL"], BASE_DIR)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "demo.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Uploads for the CSV analysis. A Celery worker in another process opens them by name
# through the default storage, so this folder must be shared with the workers.
MEDIA_ROOT = Path(os.environ.get("DEMO_MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"
# Target of `manage.py collectstatic`. With DEBUG on, daphne's runserver serves static
# files from the apps directly.
STATIC_ROOT = BASE_DIR / "staticfiles"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# "distributed": Redis is the Celery broker and the channel layer, and the worker, beat and
# daphne are separate processes. "embedded": one process runs them all with an in-memory
# broker and channel layer (see longcallbacks.embedded). `make demo` picks the mode by
# checking whether Redis answers at REDIS_URL.
DEMO_MODE = os.environ.get("DEMO_MODE", "distributed")
if DEMO_MODE not in ("distributed", "embedded"):
    raise ImproperlyConfigured(f"Invalid DEMO_MODE {DEMO_MODE!r}: use 'distributed' or 'embedded'.")

# Factor applied to every sleep of the demo's example tasks; tests run with 0.1.
DEMO_TIME_SCALE = env_float("DEMO_TIME_SCALE", default=1.0, minimum=0.0)
# Largest CSV file the analysis page accepts, in bytes.
DEMO_ANALYSIS_MAX_BYTES = env_int("DEMO_ANALYSIS_MAX_BYTES", default=200 * 1024 * 1024, minimum=1)

# Celery reads every setting below through the CELERY_ namespace (demo_project/celery.py).
CELERY_BROKER_URL = "memory://" if DEMO_MODE == "embedded" else REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A queue name of its own lets several demos (or test runs) share one Redis server.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("DEMO_CELERY_QUEUE", "celery")
# Task results and their metadata go to django_celery_results' table, so the admin
# shows them.
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
# JSON only, so that a message from the broker cannot carry a pickled object.
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

if DEMO_MODE == "embedded":
    CHANNEL_LAYERS = {"default": {"BACKEND": "longcallbacks.embedded.EmbeddedChannelLayer"}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8's default socket_timeout of 5 s would end the blocking receive
                # of every idle consumer, closing its websocket.
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "prefix": os.environ.get("DEMO_CHANNEL_PREFIX", "asgi"),
            },
        },
    }

# Adds console output for the longcallbacks loggers at INFO and above, with the process
# id because web and worker processes log the same callbacks. Django's default logging
# stays in place, and no root handler is added, since "django" loggers propagate to the
# root and every line would print twice.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "console": {
            "format": "{asctime} {levelname} {name} pid={process:d} {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "console"},
    },
    "loggers": {
        "longcallbacks": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Options of the longcallbacks app. Empty, so every option keeps its default.
LONGCALLBACKS: dict = {
    # A hard time limit below the Redis visibility timeout (3600 s), as check W009 requires.
    "TIME_LIMIT": 1800,
    # Uploads of the analysis page that no run deleted (cancelled or expired before it
    # started) are pruned a day after they were stored.
    "UPLOAD_DIRECTORIES": ["analysis"],
}
