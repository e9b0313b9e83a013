"""The README's install commands, the package lists and .ci/run say the same thing.

One package list per purpose (scripts/apt-packages.txt for the app, apt-packages-test.txt for
the tests), read by both the README's commands and .ci/run; the README's test command is the one
CI runs; no bare ``sudo`` (a root shell or a minimal image has none).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
TEST_COMMAND = ".venv/bin/python -m pytest"


def _setup_section() -> str:
    start = README.index("## Set up on a fresh machine")
    return README[start : README.index("\n## ", start + 1)]


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", _setup_section(), re.S)


@pytest.mark.parametrize("name", ["apt-packages.txt", "apt-packages-test.txt"])
def test_package_lists_are_read_by_readme_and_ci(name: str) -> None:
    lines = (ROOT / "scripts" / name).read_text(encoding="utf-8").splitlines()
    assert lines
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", line) for line in lines), lines
    assert f"xargs -a scripts/{name}" in "".join(_commands())
    assert f"scripts/{name}" in CI_RUN


def test_readme_test_command_is_what_ci_runs() -> None:
    assert any(command.strip().endswith(TEST_COMMAND) for command in _commands())
    assert re.search(rf"^{re.escape(TEST_COMMAND)}$", CI_RUN, re.M)


def test_no_bare_sudo() -> None:
    for command in _commands():
        bare = re.sub(r"\$\(command -v sudo\)", "", command)
        assert not re.search(r"\bsudo\b", bare), command


def test_apt_get_update_comes_first_and_the_repository_is_cloned() -> None:
    first = _commands()[0]
    assert first.index("apt-get update") < first.index("apt-get install")
    assert "git clone" in first
    assert "cd clinic_app" in first
