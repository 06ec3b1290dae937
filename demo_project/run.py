"""Run the demo with one command: `python -m demo_project.run` (what `make demo` calls).

It migrates the database, creates the superuser "demo" with a new random password and prints
it, so that /admin/ can be opened, then picks a mode. When Redis responds at REDIS_URL, it starts
daphne, a Celery worker and Celery beat as separate processes (distributed mode).
Otherwise it runs all three in this process with an in-memory broker and channel layer
(embedded mode). It prints the mode and the URL. Ctrl-C or SIGTERM stops everything it
started.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Seconds to wait for the worker and the web server to be ready, and for them to stop.
START_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
WORKER_READY_TEXT = " ready."
# Log lines of the library's checker task, which beat sends every few seconds. The relay
# drops them so that the lines of the demo's own tasks stay readable.
ROUTINE_LOG_MARKERS = ("longcallbacks.check_long_callbacks", "longcallbacks-check")


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo_project.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--host",
        default=os.environ.get("DEMO_HOST", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1, or DEMO_HOST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("DEMO_PORT", "8000")),
        help="TCP port to listen on (default 8000, or DEMO_PORT)",
    )
    parser.add_argument(
        "--mode",
        choices=("auto", "distributed", "embedded"),
        default="auto",
        help="auto (the default) picks distributed when Redis responds at REDIS_URL, else embedded",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="worker processes (distributed) or threads (embedded); default 4",
    )
    parser.add_argument(
        "--skip-migrate",
        action="store_true",
        help="do not run `manage.py migrate` first",
    )
    arguments = parser.parse_args(argv)
    if not 0 < arguments.port < 65536:
        parser.error(f"invalid port {arguments.port}: use a number from 1 to 65535")
    if arguments.concurrency < 1:
        parser.error(f"invalid concurrency {arguments.concurrency}: use 1 or more")
    return arguments


def redis_problem(url: str) -> str | None:
    """Return why Redis at ``url`` cannot be used, or None when it replies to PING."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    except ValueError as error:
        return f"REDIS_URL is invalid ({error})"
    try:
        client.ping()
    except redis.RedisError as error:
        return f"no answer from Redis at REDIS_URL ({error})"
    finally:
        client.close()
    return None


def port_problem(host: str, port: int) -> str | None:
    """Return why the server cannot listen on host:port, or None when the port is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return f"cannot listen on {host}:{port} ({error.strerror}); stop what uses it or pass --port / DEMO_PORT"
    return None


def url_for(host: str, port: int) -> str:
    # An IPv6 address goes in brackets in a URL.
    address = f"[{host}]" if ":" in host else host
    return f"http://{address}:{port}/"


def log(message: str) -> None:
    print(f"demo: {message}", flush=True)


def migrate(environment: dict[str, str]) -> None:
    log("applying database migrations")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )


def create_superuser(environment: dict[str, str]) -> str:
    """Create the demo superuser and return the line with its credentials."""
    completed = subprocess.run(
        [sys.executable, "manage.py", "demo_superuser"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return completed.stdout.strip()


# Distributed mode ----------------------------------------------------------------------


class ChildProcess:
    """One process of the demo, in its own process group, with its output prefixed by its name."""

    def __init__(self, name: str, command: list[str], environment: dict[str, str]) -> None:
        self.name = name
        self.ready = threading.Event()
        self.ready_text: str | None = None
        # A group of its own, so stopping it also stops the worker's pool processes, and a
        # Ctrl-C in the terminal reaches only this launcher, which stops the children in order.
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        log(f"started {name} (pid {self.process.pid})")
        self._relay = threading.Thread(target=self._relay_output, name=f"relay-{name}", daemon=True)

    def watch_for(self, text: str) -> None:
        self.ready_text = text

    def start_relay(self) -> None:
        self._relay.start()

    def _relay_output(self) -> None:
        stream: IO[bytes] | None = self.process.stdout
        if stream is None:
            return
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self.ready_text is not None and self.ready_text in line:
                self.ready.set()
            if any(marker in line for marker in ROUTINE_LOG_MARKERS):
                continue
            print(f"{self.name:>6} | {line}", flush=True)
        stream.close()

    def signal_group(self, signal_number: int) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal_number)
            except ProcessLookupError:
                pass


def wait_for_port(host: str, port: int, children: list[ChildProcess], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exited_child(children)
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the web server did not listen on {host}:{port} within {timeout:.0f} s")


def exited_child(children: list[ChildProcess]) -> None:
    for child in children:
        code = child.process.poll()
        if code is not None:
            raise RuntimeError(f"{child.name} (pid {child.process.pid}) exited with status {code}")


def stop_children(children: list[ChildProcess]) -> None:
    """Send SIGTERM to each child's group, wait, then SIGKILL the groups still running."""
    alive = [child for child in children if child.process.poll() is None]
    if not alive:
        return
    log("stopping " + ", ".join(f"{child.name} (pid {child.process.pid})" for child in alive))
    for child in alive:
        child.signal_group(signal.SIGTERM)

    deadline = time.monotonic() + STOP_TIMEOUT
    for child in alive:
        try:
            child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log(f"{child.name} (pid {child.process.pid}) did not stop within {STOP_TIMEOUT:.0f} s; killing it")
    for child in alive:
        # Also reaches pool processes that outlived the worker, because they stay in its group.
        # The group id cannot be reused while any member lives, so this hits only our processes.
        try:
            os.killpg(child.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.process.wait()


class StopRequested(Exception):
    """Raised in the main thread by SIGINT or SIGTERM."""


def raise_stop(signal_number: int, frame: FrameType | None) -> None:
    raise StopRequested(signal.Signals(signal_number).name)


def run_distributed(arguments: argparse.Namespace, environment: dict[str, str]) -> int:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "demo_project.celery:app"]
    commands = {
        "worker": [
            *celery, "worker", "--loglevel=INFO", f"--concurrency={arguments.concurrency}",
            "--without-gossip", "--without-mingle", "--hostname", "demo@%h",
        ],
        "beat": [*celery, "beat", "--loglevel=INFO"],
        "web": [
            python, "-m", "daphne", "--bind", arguments.host, "--port", str(arguments.port),
            "demo_project.asgi:application",
        ],
    }  # fmt: skip

    children: list[ChildProcess] = []
    signal.signal(signal.SIGINT, raise_stop)
    signal.signal(signal.SIGTERM, raise_stop)
    try:
        for name, command in commands.items():
            child = ChildProcess(name, command, environment)
            if name == "worker":
                child.watch_for(WORKER_READY_TEXT)
            child.start_relay()
            children.append(child)

        worker = children[0]
        deadline = time.monotonic() + START_TIMEOUT
        while not worker.ready.wait(0.2):
            exited_child(children)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker was not ready within {START_TIMEOUT:.0f} s")
        wait_for_port(arguments.host, arguments.port, children, START_TIMEOUT)
        log(f"ready in distributed mode at {url_for(arguments.host, arguments.port)} (press Ctrl-C to stop)")

        while True:
            exited_child(children)
            time.sleep(0.5)
    except StopRequested as stop:
        log(f"received {stop}")
        return 0
    except RuntimeError as error:
        log(f"error: {error}")
        return 1
    finally:
        # A second Ctrl-C while stopping would interrupt the cleanup, so both signals are
        # ignored from here on; stop_children escalates to SIGKILL by itself.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_children(children)
        log("stopped")


