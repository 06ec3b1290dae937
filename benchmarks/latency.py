"""Measure push latency: a raw Celery-to-channel-layer floor against an action seen in a tab.

Run from the repository root with Redis on 127.0.0.1:6379::

    .venv/bin/python benchmarks/latency.py [--runs 200] [--warmup 20] [--pause-ms 150]

It starts its own Celery worker (prefork, 2 processes) and daphne on loopback with the test
settings, on a SQLite file under test-output/bench (or the PostgreSQL database in
DATABASE_URL, which it migrates), and stops them by pid at the end.

(a) floor: publish a task whose body calls ``group_send``; time until this process's layer
    channel, a member of that group, receives the message.
(b) ours: a websocket client sends the ``bench`` action through daphne. The action invokes a
    no-op long callback whose status function sets ``bench_seq``; time until the ``diff``
    frame with that value arrives.

Requests are paced (``--pause-ms``) so the socket stays under ACTION_RATE_LIMIT. The last line
reads ``latency p50_ms=<ours> p99_ms=<ours> floor_p50_ms=<floor> ratio_p50=<ours/floor>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUTPUT = Path(os.environ.setdefault("LONGCALLBACKS_TEST_OUTPUT", str(ROOT / "test-output" / "bench")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("LONGCALLBACKS_TEST_PREFIX", f"lcbench{os.getpid()}")
if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("LONGCALLBACKS_TEST_DB_NAME", str(OUTPUT / "bench.sqlite3"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(fraction * len(ordered) + 0.999999)))
    return ordered[rank - 1]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"database {database}"
    )


async def measure_floor(runs: int, pause: float) -> list[float]:
    from channels.layers import get_channel_layer

    from tests.celery_app import app
    from tests.tasks import FLOOR_TASK_NAME

    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = f"bench.floor.{os.getpid()}"
    await layer.group_add(group, channel)
    timings = []
    for sequence in range(runs):
        started = time.perf_counter()
        app.send_task(FLOOR_TASK_NAME, args=[group, sequence])
        while True:
            message = await asyncio.wait_for(layer.receive(channel), timeout=30)
            if message.get("sequence") == sequence:
                break
        timings.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(pause)
    await layer.group_discard(group, channel)
    return timings


async def measure_ours(server: Any, runs: int, pause: float, wall_clock: dict[int, tuple[float, float]]) -> list[float]:
    """Time each action round trip; ``wall_clock`` receives (sent, received) epoch seconds per run."""
    from websockets.asyncio.client import connect

    cookie = server.session_cookie()
    timings = []
    async with connect(server.socket_url, origin=server.base_url, additional_headers={"Cookie": cookie}) as socket:  # type: ignore[arg-type]
        snapshot = json.loads(await socket.recv())
        if snapshot["type"] != "snapshot":
            raise RuntimeError(f"expected a snapshot first, got {snapshot}")
        for sequence in range(runs):
            started = time.perf_counter()
            sent_at = time.time()
            await socket.send(json.dumps({"type": "action", "name": "bench", "payload": {"seq": str(sequence)}}))
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
                if frame["type"] == "error":
                    raise RuntimeError(f"the server rejected the action: {frame}")
                if frame["type"] == "diff" and frame["changes"].get("bench_seq") == sequence:
                    break
            timings.append((time.perf_counter() - started) * 1000)
            wall_clock[sequence] = (sent_at, time.time())
            await asyncio.sleep(pause)
    return timings


def phases(wall_clock: dict[int, tuple[float, float]]) -> str:
    """Return the median time of each phase of ours, from the records' timestamps."""
    from longcallbacks.models import LongCallback

    steps: dict[str, list[float]] = {"action": [], "queue": [], "run": [], "deliver": []}
    records = LongCallback.objects.filter(
        function="tests.callbacks.do_nothing", status_function="tests.callbacks.record_bench"
    )
    latest = {}
    for record in records.order_by("created_at"):
        latest[record.status_args[0]] = record
    for sequence, (sent_at, received_at) in wall_clock.items():
        record = latest.get(sequence)
        if record is None or record.started_at is None or record.finished_at is None:
            continue
        created, started, finished = (
            moment.timestamp() for moment in (record.created_at, record.started_at, record.finished_at)
        )
        steps["action"].append((created - sent_at) * 1000)
        steps["queue"].append((started - created) * 1000)
        steps["run"].append((finished - started) * 1000)
        steps["deliver"].append((received_at - finished) * 1000)
    return ", ".join(f"{name} {statistics.median(values):.1f}" for name, values in steps.items() if values)


def summary(name: str, timings: list[float]) -> str:
    return (
        f"{name}: n={len(timings)} p50={percentile(timings, 0.5):.2f} ms p99={percentile(timings, 0.99):.2f} ms "
        f"mean={statistics.fmean(timings):.2f} ms max={max(timings):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="measured round trips per path (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured round trips first (default 20)")
    parser.add_argument("--pause-ms", type=float, default=150, help="pause between round trips in ms (default 150)")
    options = parser.parse_args()

    from tests.conftest import WorkerProcess, worker_environment
    from tests.live import DaphneProcess

    OUTPUT.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    print(f"machine: {machine()}", flush=True)

    worker = WorkerProcess(f"{settings.TEST_PREFIX}-1", OUTPUT / "worker.log")
    server = DaphneProcess(OUTPUT / "daphne.log")
    try:
        worker.start(worker_environment())
        server.start(worker_environment())
        pause = options.pause_ms / 1000

        asyncio.run(measure_floor(options.warmup, pause))
        floor = asyncio.run(measure_floor(options.runs, pause))
        print(summary("floor (task -> group_send -> layer receive)", floor), flush=True)

        asyncio.run(measure_ours(server, options.warmup, pause, {}))
        wall_clock: dict[int, tuple[float, float]] = {}
        ours = asyncio.run(measure_ours(server, options.runs, pause, wall_clock))
        print(summary("ours (action -> worker -> status function -> diff frame)", ours), flush=True)
        # Record timestamps come from three processes' clocks on one machine, so the phases
        # are estimates; they add up to about the measured round trip.
        print(f"ours, median phases in ms: {phases(wall_clock)}", flush=True)
    finally:
        server.stop()
        worker.stop()

    floor_p50 = percentile(floor, 0.5)
    p50 = percentile(ours, 0.5)
    p99 = percentile(ours, 0.99)
    print(f"latency p50_ms={p50:.2f} p99_ms={p99:.2f} floor_p50_ms={floor_p50:.2f} ratio_p50={p50 / floor_p50:.2f}")


if __name__ == "__main__":
    main()
