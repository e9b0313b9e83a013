"""Evaluation kinds and the words every screen and document uses for them.

The kinds are stored as ids (``initial``, ``re_evaluation``, ``discharge``); the window, the
patient's history and both reports show them with these labels, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "initial": "Initial evaluation",
        "re_evaluation": "Re-evaluation",
        "discharge": "Discharge evaluation",
    }
)


def kind_label(kind: str) -> str:
    """The label of an evaluation kind; an unknown kind (a newer database) shows as stored."""
    return KIND_LABELS.get(kind, kind)
