"""Embedded mode: the in-memory channel layer fed from worker threads, and the in-process worker."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from celery import Celery

from longcallbacks.embedded import EmbeddedChannelLayer, EmbeddedWorker


def send_from_thread(layer: EmbeddedChannelLayer, group: str, message: dict[str, object]) -> None:
    """Call group_send the way the library does from a Celery worker thread."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception as exc:  # noqa: BLE001 - raised again in the test's thread below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "group_send from the thread did not return"
    if errors:
        raise errors[0]


def test_thread_send_wakes_waiting_receiver() -> None:
    async def scenario() -> tuple[dict[str, object], float]:
        layer = EmbeddedChannelLayer()
        layer.bind_loop(asyncio.get_running_loop())
        channel = await layer.new_channel()
        await layer.group_add("state.one", channel)

        # The receiver waits first, as a consumer does, and nothing else wakes this loop.
        # A plain InMemoryChannelLayer fed from the thread leaves the loop asleep until the
        # wait_for timeout, 5 s later.
        receiving = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0)
        started = time.monotonic()
        sender = threading.Thread(
            target=send_from_thread,
            args=(layer, "state.one", {"type": "state.diff", "version": 1}),
        )
        sender.start()
        message = await asyncio.wait_for(receiving, 5)
        elapsed = time.monotonic() - started
        await asyncio.get_running_loop().run_in_executor(None, sender.join)
        return message, elapsed

    message, elapsed = asyncio.run(scenario())
    assert message == {"type": "state.diff", "version": 1}
    assert elapsed < 2, f"the receiver woke after {elapsed:.2f} s"


def test_thread_sends_keep_their_order() -> None:
    async def scenario() -> list[object]:
        layer = EmbeddedChannelLayer()
        layer.bind_loop(asyncio.get_running_loop())
        channel = await layer.new_channel()
        await layer.group_add("state.two", channel)

        def send_all() -> None:
            for version in range(1, 21):
                send_from_thread(layer, "state.two", {"type": "state.diff", "version": version})

        await asyncio.get_running_loop().run_in_executor(None, send_all)
        return [(await asyncio.wait_for(layer.receive(channel), 5))["version"] for _ in range(20)]

    assert asyncio.run(scenario()) == list(range(1, 21))


def test_send_after_server_loop_closed_raises() -> None:
    layer = EmbeddedChannelLayer()
    stopped_loop = asyncio.new_event_loop()
    stopped_loop.close()
    layer.bind_loop(stopped_loop)

    with pytest.raises(RuntimeError, match="not running"):
        send_from_thread(layer, "state.three", {"type": "state.diff"})


def test_receive_outside_server_loop_raises() -> None:
    layer = EmbeddedChannelLayer()
    server_loop = asyncio.new_event_loop()
    layer.bind_loop(server_loop)

    async def receive_elsewhere() -> None:
        await layer.receive("specific.inmemory!abc")

    try:
        with pytest.raises(RuntimeError, match="outside the server's event loop"):
            asyncio.run(receive_elsewhere())
    finally:
        server_loop.close()


def add(left: int, right: int) -> int:
    return left + right


def test_embedded_worker_runs_task() -> None:
    app = Celery(
        "embedded-test",
        broker="memory://",
        backend="cache+memory://",
        set_as_current=False,
    )
    app.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json")
    task = app.task(name="tests.embedded.add")(add)
    worker = EmbeddedWorker(app, concurrency=2, hostname="embedded-test@localhost", beat=False)
    worker.start(timeout=30)
    try:
        assert task.delay(2, 3).get(timeout=10) == 5
    finally:
        worker.stop(timeout=10)


def test_embedded_worker_rejects_zero_concurrency() -> None:
    with pytest.raises(ValueError, match="concurrency must be 1 or more"):
        EmbeddedWorker(
            Celery("embedded-test", broker="memory://", set_as_current=False),
            concurrency=0,
        )
