"""Helpers that turn environment variables into Django settings values."""

import math
import os
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE_WORDS = {"1", "true", "yes", "on"}
_FALSE_WORDS = {"0", "false", "no", "off", ""}

# Passed to SQLite connections. BEGIN IMMEDIATE takes the write lock when a transaction
# starts, so concurrent writers (web process and Celery workers) wait up to `timeout`
# seconds for the lock instead of failing with "database is locked" in mid-transaction.
SQLITE_OPTIONS = {"transaction_mode": "IMMEDIATE", "timeout": 20}


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable, raising ImproperlyConfigured on other values."""
    raw = os.environ.get(name)
    if raw is None:
        return default

    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"Invalid value {raw!r} for {name}: expected one of 1, true, yes, on, 0, false, no, off."
    )


def env_float(name: str, default: float, minimum: float | None = None) -> float:
    """Read a decimal number, raising ImproperlyConfigured when it is invalid or below ``minimum``."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"Invalid value {raw!r} for {name}: expected a number such as 0.1.") from None
    if math.isnan(value) or (minimum is not None and value < minimum):
        raise ImproperlyConfigured(f"Invalid value {raw!r} for {name}: expected a number of at least {minimum}.")
    return value


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    """Read a whole number, raising ImproperlyConfigured when it is invalid or below ``minimum``."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"Invalid value {raw!r} for {name}: expected a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"Invalid value {raw!r} for {name}: expected a whole number of at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated environment variable, dropping empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_database_url(url: str, base_dir: Path) -> dict:
    """Convert a postgres:// or sqlite:// URL to an entry of Django's DATABASES.

    PostgreSQL: ``postgres://user:password@host:port/name?sslmode=require``. Query
    parameters become OPTIONS, and an empty host means the local Unix socket.

    SQLite: ``sqlite:///relative/path.sqlite3`` is relative to ``base_dir``,
    ``sqlite:////absolute/path.sqlite3`` is absolute, and ``sqlite://`` or
    ``sqlite://:memory:`` is an in-memory database.
    """
    parts = urlsplit(url)

    if parts.scheme in ("postgres", "postgresql"):
        return _postgres_settings(parts)
    if parts.scheme == "sqlite":
        return _sqlite_settings(parts, base_dir)
    raise ImproperlyConfigured(
        f"Unsupported DATABASE_URL scheme {parts.scheme!r}: use postgres://, postgresql:// or sqlite://."
    )


def _postgres_settings(parts: SplitResult) -> dict:
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL is missing the database name, as in postgres://host:5432/NAME.")

    try:
        port = parts.port
    except ValueError as error:
        raise ImproperlyConfigured(f"Invalid port in DATABASE_URL: {error}.") from error

    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
    }


def _sqlite_settings(parts: SplitResult, base_dir: Path) -> dict:
    # urlsplit puts ":memory:" in netloc and a file path in path, with one leading slash
    # that separates it from the empty host.
    if parts.netloc not in ("", ":memory:"):
        raise ImproperlyConfigured(
            f"Invalid SQLite DATABASE_URL: it names a host {parts.netloc!r}. Use sqlite:///path or sqlite:////absolute/path."
        )
    if parts.netloc == ":memory:" or parts.path in ("", "/"):
        name = ":memory:"
    else:
        path = Path(unquote(parts.path[1:]))
        name = str(path if path.is_absolute() else base_dir / path)

    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": dict(SQLITE_OPTIONS),
    }
