"""pytest fixtures for testing long callbacks under pytest-django; loaded by the ``pytest11``
entry point, so installing the package is enough.

- ``lc_recorder``: a :class:`longcallbacks.testing.Recorder` connected for the test.
- ``lc_state``: a fresh State in the test database.
- ``lc_sync``: runs long callbacks at once in the test's thread, without a broker, and
  returns the recorder.
- ``lc_worker``: a real Celery worker in a thread of the test process (solo pool), against the
  project's configured broker; use it with ``django_db(transaction=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .state import State
    from .testing import Recorder


@pytest.fixture
def lc_recorder() -> Iterator[Recorder]:
    from .testing import Recorder

    with Recorder() as recorder:
        yield recorder


@pytest.fixture
def lc_state(db: None) -> State:
    from .models import StoredState
    from .state import State

    return State(StoredState.objects.create().id)


@pytest.fixture
def lc_sync(db: None, lc_recorder: Recorder) -> Iterator[Recorder]:
    from .testing import run_synchronously

    with run_synchronously():
        yield lc_recorder


@pytest.fixture
def lc_worker(transactional_db: None) -> Iterator[Any]:
    from celery import current_app
    from celery.contrib.testing.worker import start_worker

    with start_worker(current_app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker
