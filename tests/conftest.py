"""Fixtures that start real services for integration tests: a Celery worker on Redis.

Integration tests (marked ``integration``) need Redis at REDIS_URL. Without it they are
skipped with one line saying why, except under CI=true, where a missing Redis fails the run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def redis_problem() -> str | None:
    """Return why Redis cannot be used, or None when it answers PING."""
    url = urlparse(settings.REDIS_URL)
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    try:
        with socket.create_connection((host, port), timeout=2) as connection:
            connection.sendall(b"PING\r\n")
            reply = connection.recv(64)
    except OSError as exc:
        return f"Redis at {host}:{port} is not reachable ({exc}); start redis-server or set REDIS_URL"
    if not reply.startswith(b"+PONG"):
        return f"Redis at {host}:{port} answered {reply!r} to PING"
    return None


def pytest_report_header(config: pytest.Config) -> str:
    problem = redis_problem()
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if problem:
        return f"longcallbacks: database {database}; integration tests skipped: {problem}"
    return f"longcallbacks: database {database}; Redis at {settings.REDIS_URL}; prefix {settings.TEST_PREFIX}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("integration") for item in items):
        return
    problem = redis_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"CI=true and {problem}.")
    skip = pytest.mark.skip(reason=f"integration tests need Redis: {problem}")
    for item in items:
        if item.get_closest_marker("integration"):
            item.add_marker(skip)


class WorkerProcess:
    """A ``celery worker`` subprocess of the test suite, started and stopped by pid."""

    def __init__(self, name: str, log_path: Path, concurrency: int = 2, queue: str | None = None) -> None:
        self.name = name
        self.log_path = log_path
        self.concurrency = concurrency
        self.queue = queue or settings.CELERY_TASK_DEFAULT_QUEUE
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, environment: dict[str, str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        command = [
            sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker",
            "--pool=prefork", f"--concurrency={self.concurrency}",
            "-Q", self.queue,
            "-n", f"{self.name}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel=INFO",
        ]  # fmt: skip
        # A session of its own, so a test can SIGKILL the worker with its pool children.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._wait_ready(timeout=60)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited with {self.process.returncode}:\n{self.log_text()}")
            if b" ready." in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"Celery worker not ready after {timeout} s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill_all(self) -> None:
        """SIGKILL the worker's main process and its pool children, as a crashed machine would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def worker_environment() -> dict[str, str]:
    from django.db import connection

    environment = dict(os.environ)
    environment.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        LONGCALLBACKS_TEST_DB_NAME=str(connection.settings_dict["NAME"]),
        LONGCALLBACKS_TEST_PREFIX=settings.TEST_PREFIX,
        REDIS_URL=settings.REDIS_URL,
        PYTHONPATH=str(ROOT),
    )
    return environment


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[WorkerProcess]:
    """A prefork worker with two pool processes, sharing the test database."""
    output = Path(settings.OUTPUT_DIR)
    worker = WorkerProcess(f"{settings.TEST_PREFIX}-1", output / "worker-1.log")
    _purge_queue()
    with django_db_blocker.unblock():
        worker.start(worker_environment())
    yield worker
    worker.stop()


def _purge_queue() -> None:
    """Drop messages a crashed earlier run left in this run's queue (the names are per run)."""
    from tests.celery_app import app

    with app.connection_for_write() as connection:
        try:
            connection.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
        except Exception as exc:  # a queue that does not exist yet has nothing to purge
            print(f"queue purge skipped: {exc}")
