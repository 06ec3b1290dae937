"""The CSV analysis page: a real public CSV, bad files and cancelling, in the distributed demo."""

from __future__ import annotations

import csv
import statistics
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_live, state_text, wait_for_toasts
from tests.browser.demo_process import DemoProcess

PENGUINS = Path(str(resources.files("palmerpenguins").joinpath("data", "penguins.csv")))
NUMERIC_COLUMNS = (
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "year",
)


def expected_penguin_statistics() -> tuple[int, dict[str, int], dict[str, str]]:
    """Compute the row count, missing counts and means of penguins.csv with the csv module."""
    with PENGUINS.open(newline="") as file:
        rows = list(csv.DictReader(file))
    missing = {name: sum(1 for row in rows if row[name] == "NA") for name in rows[0]}
    means = {
        name: f"{statistics.fmean(float(row[name]) for row in rows if row[name] != 'NA'):.2f}"
        for name in NUMERIC_COLUMNS
    }
    return len(rows), missing, means


def cell(page: Any, column: str, statistic: str) -> Any:
    return page.locator(f"table.stats tr[data-column='{column}'] [data-stat='{statistic}']")


def test_penguins_csv_statistics(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    row_count, missing, means = expected_penguin_statistics()
    open_live(page, demo.url + "/analysis/")

    page.set_input_files("#analysis-file", str(PENGUINS))
    page.get_by_role("button", name="Analyze").click()

    expect(page.locator("table.stats")).to_be_visible(timeout=30_000)
    wait_for_toasts(
        page,
        [
            "Analysis of penguins.csv started.",
            f"Analysis of penguins.csv finished: {row_count} rows.",
        ],
    )
    expect(state_text(page, "analysis_outcome")).to_have_text(f"penguins.csv: {row_count} rows and 8 columns.")
    expect(page.locator(".facts")).to_contain_text(f"{row_count} rows")
    for column, count in missing.items():
        expect(cell(page, column, "missing")).to_contain_text(str(count))
    for column, mean in means.items():
        expect(cell(page, column, "mean")).to_have_text(mean)
    expect(page.locator("table.stats tr[data-column='body_mass_g'] svg.histogram rect")).to_have_count(10)
    screenshot(page)


BAD_FILES = [
    pytest.param(
        "ragged.csv",
        b"name,size\nfirst,1\nsecond,2,extra\n",
        "error",
        "Line 3 has 3 fields",
        id="ragged",
    ),
    pytest.param("empty.csv", b"", "error", "empty", id="empty"),
    pytest.param(
        "latin.csv",
        b"\xef\xbb\xbfname,size\nfirst,\xff\xfe\n",
        "error",
        "are not valid",
        id="undecodable",
    ),
    pytest.param(
        "image.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        "error",
        "not",
        id="binary",
    ),
]


@pytest.mark.parametrize(("file_name", "content", "ragged", "message"), BAD_FILES)
def test_bad_file_shows_error(
    demo: DemoProcess,
    page: Any,
    screenshot: Callable[..., Any],
    tmp_path: Path,
    file_name: str,
    content: bytes,
    ragged: str,
    message: str,
) -> None:
    path = tmp_path / file_name
    path.write_bytes(content)
    open_live(page, demo.url + "/analysis/")

    page.set_input_files("#analysis-file", str(path))
    page.check(f"input[name='ragged'][value='{ragged}']")
    page.get_by_role("button", name="Analyze").click()

    outcome = state_text(page, "analysis_outcome")
    expect(outcome).to_contain_text(message, timeout=30_000)
    seen = wait_for_toasts(page, [f"Analysis of {file_name} started."])
    errors = page.locator(".lc-toast-error")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text(f"{file_name}: ")
    expect(errors).to_contain_text(message)
    expect(page.locator("table.stats")).to_have_count(0)
    screenshot(page)
    assert not any("finished" in text for text in seen), seen


def test_ragged_rows_skipped_and_counted(
    demo: DemoProcess, page: Any, screenshot: Callable[..., Any], tmp_path: Path
) -> None:
    path = tmp_path / "ragged.csv"
    path.write_bytes(b"name,size\nfirst,1\nsecond,2,extra\nthird,3\n")
    open_live(page, demo.url + "/analysis/")

    page.set_input_files("#analysis-file", str(path))
    page.check("input[name='ragged'][value='skip']")
    page.get_by_role("button", name="Analyze").click()

    expect(state_text(page, "analysis_outcome")).to_have_text(
        "ragged.csv: 2 rows and 2 columns, 1 ragged rows skipped.", timeout=30_000
    )
    expect(cell(page, "size", "mean")).to_have_text("2.00")
    screenshot(page)


def test_upload_over_limit_rejected(
    demo: DemoProcess, page: Any, screenshot: Callable[..., Any], tmp_path: Path
) -> None:
    limit = int(demo.environment["DEMO_ANALYSIS_MAX_BYTES"])
    path = tmp_path / "large.csv"
    path.write_bytes(b"value\n" + b"12345\n" * (limit // 6 + 10))
    open_live(page, demo.url + "/analysis/")

    page.set_input_files("#analysis-file", str(path))
    page.get_by_role("button", name="Analyze").click()

    wait_for_toasts(
        page,
        [f"The file is larger than the limit of {limit:,} bytes. Choose a smaller file."],
    )
    expect(state_text(page, "analysis_file")).to_have_text("No file analysed yet.")
    screenshot(page)


def test_cancel_large_sample(demo: DemoProcess, page: Any, screenshot: Callable[..., Any]) -> None:
    open_live(page, demo.url + "/analysis/")

    page.select_option("#analysis-sample", "sensor-readings")
    page.get_by_role("button", name="Analyze").click()
    expect(state_text(page, "analysis_progress")).to_contain_text("rows read", timeout=30_000)
    expect(page.locator("progress.progress")).to_be_visible()
    screenshot(page, "running")

    page.get_by_role("button", name="Cancel analysis").click()

    wait_for_toasts(
        page,
        [
            "Analysis of sensor-readings.csv started.",
            "Analysis of sensor-readings.csv cancelled.",
        ],
    )
    expect(state_text(page, "analysis_outcome")).to_have_text("The analysis was cancelled.")
    expect(page.locator("table.stats")).to_have_count(0)
    screenshot(page, "cancelled")
