"""Build the wheel and use it from a fresh virtual environment, as a user would."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]


def test_wheel_installs_and_works(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], check=True)
    [wheel] = dist.glob("django_longcallbacks-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "longcallbacks"
    data_files = [
        path
        for folder in ("static", "templates", "migrations", "locale")
        for path in (package / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert any(path.suffix == ".js" for path in data_files)
    for path in [*data_files, package / "py.typed", package / "templatetags" / "longcallbacks.py"]:
        assert str(path.relative_to(ROOT)) in names, path
    assert not any(name.startswith(("tests/", "demo/", "demo_project/")) for name in names)

    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    result = subprocess.run(
        [str(python), str(ROOT / "tests" / "package_check" / "smoke.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wheel smoke test passed" in result.stdout
    assert str(environment) in result.stdout
