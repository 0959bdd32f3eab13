"""Optional dependencies in tests: skip with a clear message, but fail under CI, where all must run."""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest


def missing(message: str) -> None:
    """Skip the test, saying what is missing; under ``CI=true`` fail it instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI must run every test)")
    pytest.skip(message)


def need(module: str) -> ModuleType:
    """Import an optional dependency or skip/fail: ``need("datasette")``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(f"{module} is not installed: pip install -e '.[test]'")
        raise  # not reached: missing() always raises


def need_chromium() -> str:
    """The path of Debian's chromium, or skip/fail naming the script that installs it."""
    path = shutil.which("chromium")
    if path is None:
        missing("chromium is not installed: run .ci/install-browser "
                "(apt-get install -y --no-install-recommends chromium)")
    return str(path)


def need_tool(command: str, package: str) -> str:
    """The path of a Debian tool the tests run, or skip/fail naming the package to install."""
    path = shutil.which(command) or shutil.which(command, path="/usr/sbin:/usr/local/sbin")
    if path is None:
        missing(f"{command} is not installed: run .ci/install-deps "
                f"(apt-get install -y --no-install-recommends {package})")
    return str(path)
