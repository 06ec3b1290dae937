"""A daphne server for end-to-end tests and the benchmark, plus a small websocket tab client.

Daphne runs ``tests.asgi:application`` as a subprocess on a free loopback port with the test
settings, sharing the test database and Redis with the Celery worker fixture. Processes are
stopped by the pid this module started.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import ROOT, WorkerProcess, worker_environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DaphneProcess:
    """``daphne tests.asgi:application`` on 127.0.0.1, started and stopped by pid."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/longcallbacks/"

    def start(self, environment: dict[str, str], timeout: float = 30) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "tests.asgi:application"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        log.close()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"daphne not listening on port {self.port} after {timeout} s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def session_cookie(self, path: str = "/live/") -> str:
        """GET a page that calls get_state() and return its ``sessionid=...`` cookie."""
        with urllib.request.urlopen(f"{self.base_url}{path}", timeout=10) as response:
            cookie = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie.load(header)
        return f"sessionid={cookie['sessionid'].value}"


@pytest.fixture(scope="session")
def daphne_server(celery_worker: WorkerProcess, django_db_blocker: Any) -> Iterator[DaphneProcess]:
    """Daphne serving the test project; depends on the worker so the test database exists."""
    server = DaphneProcess(Path(settings.OUTPUT_DIR) / "daphne.log")
    with django_db_blocker.unblock():
        server.start(worker_environment())
    yield server
    server.stop()


class Tab:
    """One browser tab's websocket, as the JavaScript client uses it."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, server: DaphneProcess, cookie: str) -> Tab:
        connection = await connect(server.socket_url, origin=server.base_url, additional_headers={"Cookie": cookie})  # type: ignore[arg-type]
        return cls(connection)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(frame))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        self.frames.append(frame)
        if frame["type"] == "notification":
            await self.send({"type": "ack", "notifications": [frame["notification"]["id"]]})
        elif frame["type"] == "snapshot" and frame["notifications"]:
            await self.send({"type": "ack", "notifications": [item["id"] for item in frame["notifications"]]})
        return frame

    async def receive_until(self, done: Any, timeout: float = 20) -> list[dict[str, Any]]:
        """Receive frames until ``done(frame)`` is true; return the frames received meanwhile."""
        start = len(self.frames)
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.receive(max(0.01, deadline - time.monotonic()))
            if done(frame):
                return self.frames[start:]

    async def receive_for(self, seconds: float) -> list[dict[str, Any]]:
        """Receive whatever arrives within ``seconds``."""
        start = len(self.frames)
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                await self.receive(remaining)
            except TimeoutError:
                break
        return self.frames[start:]

    async def close(self) -> None:
        await self.connection.close()
