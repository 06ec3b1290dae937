"""Keep the reference pages under docs/ in step with the code they describe."""

from __future__ import annotations

import re
from pathlib import Path

import longcallbacks
from longcallbacks.conf import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHECK_ID = re.compile(r"longcallbacks\.[EW]\d{3}")


def test_settings_page_lists_every_default() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", text, re.MULTILINE))
    missing = sorted(set(DEFAULTS) - rows)
    assert not missing, (
        f"docs/settings.md has no table row for these LONGCALLBACKS keys: {missing}"
    )


def test_settings_page_lists_no_unknown_key() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    section = text.split("## LONGCALLBACKS", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", section, re.MULTILINE))
    unknown = sorted(rows - set(DEFAULTS))
    assert not unknown, (
        f"docs/settings.md documents keys that longcallbacks.conf.DEFAULTS lacks: {unknown}"
    )


def test_checks_page_has_every_check_id() -> None:
    used = set(
        CHECK_ID.findall(
            (ROOT / "longcallbacks" / "checks.py").read_text(encoding="utf-8")
        )
    )
    headings = set(
        re.findall(
            r"^## (longcallbacks\.[EW]\d{3})$",
            (DOCS / "checks.md").read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    )
    assert used, (
        "no check ids found in longcallbacks/checks.py; the pattern in this test is out of date"
    )
    missing = sorted(used - headings)
    assert not missing, (
        f"docs/checks.md has no '## <id>' section for these check ids: {missing}"
    )


def test_checks_page_has_no_stale_id() -> None:
    used = set(
        CHECK_ID.findall(
            (ROOT / "longcallbacks" / "checks.py").read_text(encoding="utf-8")
        )
    )
    headings = set(
        re.findall(
            r"^## (longcallbacks\.[EW]\d{3})$",
            (DOCS / "checks.md").read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    )
    stale = sorted(headings - used)
    assert not stale, (
        f"docs/checks.md documents check ids that longcallbacks/checks.py no longer uses: {stale}"
    )


def test_api_page_covers_public_names() -> None:
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    documented = set(
        re.findall(r"^\.\. auto\w+:: longcallbacks\.(\w+)$", text, re.MULTILINE)
    )
    missing = sorted(set(longcallbacks.__all__) - documented)
    assert not missing, (
        f"docs/api.rst has no autodoc directive for these names of longcallbacks.__all__: {missing}"
    )
