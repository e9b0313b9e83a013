"""Shared by the packaging tests: finding a system tool, skipping without it except on CI."""

from __future__ import annotations

import os
import shutil

import pytest

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def tool(name: str, package: str) -> str:
    """The path of ``name``; skip the test without it, except under CI=true where it must exist."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install {package})"
        if ON_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return path
