"""Evaluation kinds: one set of labels for the screens and the documents."""

from __future__ import annotations

import pytest

from clinic_app.core.kinds import KIND_LABELS, kind_label


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("initial", "Initial evaluation"),
        ("re_evaluation", "Re-evaluation"),
        ("discharge", "Discharge evaluation"),
        ("follow_up", "follow_up"),  # a kind this version does not know shows as stored
    ],
)
def test_kind_labels(kind: str, label: str) -> None:
    assert kind_label(kind) == label


def test_screens_and_reports_share_the_one_copy() -> None:
    from clinic_app.reports import records
    from clinic_app.ui import text

    assert text.KIND_LABELS is KIND_LABELS
    assert records.kind_label is kind_label
    assert not hasattr(records, "KIND_LABELS")
