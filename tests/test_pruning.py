"""Retention: what is pruned, what is kept, and memory that stays flat with the row count."""

from __future__ import annotations

import datetime
import tracemalloc
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from longcallbacks.models import Connection, LongCallback, Notification, StoredState
from longcallbacks.pruning import prune

pytestmark = pytest.mark.django_db

Status = LongCallback.Status
NOW = timezone.now()
OLD = NOW - datetime.timedelta(days=400)


def make_records(
    state: StoredState, count: int, *, status: str = Status.SUCCEEDED, finished: datetime.datetime = OLD
) -> None:
    """Insert ``count`` records in chunks, so a million rows never sit in memory at once."""
    chunk = 20_000
    for start in range(0, count, chunk):
        LongCallback.objects.bulk_create(
            [
                LongCallback(
                    state=state,
                    function="tests.callbacks.add",
                    status=status,
                    created_at=finished,
                    finished_at=finished,
                )
                for _ in range(min(chunk, count - start))
            ],
            batch_size=5000,
        )


def test_prune_removes_only_expired_rows() -> None:
    busy = StoredState.objects.create(updated_at=OLD)
    make_records(busy, 3)
    make_records(busy, 2, finished=NOW)
    make_records(busy, 1, status=Status.RUNNING)
    idle = StoredState.objects.create(updated_at=OLD)
    make_records(idle, 2)
    connected = StoredState.objects.create(updated_at=OLD)
    Connection.objects.create(channel_name="specific.abc!def", state=connected, last_seen_at=NOW)
    recent = StoredState.objects.create(updated_at=NOW)
    Notification.objects.create(state=recent, notification_id="old", created_at=OLD)
    Notification.objects.create(state=recent, notification_id="new", created_at=NOW)
    Connection.objects.create(channel_name="specific.stale!x", state=recent, last_seen_at=OLD)

    counts = prune(NOW)

    assert counts == {"records": 5, "notifications": 1, "connections": 1, "states": 1, "files": 0}
    assert set(StoredState.objects.values_list("pk", flat=True)) == {busy.pk, connected.pk, recent.pk}
    assert LongCallback.objects.filter(state=busy).count() == 3
    assert list(Notification.objects.values_list("notification_id", flat=True)) == ["new"]
    assert prune(NOW) == {"records": 0, "notifications": 0, "connections": 0, "states": 0, "files": 0}


def test_prune_deletes_in_bounded_batches() -> None:
    state = StoredState.objects.create()
    make_records(state, 2500)
    with override_settings(LONGCALLBACKS={"PRUNE_BATCH_SIZE": 1000}):
        with CaptureQueriesContext(connection) as queries:
            counts = prune(NOW)
    assert counts["records"] == 2500
    deletes = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("DELETE")]
    assert len(deletes) == 3
    assert all(sql.count("%s") <= 1000 or sql.count(",") <= 1100 for sql in deletes)


def peak_memory_of_prune(rows: int) -> int:
    state = StoredState.objects.create()
    make_records(state, rows)
    tracemalloc.start()
    with override_settings(LONGCALLBACKS={"PRUNE_BATCH_SIZE": 1000}):
        counts = prune(NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert counts["records"] == rows
    return peak


def test_prune_memory_flat_with_row_count() -> None:
    small = peak_memory_of_prune(2_000)
    large = peak_memory_of_prune(20_000)
    # Ten times the rows may not need much more memory: one batch is held at a time.
    assert large < small * 1.5 + 512 * 1024, (small, large)


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_prune_million_records_memory_flat() -> None:
    small = peak_memory_of_prune(10_000)
    large = peak_memory_of_prune(1_000_000)
    print(f"prune peak memory: 10,000 rows {small / 1e6:.1f} MB, 1,000,000 rows {large / 1e6:.1f} MB")
    assert large < small * 1.5 + 1024 * 1024, (small, large)


def test_prune_old_uploads(tmp_path: Path) -> None:
    import os

    old_file = tmp_path / "uploads" / "a1" / "old.csv"
    new_file = tmp_path / "uploads" / "b2" / "new.csv"
    other = tmp_path / "elsewhere" / "keep.csv"
    for path in (old_file, new_file, other):
        path.parent.mkdir(parents=True)
        path.write_text("x,y\n1,2\n")
    two_days_ago = (NOW - datetime.timedelta(days=2)).timestamp()
    os.utime(old_file, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))

    overrides = {"UPLOAD_DIRECTORIES": ["uploads"], "UPLOAD_RETENTION": 24 * 60 * 60}
    with override_settings(MEDIA_ROOT=str(tmp_path), LONGCALLBACKS=overrides):
        assert prune(NOW)["files"] == 1
    assert not old_file.exists()
    assert new_file.exists()
    assert other.exists()
