"""Embedded mode: the web server, Celery worker threads and Celery beat in one process.

For demos and development machines without Redis. Celery uses the in-memory broker
(``memory://``), and the channel layer is :class:`EmbeddedChannelLayer`, an in-memory layer
that worker threads can safely send to. Nothing here works across processes, so a
production deployment runs separate workers with Redis instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any

from celery import Celery

# Private API of Celery 5.x, also used by celery.contrib.testing.worker.
from celery._state import _set_task_join_will_block  # type: ignore[attr-defined]
from celery.beat import EmbeddedService
from celery.worker import WorkController
from channels.layers import InMemoryChannelLayer

from .logs import get_logger

logger = get_logger("embedded")

# Seconds a send from a worker thread waits for the server's event loop to take the message.
HANDOFF_TIMEOUT = 10.0


# channels ships no type information, so its base class is Any to mypy.
class EmbeddedChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]
    """An ``InMemoryChannelLayer`` that accepts sends from any thread of the process.

    ``InMemoryChannelLayer`` keeps ``asyncio.Queue`` objects, which are not thread-safe and
    belong to the event loop of the server that reads them. Calls made on another loop (a
    Celery worker thread runs ``async_to_sync``, which starts its own loop) are handed to the
    server's loop with ``asyncio.run_coroutine_threadsafe`` and awaited from there.

    The server's loop is the one passed to :meth:`bind_loop`, or else the first running loop
    that calls the layer from the main thread, which is where daphne runs its loop.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loop_lock = threading.Lock()
        self._server_loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Make ``loop`` the one that owns the queues; call it before the server starts."""
        with self._loop_lock:
            self._server_loop = loop

    def _owner_loop(self, running: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._server_loop is None and threading.current_thread() is threading.main_thread():
                self._server_loop = running
            return self._server_loop or running

    async def _on_owner_loop(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Await ``coroutine`` on the server's loop, handing it over when called from elsewhere."""
        running = asyncio.get_running_loop()
        owner = self._owner_loop(running)
        if owner is running:
            return await coroutine

        if owner.is_closed() or not owner.is_running():
            coroutine.close()
            raise RuntimeError("The server's event loop is not running, so the in-memory channel layer cannot deliver.")
        future: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, owner)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), HANDOFF_TIMEOUT)
        except TimeoutError:
            future.cancel()
            raise

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._on_owner_loop(super().send(channel, message))

    async def group_add(self, group: str, channel: str) -> None:
        await self._on_owner_loop(super().group_add(group, channel))

    async def group_discard(self, group: str, channel: str) -> None:
        await self._on_owner_loop(super().group_discard(group, channel))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self._on_owner_loop(super().group_send(group, message))

    async def flush(self) -> None:
        await self._on_owner_loop(super().flush())

    async def receive(self, channel: str) -> dict[str, Any]:
        running = asyncio.get_running_loop()
        if self._owner_loop(running) is not running:
            raise RuntimeError(
                f"receive({channel!r}) ran outside the server's event loop; only consumers served by this "
                f"process can receive from an in-memory channel layer."
            )
        message: dict[str, Any] = await super().receive(channel)
        return message


class EmbeddedWorker:
    """A Celery worker with a thread pool, and optionally Celery beat, in threads of this process.

    Only meant for the ``memory://`` broker of embedded mode: with a real broker, run
    ``celery worker`` and ``celery beat`` as their own processes instead.
    """

    def __init__(
        self,
        app: Celery,
        *,
        concurrency: int = 4,
        hostname: str = "embedded@localhost",
        beat: bool = True,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be 1 or more, not {concurrency!r}.")
        self.app = app
        self.concurrency = concurrency
        self.hostname = hostname
        self.with_beat = beat
        self._ready = threading.Event()
        self._worker: WorkController | None = None
        self._worker_thread: threading.Thread | None = None
        self._beat: Any = None

    def _on_consumer_ready(self, consumer: Any) -> None:
        self._ready.set()

    def start(self, timeout: float = 30.0) -> None:
        """Start the worker (and beat) threads and wait until the worker consumes its queue."""
        self.app.finalize()
        self.app.set_current()
        self.app.set_default()

        # Gossip, mingle and heartbeats talk to other workers, and there are none.
        self._worker = self.app.WorkController(
            hostname=self.hostname,
            pool="threads",
            concurrency=self.concurrency,
            ready_callback=self._on_consumer_ready,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
        )
        self._worker_thread = threading.Thread(target=self._worker.start, name="embedded-celery-worker", daemon=True)
        self._worker_thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"The embedded Celery worker did not start within {timeout} s.")
        # A starting worker marks the whole process as running inside a task, which makes
        # AsyncResult.get() raise. Web requests of this process are not tasks, so the flag is
        # cleared, as celery.contrib.testing.worker.start_worker does (private API, Celery 5.x).
        _set_task_join_will_block(False)
        logger.info("Embedded Celery worker started with %d threads.", self.concurrency)

        if self.with_beat:
            # thread=True, because the default is a child process, which cannot reach an
            # in-memory broker. EmbeddedService ignores the beat_scheduler setting unless it
            # is passed, and would write a celerybeat-schedule file instead.
            self._beat = EmbeddedService(self.app, thread=True, scheduler_cls=self.app.conf.beat_scheduler)
            self._beat.start()
            logger.info("Embedded Celery beat started.")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop beat, then the worker, waiting up to ``timeout`` seconds for running tasks."""
        if self._beat is not None:
            self._beat.stop()
            self._beat = None
        if self._worker is not None:
            self._worker.stop()
            if self._worker_thread is not None:
                self._worker_thread.join(timeout)
                if self._worker_thread.is_alive():
                    logger.warning("The embedded Celery worker did not stop within %s s.", timeout)
            self._worker = None
        logger.info("Embedded Celery worker stopped.")
