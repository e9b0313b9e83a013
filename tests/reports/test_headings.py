"""A labelled text block (the Assessment, Plan and Goals of a progress report or visit note)
never leaves its label as the last line of a page with its text on the next.

The demo's progress report printed the "Goals" label of its Plan as the last line of page 3 and
the goal itself alone on page 4.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from pypdf import PdfReader
from reportlab.platypus import Flowable, Spacer

from clinic_app.reports import layout
from clinic_app.reports.visit_note import text_block

DECOR = layout.PageDecor(footer_left="Test patient", header_right="Test document")
TEXT = "Run the city half-marathon in twelve weeks."
STYLES = layout.make_styles(10)
FRAME = layout.page_size("A4")[1] - 2 * layout.MARGIN


def _pages(make_story: Callable[[float], list[Flowable]]) -> list[str]:
    out = io.BytesIO()
    layout.build_document(out, "A4", DECOR, make_story, title="t", author="a", subject="s")
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(out.getvalue())).pages]


def _left(lines: float) -> float:
    """A spacer leaving room for the label and ``lines`` lines of body text below it."""
    h2, body = STYLES["h2"], STYLES["body"]
    return FRAME - (h2.spaceBefore + h2.leading + h2.spaceAfter + lines * body.leading)


def _story(room_in_lines: float, text: str) -> Callable[[float], list[Flowable]]:
    def story(width: float) -> list[Flowable]:
        return [Spacer(width, _left(room_in_lines)), *text_block("Goals", text, STYLES)]

    return story


def test_a_label_with_no_room_for_its_text_goes_to_the_next_page_with_it() -> None:
    pages = _pages(_story(0.5, TEXT))  # the label fits, its first line does not
    assert [("Goals" in p, TEXT in p) for p in pages] == [(False, False), (True, True)]


def test_a_label_with_room_for_its_text_stays() -> None:
    pages = _pages(_story(3, TEXT))
    assert len(pages) == 1
    assert "Goals" in pages[0]
    assert TEXT in pages[0]


def test_a_long_text_starts_under_its_label_and_runs_on() -> None:
    """No gap: with room for the label and a few lines, the text starts on the same page."""
    lines = "\n".join(f"Line {n} of the plan." for n in range(1, 80))
    pages = _pages(_story(4, lines))
    assert "Goals" in pages[0]
    assert "Line 1 of the plan." in pages[0]
    assert "Line 79 of the plan." in pages[-1]
    assert len(pages) == 3