# Embedded mode -------------------------------------------------------------------------


def run_embedded(arguments: argparse.Namespace) -> int:
    # daphne.server installs Twisted's asyncio reactor, which must happen before anything
    # else imports twisted.internet.reactor.
    import daphne.server
    from channels.layers import get_channel_layer
    from daphne.endpoints import build_endpoint_description_strings

    from demo_project.asgi import application
    from demo_project.celery import app as celery_app
    from longcallbacks.embedded import EmbeddedChannelLayer, EmbeddedWorker

    layer = get_channel_layer()
    if not isinstance(layer, EmbeddedChannelLayer):
        log(f"error: embedded mode needs EmbeddedChannelLayer, but the channel layer is {type(layer).__name__}")
        return 1
    layer.bind_loop(daphne.server.twisted_loop)

    worker = EmbeddedWorker(
        celery_app,
        concurrency=arguments.concurrency,
        hostname="demo-embedded@localhost",
    )
    worker.start()
    url = url_for(arguments.host, arguments.port)

    def announce() -> None:
        log(f"ready in embedded mode at {url} (press Ctrl-C to stop)")

    server = daphne.server.Server(
        application=application,
        endpoints=build_endpoint_description_strings(host=arguments.host, port=arguments.port),
        signal_handlers=True,
        ready_callable=announce,
    )
    # Twisted handles SIGINT only when it has Python's default handler, and a shell starts
    # background jobs with SIGINT ignored. Restoring it makes Ctrl-C and `kill -INT` work
    # the same in both modes.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # Returns when Twisted's signal handlers stop the reactor on SIGINT or SIGTERM.
        server.run()
    finally:
        log("stopping the embedded worker")
        worker.stop()
        log("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))

    problem = port_problem(arguments.host, arguments.port)
    if problem:
        log(f"error: {problem}")
        return 1

    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    mode = arguments.mode
    if mode in ("auto", "distributed"):
        reason = redis_problem(redis_url)
        if reason is None:
            mode = "distributed"
            log(f"mode: distributed (Redis responds at {redis_url})")
        elif mode == "distributed":
            log(f"error: distributed mode needs Redis: {reason}")
            return 1
        else:
            mode = "embedded"
            log(f"mode: embedded, all in this process with an in-memory broker and channel layer ({reason})")
    else:
        log("mode: embedded, all in this process with an in-memory broker and channel layer (--mode embedded)")

    environment = dict(os.environ)
    environment.update(
        DEMO_MODE=mode,
        DJANGO_SETTINGS_MODULE="demo_project.settings",
        PYTHONUNBUFFERED="1",
    )
    os.environ.update(DEMO_MODE=mode, DJANGO_SETTINGS_MODULE="demo_project.settings")

    if not arguments.skip_migrate:
        try:
            migrate(environment)
        except subprocess.CalledProcessError as error:
            log(f"error: `manage.py migrate` failed with status {error.returncode}")
            return 1
    try:
        credentials = create_superuser(environment)
    except subprocess.CalledProcessError as error:
        log(f"error: `manage.py demo_superuser` failed with status {error.returncode}: {error.stderr}")
        return 1
    log(f"{credentials} for /admin/ (local use only)")

    if mode == "distributed":
        return run_distributed(arguments, environment)
    return run_embedded(arguments)


if __name__ == "__main__":
    sys.exit(main())
