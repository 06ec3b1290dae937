"""Celery tasks of the test suite's worker, found by autodiscovery of installed apps."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from celery import shared_task
from channels.layers import get_channel_layer

FLOOR_TASK_NAME = "tests.send_to_group"


@shared_task(name=FLOOR_TASK_NAME)
def send_to_group(group: str, sequence: int) -> None:
    """Send one message to a channel-layer group: the latency floor of a worker-to-browser push."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, {"type": "bench.floor", "sequence": sequence})
