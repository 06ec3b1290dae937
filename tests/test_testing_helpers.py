"""The testing helpers users get: the recorder, synchronous runs and the pytest plugin."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from longcallbacks import State, get_state_id, invoke_long_callback, notify
from longcallbacks.models import LongCallback
from longcallbacks.testing import Recorder, run_synchronously
from tests import callbacks

ROOT = Path(__file__).resolve().parent.parent


def test_sync_run_delivers_status_before_returning(lc_sync: Recorder, lc_state: State) -> None:
    handle = invoke_long_callback(lc_state, callbacks.add, [2, 5], callbacks.record_status)
    assert handle.record().status == LongCallback.Status.SUCCEEDED
    lc_sync.assert_statuses([True], "record_status")
    assert lc_sync.status_calls[0].result == 7
    assert lc_sync.values("events") == [[["status", True, 7]]]


def test_sync_run_failure_reports_false(lc_sync: Recorder, lc_state: State) -> None:
    handle = invoke_long_callback(lc_state, callbacks.fail, ["broken"], callbacks.record_status)
    record = handle.record()
    assert record.status == LongCallback.Status.FAILED
    assert record.error_message == "broken"
    assert lc_sync.final_statuses() == [False]
    assert State(get_state_id(lc_state)).errors == [["fail", "ValueError", "broken"]]


def test_recorder_collects_notifications(lc_recorder: Recorder, lc_state: State) -> None:
    notify(lc_state, "success", "Saved")
    lc_recorder.assert_notified("Saved", "success")
    with pytest.raises(AssertionError, match="no error notification 'Saved'"):
        lc_recorder.assert_notified("Saved", "error")


def test_recorder_stops_when_disconnected(db: None, lc_state: State) -> None:
    recorder = Recorder()
    with recorder:
        lc_state.counter = 1
    lc_state.counter = 2
    assert recorder.values("counter") == [1]


def test_assert_statuses_explains_mismatch(lc_sync: Recorder, lc_state: State) -> None:
    invoke_long_callback(lc_state, callbacks.add, [1, 1], callbacks.record_status)
    with pytest.raises(AssertionError, match=r"status calls were \[True\], expected \[False\]"):
        lc_sync.assert_statuses([False])


def test_synchronous_mode_is_restored(db: None, lc_state: State) -> None:
    from longcallbacks import invoke

    with run_synchronously():
        assert invoke.synchronous_runner is not None
    assert invoke.synchronous_runner is None


def test_plugin_fixtures_in_a_user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's own test file gets the fixtures from the installed entry point alone."""
    pytester.makepyfile(
        test_user=textwrap.dedent(
            """
            from longcallbacks import invoke_long_callback
            from tests import callbacks

            def test_report(lc_sync, lc_state):
                invoke_long_callback(lc_state, callbacks.add, [20, 22], callbacks.record_status)
                lc_sync.assert_statuses([True])
                assert lc_sync.status_calls[0].result == 42

            def test_wrong_expectation_fails(lc_sync, lc_state):
                invoke_long_callback(lc_state, callbacks.fail, ["x"], callbacks.record_status)
                lc_sync.assert_statuses([True])
            """
        )
    )
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("LONGCALLBACKS_TEST_PREFIX", f"{os.environ['LONGCALLBACKS_TEST_PREFIX']}p")
    monkeypatch.setenv("LONGCALLBACKS_TEST_OUTPUT", str(pytester.path / "output"))
    result = pytester.runpytest_subprocess(
        "--ds=tests.settings",
        "-p",
        "no:cacheprovider",
        "-W",
        "error",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*status calls were [[]False[]], expected [[]True[]]*"])


@pytest.mark.integration
def test_plugin_worker_fixture(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """``lc_worker`` runs a real worker in the test process against the configured broker."""
    pytester.makepyfile(
        test_worker=textwrap.dedent(
            """
            import tests.celery_app  # the project's Celery app becomes the current app
            from longcallbacks import invoke_long_callback
            from tests import callbacks

            def test_on_worker(lc_worker, lc_recorder, lc_state):
                record = invoke_long_callback(lc_state, callbacks.add, [1, 41], callbacks.record_status).wait(30)
                assert record.status == "succeeded"
                assert record.worker
                lc_recorder.assert_statuses([True])
            """
        )
    )
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("LONGCALLBACKS_TEST_PREFIX", f"{os.environ['LONGCALLBACKS_TEST_PREFIX']}w")
    monkeypatch.setenv("LONGCALLBACKS_TEST_OUTPUT", str(pytester.path / "output"))
    result = pytester.runpytest_subprocess(
        "--ds=tests.settings",
        "-p",
        "no:cacheprovider",
        "-W",
        "error",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )
    result.assert_outcomes(passed=1)


def test_status_function_sees_its_record(lc_sync: Recorder, lc_state: State) -> None:
    from longcallbacks import current_long_callback

    assert current_long_callback() is None
    invoke_long_callback(lc_state, callbacks.fail, ["boom"], callbacks.record_outcome)
    invoke_long_callback(lc_state, callbacks.add, [1, 2], callbacks.record_outcome)
    assert State(get_state_id(lc_state)).events == [
        ["outcome", False, "failed", "boom"],
        ["outcome", True, "succeeded", ""],
    ]
    assert current_long_callback() is None
