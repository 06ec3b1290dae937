"""The example pages of the demo, driven in Chromium against the distributed demo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import (
    open_live,
    state_text,
    toasts,
    wait_for_toasts,
    wait_for_values,
)
from tests.browser.demo_process import DemoProcess

EXAMPLE_PAGES = {
    "/examples/basic/": "Basic long callback",
    "/examples/status/": "Status function",
    "/examples/periodic/": "Periodic status",
    "/examples/trigger-update/": "Updates from the worker",
    "/examples/manual-thread/": "Manual thread",
    "/examples/result/": "Returned value",
    "/examples/pi/": "Approximating pi",
    "/analysis/": "CSV analysis",
}


def test_index_links_every_page(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/")
    expect(page.locator(".site-header .mode")).to_have_text("distributed mode")
    screenshot(page)

    for path, heading in EXAMPLE_PAGES.items():
        page.goto(demo.url + "/")
        page.locator(f".card-list a[href='{path}']").click()
        page.wait_for_url(demo.url + path)
        expect(page.locator("h1")).to_have_text(heading)
        expect(page.locator("[data-lc-status]")).to_have_attribute("data-state", "live")


def test_basic_start_task_toast(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/basic/")

    page.get_by_role("button", name="Start Task").click()

    wait_for_toasts(page, ["Heavy task started..."])
    screenshot(page)


def test_status_success_then_failure(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/status/")
    expect(state_text(page, "status_outcome")).to_have_text("No task has run yet.")

    page.get_by_role("button", name="Start Task", exact=True).click()
    wait_for_toasts(page, ["Heavy task started...", "Task completed successfully!"])
    expect(state_text(page, "status_outcome")).to_have_text("The last task completed successfully.")

    page.get_by_role("button", name="Start Failing Task").click()
    seen = wait_for_toasts(
        page,
        [
            "Heavy task started...",
            "Task completed successfully!",
            "Heavy task started...",
            "Task failed.",
        ],
    )
    expect(state_text(page, "status_outcome")).to_have_text("The last task failed.")
    screenshot(page)
    assert seen.count("Task failed.") == 1, seen


def test_periodic_counts_then_completion(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/periodic/")

    page.get_by_role("button", name="Start Task").click()

    seen = wait_for_toasts(
        page,
        [
            "Heavy task started...",
            "Task is still running... 0s elapsed",
            "Task completed successfully!",
        ],
    )
    screenshot(page)
    periodic = [text for text in seen if text.startswith("Task is still running...")]
    assert periodic == [f"Task is still running... {count}s elapsed" for count in range(len(periodic))], seen
    assert seen[-1] == "Task completed successfully!", seen
    expect(state_text(page, "periodic_progress")).to_have_text("Finished.")


def test_trigger_update_logs_then_result(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/trigger-update/")
    logs = state_text(page, "logs")
    result = state_text(page, "result")
    expect(result).to_have_text("No response yet")

    page.get_by_role("button", name="Respond").click()

    # Each stage appends a line, then the status function clears the logs and sets the result.
    wait_for_values(
        page,
        "logs",
        [
            "",
            "Searching documents\n",
            "Searching documents\nResponding to user\n",
            "Searching documents\nResponding to user\nFact Checking\n",
            "",
        ],
    )
    expect(result).to_have_text("Here is the answer")
    expect(logs).to_have_text("")
    expect(page.locator("h2", has_text="Result")).to_be_visible()
    screenshot(page)


def test_manual_thread_completion_toast(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/manual-thread/")

    page.get_by_role("button", name="Start Task").click()

    wait_for_toasts(page, ["Heavy task started...", "Heavy task completed!"])
    screenshot(page)


def test_result_page_shows_return_value(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/result/")
    value = state_text(page, "heavy_result")
    expect(value).to_have_text("No result yet")

    page.get_by_role("button", name="Start Task").click()

    # 1² + 2² + ... + n² = n(n + 1)(2n + 1) / 6 for n = 1,000,000.
    expected = 1_000_000 * 1_000_001 * 2_000_001 // 6
    expect(value).to_have_text(f"{expected:,}")
    screenshot(page)


def test_pi_value_and_chart(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/pi/")

    page.fill("#pi-iterations", "2000000")
    page.get_by_role("button", name="Approximate").click()

    expect(state_text(page, "pi_elapsed")).to_contain_text("Finished in", timeout=30_000)
    expect(state_text(page, "pi_value")).to_contain_text("3.141592")
    expect(state_text(page, "pi_value")).to_contain_text("after 2,000,000 iterations")
    expect(page.locator(".chart polyline.chart-line")).to_have_count(1)
    wait_for_toasts(page, ["Heavy task started...", "Task completed successfully!"])
    screenshot(page)


def test_pi_rejects_invalid_iterations(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/pi/")

    # The browser's own check (min="1") stops the form first.
    page.fill("#pi-iterations", "0")
    page.get_by_role("button", name="Approximate").click()
    assert page.eval_on_selector("#pi-iterations", "input => !input.validity.valid")

    # The action checks again, for clients that skip the browser's validation.
    page.eval_on_selector("#pi-form", "form => { form.noValidate = true; }")
    page.get_by_role("button", name="Approximate").click()
    wait_for_toasts(page, ["Enter a whole number of iterations from 1 to 300,000,000."])
    screenshot(page)
    expect(state_text(page, "pi_elapsed")).to_have_text("Not started")
    assert "Heavy task started..." not in toasts(page)


def test_reload_mid_task_keeps_state(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/examples/pi/")
    elapsed = state_text(page, "pi_elapsed")

    # About 7 s on the 2-core VM these tests were written on (90 ns per iteration), so the
    # run is still going after the reload even on a machine several times faster.
    page.fill("#pi-iterations", "80000000")
    page.get_by_role("button", name="Approximate").click()
    expect(elapsed).to_have_text("1 s elapsed", timeout=20_000)

    page.reload()
    page.wait_for_selector("[data-lc-status][data-state='live']")
    expect(state_text(page, "pi_value")).to_have_text("Computing...")
    expect(elapsed).to_contain_text("s elapsed")
    screenshot(page, "during")

    expect(elapsed).to_contain_text("Finished in", timeout=60_000)
    expect(state_text(page, "pi_value")).to_contain_text("after 80,000,000 iterations")
    wait_for_toasts(page, ["Task completed successfully!"])
    screenshot(page, "after")


def test_two_tabs_both_update(demo: DemoProcess, context: Any, screenshot: Callable[..., Any]) -> None:
    first = context.new_page()
    second = context.new_page()
    open_live(first, demo.url + "/examples/status/")
    open_live(second, demo.url + "/examples/status/")

    first.get_by_role("button", name="Start Task", exact=True).click()

    for tab in (first, second):
        wait_for_toasts(tab, ["Heavy task started...", "Task completed successfully!"])
        expect(state_text(tab, "status_outcome")).to_have_text("The last task completed successfully.")
    screenshot(second)
    assert toasts(first).count("Task completed successfully!") == 1
    assert toasts(second).count("Task completed successfully!") == 1
