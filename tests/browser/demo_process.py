"""Start and stop the demo (``python -m demo_project.run``) as a subprocess for browser tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY_PATTERN = re.compile(r"demo: ready in (\w+) mode at (\S+)")
CHILD_PATTERN = re.compile(r"demo: started (\w+) \(pid (\d+)\)")
CREDENTIALS_PATTERN = re.compile(r"demo: admin user '([^']+)' with password '([^']+)'")
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DemoProcess:
    """One run of the demo launcher on a free loopback port, with its own database and names.

    The SQLite file, media folder, Celery queue and channel-layer prefix are unique to this
    run, so it shares a Redis server with other runs (and with a developer's demo) safely.
    """

    def __init__(
        self,
        work_dir: Path,
        log_path: Path,
        *,
        mode: str,
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        self.work_dir = work_dir
        self.log_path = log_path
        self.mode = mode
        self.port = free_port()
        self.name = f"browser-{uuid.uuid4().hex[:12]}"
        self.url = ""
        self.chosen_mode = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.environment = dict(os.environ)
        self.environment.update(
            DATABASE_URL=f"sqlite:///{work_dir / 'demo.sqlite3'}",
            DEMO_MEDIA_ROOT=str(work_dir / "media"),
            DEMO_TIME_SCALE="0.1",
            DEMO_CELERY_QUEUE=self.name,
            DEMO_CHANNEL_PREFIX=self.name,
            DEMO_ANALYSIS_MAX_BYTES=str(1024 * 1024),
            PYTHONUNBUFFERED="1",
        )
        # The demo picks its settings itself; a value left by the test settings would win.
        self.environment.pop("DJANGO_SETTINGS_MODULE", None)
        self.environment.pop("DEMO_MODE", None)
        self.environment.update(extra_environment or {})

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "demo_project.run",
            "--host", "127.0.0.1", "--port", str(self.port), "--mode", self.mode, "--concurrency", "2",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = READY_PATTERN.search(self.log_text())
            if found:
                self.chosen_mode, self.url = found.group(1), found.group(2).rstrip("/")
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"The demo exited with status {self.process.returncode}:\n{self.log_tail()}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"The demo was not ready within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, characters: int = 6000) -> str:
        return self.log_text()[-characters:]

    def admin_credentials(self) -> tuple[str, str]:
        """Return the user name and password of the superuser that the launcher printed."""
        found = CREDENTIALS_PATTERN.search(self.log_text())
        if found is None:
            raise AssertionError(f"The demo printed no admin credentials:\n{self.log_tail()}")
        return found.group(1), found.group(2)

    def child_pids(self) -> dict[str, int]:
        """Return the pids of the processes the launcher reported starting (distributed mode)."""
        return {name: int(pid) for name, pid in CHILD_PATTERN.findall(self.log_text())}

    def stop(self, signal_number: int = signal.SIGTERM) -> int | None:
        """Ask the launcher to stop everything it started; kill by pid what is left after the timeout."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal_number)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._kill_everything()
        return self.process.returncode

    def _kill_everything(self) -> None:
        assert self.process is not None
        for pid in [self.process.pid, *self.child_pids().values()]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)

    def purge_redis_keys(self, redis_url: str) -> None:
        """Delete this run's Celery queue from Redis; channel-layer keys expire by themselves."""
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
        try:
            client.delete(self.name, f"_kombu.binding.{self.name}")
        except redis.RedisError:
            pass
        finally:
            client.close()
