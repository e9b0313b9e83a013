"""The patient's one-question-at-a-time screen on a short window: every word of the
instructions and the question readable, the answer field, the answers and the buttons reachable,
at 533 and 500 px high, 800 and 1024 px wide, at 100 % and at 200 % (a child process: the scale
factor is fixed when Qt starts).

A label is readable when it got the height its text needs at its width (``heightForWidth``) and
all of it lies inside the window, or inside a scroll area whose range reaches all of it.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QLabel,
    QLineEdit,
    QStyle,
    QWidget,
)

from clinic_app.core.form import load_form
from clinic_app.core.responses import questionnaire_of
from clinic_app.ui.screenshots import layout_problems
from clinic_app.ui.self_entry import SelfEntryWindow
from tests.ui.scaled import run_scaled

ROOT = Path(__file__).resolve().parents[2]
SIZES = [(800, 533), (1024, 533), (800, 500), (1024, 500)]
# (questionnaire, item index): the first PSFS item (activity field and instructions), a later
# PSFS item, the first LEFS item (instructions and five answers) and a later one.
CASES = [("psfs", 0), ("psfs", 3), ("lefs", 0), ("lefs", 12)]


def _unreachable(w: QWidget, top: QWidget) -> str | None:
    """Why a person cannot see all of ``w`` in ``top`` (scrolling where it sits in a scroll
    area), or None."""
    child = w
    while child is not top:
        parent = child.parentWidget()
        assert parent is not None
        grand = parent.parentWidget()
        if isinstance(grand, QAbstractScrollArea) and grand.viewport() is parent:
            # The scrolled content: all of it must be within the bars' range.
            bar, side = grand.verticalScrollBar(), grand.horizontalScrollBar()
            if child.height() > parent.height() + bar.maximum() + 1:
                return f"{child.height()} px of content, the scroll area reaches {bar.maximum()}"
            if child.width() > parent.width() + side.maximum() + 1:
                return f"content {child.width()} px wide in a view of {parent.width()}"
            child = grand
            continue
        box = QRect(child.mapTo(parent, QPoint(0, 0)), child.size())
        if not parent.rect().contains(box):
            return f"{box.getRect()} outside {type(parent).__name__} {parent.rect().getRect()}"
        child = parent
    return None


def problems(window: SelfEntryWindow) -> list[str]:
    """What a patient could not read or reach on the pager as laid out now."""
    pager = window.pager
    out = [f"layout: {p}" for p in layout_problems(window)]
    labels: list[QWidget] = [pager.instructions, pager.question, pager.anchors]
    reach: list[QWidget] = [*labels, pager.activity, *pager.buttons, pager.stop_button]
    for w in reach:
        if not w.isVisibleTo(window):
            continue
        name = w.objectName()
        if isinstance(w, QLabel):
            needed = w.heightForWidth(w.width())
            if w.height() + 1 < needed:
                out.append(f"{name}: needs {needed} px high, has {w.height()}")
        elif w.height() + 1 < w.minimumSizeHint().height():
            out.append(f"{name}: squashed to {w.height()} px of {w.minimumSizeHint().height()}")
        if isinstance(w, QLineEdit) and w.placeholderText():
            frame = w.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth)
            room = w.contentsRect().width() - 2 * frame - 4
            needed = w.fontMetrics().horizontalAdvance(w.placeholderText())
            if needed > room:
                out.append(f"{name}: its hint needs {needed} px, has {room}")
        why = _unreachable(w, window)
        if why is not None:
            out.append(f"{name}: {why}")
    return out


def windows() -> dict[str, SelfEntryWindow]:
    form = load_form(ROOT / "forms" / "hamstring_whole_body.yaml")
    items = {i.questionnaire: i for i in form.items.values() if getattr(i, "questionnaire", None)}
    return {
        qid: SelfEntryWindow(
            questionnaire_of(qid),
            items[qid],
            language="en",
            first_name="Anna",
            clinician_login="dana",
            clinician_name="Dana Reyes",
            authenticate=lambda _l, _p: None,  # type: ignore[arg-type,return-value]
        )
        for qid in ("psfs", "lefs")
    }


def measure(window: SelfEntryWindow, index: int, size: tuple[int, int]) -> list[str]:
    """Show item ``index`` at ``size``; what is wrong (the size refused is a problem too)."""
    window.pager.show_item(index)
    window.resize(*size)
    for _ in range(4):
        QApplication.processEvents()
    got = (window.width(), window.height())
    out = [] if got == size else [f"the window is {got}, not {size}"]
    return out + problems(window)


@pytest.fixture(scope="module")
def shown(qapp) -> dict[str, SelfEntryWindow]:
    made = windows()
    for w in made.values():
        w.show()
    yield made
    for w in made.values():
        w.close()
        w.deleteLater()


@pytest.mark.parametrize("case", CASES, ids=[f"{q}{i}" for q, i in CASES])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_question_and_its_answers_fit_a_short_window(shown, case, size, tmp_path) -> None:
    qid, index = case
    window = shown[qid]
    found = measure(window, index, size)
    window.grab().save(str(tmp_path / f"{qid}{index}_{size[0]}x{size[1]}.png"))
    assert found == []


def test_the_first_psfs_item_shows_the_instructions_whole_at_500(shown) -> None:
    window = shown["psfs"]
    assert measure(window, 0, (1024, 500)) == []
    pager = window.pager
    assert pager.instructions.text().startswith("Hello Anna. Name up to five activities")
    assert pager.instructions.height() >= pager.instructions.heightForWidth(
        pager.instructions.width()
    )
    assert pager.activity.isVisibleTo(window)


def test_the_window_can_be_as_small_as_800x500(shown) -> None:
    for window in shown.values():
        for index in (0, 1):
            window.pager.show_item(index)
            QApplication.processEvents()
            hint = window.minimumSizeHint()
            assert hint.width() <= 800
            assert hint.height() <= 500


CHILD = """
import json, sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from tests.ui.test_answer_pager_short import CASES, SIZES, measure, windows
made = windows()
out = {}
for w in made.values():
    w.show()
for qid, index in CASES:
    for size in SIZES:
        found = measure(made[qid], index, size)
        made[qid].grab().save(f"{sys.argv[1]}/{qid}{index}_{size[0]}x{size[1]}.png")
        out[f"{qid}{index} {size[0]}x{size[1]}"] = found
out["ratio"] = made["psfs"].devicePixelRatioF()
print(json.dumps(out))
"""


@functools.cache
def _at_200() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="clinic_pager_") as folder:
        tmp = Path(folder)
        return run_scaled(CHILD, [tmp], scale="2", folder=tmp, screen=(1200, 800))


def test_nothing_is_cut_or_out_of_reach_at_200_percent() -> None:
    out = dict(_at_200())
    assert out.pop("ratio") == 2.0
    assert {k: v for k, v in out.items() if v} == {}
