"""Lines the fault tests want shown at the end of the pytest run (see conftest)."""

from __future__ import annotations

LINES: list[str] = []


def add(line: str) -> None:
    LINES.append(line)
