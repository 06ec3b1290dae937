"""A private Redis with its own workers and beat, for tests that restart Redis.

The shared Redis of the machine is never restarted: each test that needs a Redis restart
starts a redis-server of its own on a free loopback port and stops it by pid.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from tests.conftest import ROOT, WorkerProcess, worker_environment
from tests.live import free_port


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; install it to run this test.")
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--dir", str(self.folder)]  # fmt: skip
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer PING within 10 s.")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)

    def restart(self, down_seconds: float = 1.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


class PrivateStack:
    """A private Redis, ``workers`` worker processes and an optional beat, all by pid."""

    def __init__(self, name: str, overrides: dict[str, Any], workers: int = 2, beat: bool = True) -> None:
        self.folder = Path(settings.OUTPUT_DIR) / name
        self.redis = RedisServer(self.folder)
        self.overrides = overrides
        self.worker_count = workers
        self.with_beat = beat
        self.workers: list[WorkerProcess] = []
        self.beat: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        environment = worker_environment()
        environment["REDIS_URL"] = self.redis.url
        environment["LONGCALLBACKS_TEST_OVERRIDES"] = json.dumps({**settings.LONGCALLBACKS, **self.overrides})
        return environment

    def start(self) -> None:
        self.redis.start()
        for index in range(self.worker_count):
            worker = WorkerProcess(f"{settings.TEST_PREFIX}-private{index}", self.folder / f"worker-{index}.log")
            worker.start(self.environment())
            self.workers.append(worker)
        if self.with_beat:
            log = (self.folder / "beat.log").open("wb")
            command = [sys.executable, "-m", "celery", "-A", "tests.celery_app", "beat",
                       "-s", str(self.folder / "beat-schedule"), "--loglevel=INFO"]  # fmt: skip
            self.beat = subprocess.Popen(
                command, cwd=ROOT, env=self.environment(), stdout=log, stderr=subprocess.STDOUT
            )
            log.close()

    def run_driver(self, *arguments: object) -> dict[str, list[str]]:
        output = subprocess.run(
            [sys.executable, "-m", "tests.driver", *map(str, arguments)],
            cwd=ROOT,
            env=self.environment(),
            capture_output=True,
            check=True,
            timeout=300,
        )
        runs: dict[str, list[str]] = json.loads(output.stdout.decode().strip().splitlines()[-1])
        return runs

    def stop(self) -> None:
        if self.beat is not None and self.beat.poll() is None:
            self.beat.terminate()
            self.beat.wait(timeout=20)
        for worker in self.workers:
            worker.stop()
        self.redis.stop()


def worker_logs(stack: PrivateStack) -> str:
    return "\n".join(worker.log_text() for worker in stack.workers)
