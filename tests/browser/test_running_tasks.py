"""The run list with progress and Cancel, the admin's cancel and live progress, and a running indicator."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import open_live, state_text, wait_for_toasts
from tests.browser.demo_process import DemoProcess

LARGE_SAMPLE = "sensor-readings"
CHANGELIST = "/admin/longcallbacks/longcallback/"


def start_large_analysis(page: Any, demo: DemoProcess) -> Any:
    """Start the analysis of the large sample and return the locator of its run in the run list."""
    open_live(page, demo.url + "/analysis/")
    page.select_option("#analysis-sample", LARGE_SAMPLE)
    page.get_by_role("button", name="Analyze").click()
    run = page.locator(".lc-run[data-lc-run-status='running']")
    expect(run).to_have_count(1, timeout=30_000)
    return run


def distinct_values(read: Callable[[], str], count: int, timeout: float = 30.0) -> list[str]:
    """Read a value until ``count`` different non-empty ones were seen; return them in order."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while len(seen) < count:
        value = read()
        if value and value not in seen:
            seen.append(value)
        if time.monotonic() > deadline:
            raise AssertionError(f"Saw only {seen} within {timeout} s; expected {count} different values.")
        time.sleep(0.1)
    return seen


def log_in_admin(page: Any, demo: DemoProcess) -> None:
    username, password = demo.admin_credentials()
    page.goto(demo.url + "/admin/login/?next=" + CHANGELIST)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#changelist")).to_be_visible()


def test_run_list_progress_moves(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    run = start_large_analysis(page, demo)
    fill = run.locator(".lc-run-fill")

    widths = distinct_values(lambda: str(fill.evaluate("element => element.style.width")), 2)
    assert all(width.endswith("%") for width in widths), widths
    expect(run.locator("[data-lc-run-field='message']")).to_contain_text("rows read")
    expect(run.locator("[data-lc-run-field='elapsed']")).to_contain_text("Elapsed 0:")
    expect(run.locator("[data-lc-run-field='left']")).to_contain_text("left")
    screenshot(page)
    run.locator(".lc-run-cancel").click()
    expect(page.locator(".lc-run")).to_have_count(0, timeout=15_000)


def test_cancel_from_run_list(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    run = start_large_analysis(page, demo)
    expect(run.locator("[data-lc-run-field='message']")).to_contain_text("rows read", timeout=30_000)

    run.locator(".lc-run-cancel").click()

    wait_for_toasts(page, [f"Analysis of {LARGE_SAMPLE}.csv cancelled."])
    expect(state_text(page, "analysis_outcome")).to_have_text("The analysis was cancelled.")
    expect(page.locator(".lc-run")).to_have_count(0)
    expect(page.locator("[data-lc-runs-empty]")).to_be_visible()
    screenshot(page)


def test_admin_cancel_action(demo: DemoProcess, context: Any, screenshot: Callable[..., Any]) -> None:
    page = context.new_page()
    run = start_large_analysis(page, demo)
    record_id = run.get_attribute("data-lc-run-id")

    admin_context = context.browser.new_context(viewport={"width": 1920, "height": 1000})
    try:
        admin = admin_context.new_page()
        log_in_admin(admin, demo)
        admin.goto(demo.url + CHANGELIST)
        admin.locator(f"input.action-select[value='{record_id}']").check()
        admin.select_option("select[name='action']", "cancel_selected")
        admin.locator("#changelist-form button[name='index']").click()
        expect(admin.locator(".messagelist")).to_contain_text("Cancelled 1 long callback")
        expect(admin.locator(f".lc-progress[data-lc-record='{record_id}']").locator("xpath=ancestor::tr").locator(".lc-badge")).to_have_text("cancelled")
        screenshot(admin, "admin")
    finally:
        admin_context.close()

    wait_for_toasts(page, [f"Analysis of {LARGE_SAMPLE}.csv cancelled."])
    expect(state_text(page, "analysis_outcome")).to_have_text("The analysis was cancelled.")
    expect(page.locator(".lc-run")).to_have_count(0)
    screenshot(page, "page")


def test_admin_progress_updates_live(demo: DemoProcess, context: Any, screenshot: Callable[..., Any]) -> None:
    page = context.new_page()
    run = start_large_analysis(page, demo)
    record_id = run.get_attribute("data-lc-run-id")

    admin_context = context.browser.new_context(viewport={"width": 1920, "height": 1000})
    try:
        admin = admin_context.new_page()
        log_in_admin(admin, demo)
        admin.goto(demo.url + CHANGELIST)
        label = admin.locator(f".lc-progress[data-lc-record='{record_id}'] .lc-progress-label")
        admin.evaluate("window.__loaded = true")

        values = distinct_values(lambda: str(label.text_content() or "").strip(), 2)
        assert admin.evaluate("window.__loaded === true"), "the changelist was reloaded"
        assert all("rows read" in value for value in values), values
        screenshot(admin)
    finally:
        admin_context.close()
    run.locator(".lc-run-cancel").click()
    expect(page.locator(".lc-run")).to_have_count(0, timeout=15_000)


def test_button_disabled_while_running(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/pi/")
    button = page.get_by_role("button", name="Approximate")
    expect(button).to_be_enabled()

    page.fill("#pi-iterations", "60000000")
    button.click()
    expect(button).to_be_disabled(timeout=10_000)
    expect(page.locator(".lc-run")).to_have_count(1)

    # A reload renders the button disabled from the database.
    open_live(page, demo.url + "/examples/pi/")
    expect(button).to_be_disabled()
    expect(page.locator(".lc-run-fill")).not_to_have_attribute("style", "width: 0.0%", timeout=15_000)
    screenshot(page)

    expect(state_text(page, "pi_elapsed")).to_contain_text("Finished in", timeout=60_000)
    expect(button).to_be_enabled()
    expect(page.locator(".lc-run")).to_have_count(0)
