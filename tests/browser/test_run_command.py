"""The demo's run command: embedded mode when Redis is missing, and stopping what it started."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    OUTPUT_DIR,
    open_live,
    require_chromium,
    require_redis,
    state_text,
    wait_for_toasts,
)
from tests.browser.demo_process import ROOT, DemoProcess, free_port


def closed_loopback_port() -> int:
    """Return a loopback port that refuses connections, to stand for a Redis that is not running."""
    return free_port()


@pytest.fixture
def embedded_demo() -> Iterator[DemoProcess]:
    """The demo started with --mode auto while REDIS_URL points at a closed loopback port."""
    require_chromium()
    work_dir = Path(tempfile.mkdtemp(prefix="demo-embedded-"))
    redis_url = f"redis://127.0.0.1:{closed_loopback_port()}/0"
    process = DemoProcess(
        work_dir,
        OUTPUT_DIR / "browser" / "demo-embedded.log",
        mode="auto",
        extra_environment={"REDIS_URL": redis_url},
    )
    process.start()
    yield process
    process.stop(signal.SIGINT)
    shutil.rmtree(work_dir, ignore_errors=True)


def test_embedded_mode_smoke(embedded_demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    assert embedded_demo.chosen_mode == "embedded", embedded_demo.log_tail()
    assert "mode: embedded" in embedded_demo.log_text()
    open_live(page, embedded_demo.url + "/examples/periodic/")
    expect(page.locator(".site-header .mode")).to_have_text("embedded mode")

    page.get_by_role("button", name="Start Task").click()

    wait_for_toasts(
        page,
        [
            "Heavy task started...",
            "Task is still running... 0s elapsed",
            "Task completed successfully!",
        ],
    )
    expect(state_text(page, "periodic_progress")).to_have_text("Finished.")
    screenshot(page)

    # A plain thread of the web process sends to the in-memory channel layer too.
    open_live(page, embedded_demo.url + "/examples/manual-thread/")
    page.get_by_role("button", name="Start Task").click()
    wait_for_toasts(page, ["Heavy task started...", "Heavy task completed!"])
    screenshot(page, "manual-thread")


def test_ctrl_c_stops_every_process(tmp_path: Path, page: Any, screenshot: Callable[..., Any]) -> None:
    require_redis()
    process = DemoProcess(tmp_path, OUTPUT_DIR / "browser" / "demo-stop.log", mode="distributed")
    process.start()
    children = process.child_pids()
    assert sorted(children) == ["beat", "web", "worker"], process.log_tail()
    open_live(page, process.url + "/")

    exit_code = process.stop(signal.SIGINT)

    # The page stays open and shows that its connection is gone.
    expect(page.locator("[data-lc-status]")).not_to_have_attribute("data-state", "live")
    screenshot(page)
    assert exit_code == 0, process.log_tail()
    assert "demo: stopped" in process.log_text()
    for pid in children.values():
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
    process.purge_redis_keys(process.environment.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


def test_port_in_use_rejected() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        started = time.monotonic()
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "demo_project.run",
                "--port",
                str(port),
                "--mode",
                "embedded",
            ],
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in completed.stdout
    assert time.monotonic() - started < 30
