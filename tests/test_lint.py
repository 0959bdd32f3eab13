"""The lint step: ruff's rule set and mypy's type checks (pyproject.toml) hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def test_ruff_finds_nothing():
    # The ruff installed beside this interpreter (the project's venv), else one on PATH.
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
    process = subprocess.run([ruff, "check", "--no-cache", "intake_bot", "tests", "scripts",
                              "bench"], cwd=REPO, capture_output=True, text=True)
    assert process.returncode == 0, process.stdout + process.stderr


def test_mypy_finds_nothing():
    try:
        import mypy  # noqa: F401 - only whether it is installed
    except ImportError:
        pytest.skip("mypy is not installed (pip install -e '.[test]' installs it)")
    process = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=REPO,
                             capture_output=True, text=True)
    assert process.returncode == 0, process.stdout + process.stderr


def test_the_package_imports_without_the_optional_extras():
    """The core must not need Datasette or matplotlib (they are extras)."""
    code = ("import sys; sys.modules['datasette'] = None; sys.modules['matplotlib'] = None; "
            "import intake_bot.cli, intake_bot.pipeline, intake_bot.service")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
