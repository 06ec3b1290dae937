"""Run the browser client's unit test with Node.js, when Node.js is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TEST_FILE = Path(__file__).resolve().parent / "js" / "client_test.js"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js (node) is not on PATH")
def test_client_js() -> None:
    completed = subprocess.run(["node", str(TEST_FILE)], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "all checks passed" in completed.stdout
