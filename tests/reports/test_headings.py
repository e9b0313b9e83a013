"""A labelled text block (the Assessment, Plan and Goals of a progress report or visit note)
never leaves its label as the last line of a page with its text on the next.

The demo's progress report printed the "Goals" label of its Plan as the last line of page 3 and
the goal itself alone on page 4.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PageObject, PdfReader
from reportlab.platypus import Flowable, Spacer

from clinic_app.cli import main
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


def _lines(page: PageObject, top: float) -> list[tuple[float, str, str, float]]:
    """(baseline y, text, font name, size in points) of each text run in the body frame."""
    runs: list[tuple[float, str, str, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        words = " ".join(text.split())
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if words and layout.MARGIN < y < top - layout.MARGIN:
            name = str(font.get("/BaseFont")) if font else ""
            runs.append((y, words, name, round(size * (tm[3] or 1) * (cm[3] or 1), 1)))

    page.extract_text(visitor_text=visit)
    return [r for r in runs if r[3] < 40]  # not the DRAFT / SEAL BROKEN watermark


def orphan_headings(path: Path) -> list[str]:
    """Pages (all but the last) whose lowest line of body text is a heading: bold and larger
    than the document's commonest text size (its body text)."""
    reader = PdfReader(path)
    top = float(reader.pages[0].mediabox.top)
    pages = [_lines(page, top) for page in reader.pages]
    usual = Counter(r[3] for lines in pages for r in lines).most_common(1)[0][0]
    found: list[str] = []
    for n, body in enumerate(pages[:-1], 1):
        if not body:
            continue
        _y, words, name, size = min(body)
        if "Bold" in name and size > usual * 1.05:
            found.append(f"{path.name} page {n} ends with {words!r}")
    return found


def test_no_demo_document_ends_a_page_with_a_heading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every document of the demo: clinician reports, handouts, progress reports and visit
    notes. Before,
    "Patterns (what the pain may be)", "Assessment and plan", "Assessment" and the Plan's
    "Goals" each ended a page of one of them."""
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLINIC_APP_ENCRYPTION", "off")
    monkeypatch.delenv("CLINIC_APP_DATABASE_URL", raising=False)
    assert main(["demo"]) == 0
    capsys.readouterr()
    assert main(["list", "patients", "--json"]) == 0
    patients = [p["id"] for p in json.loads(capsys.readouterr().out)]
    documents: list[tuple[int, str]] = []
    for patient in patients:
        for what, kinds in (
            ("evaluations", ("clinician", "handout")),
            ("episodes", ("progress",)),
            ("visits", ("visit",)),
        ):
            assert main(["list", what, "--patient", str(patient), "--json"]) == 0
            ids = [row["id"] for row in json.loads(capsys.readouterr().out)]
            documents += [(i, kind) for i in ids for kind in kinds]
    assert {kind for _i, kind in documents} == {"clinician", "handout", "progress", "visit"}
    problems: list[str] = []
    for record, kind in documents:
        out = tmp_path / f"{kind}-{record}.pdf"
        assert main(["report", str(record), "--kind", kind, "-o", str(out)]) == 0, (record, kind)
        problems += orphan_headings(out)
    assert problems == []
