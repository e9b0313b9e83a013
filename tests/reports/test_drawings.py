"""The side-to-side bar chart: labels and notes wrap inside their column, rows grow to hold them."""

from __future__ import annotations

import re

import pytest
from reportlab.graphics.shapes import Drawing, Rect, String

from clinic_app.core.form import Form
from clinic_app.reports import build_clinician_report, fonts
from clinic_app.reports.drawings import (
    LEFT_COLOUR,
    RIGHT_COLOUR,
    BarRow,
    side_to_side_drawing,
)
from clinic_app.storage import demo
from tests.reports.conftest import MakeData, build_pdf

WIDTH = 480.0
LABEL_W = WIDTH * 0.34  # the text column, as drawn; labels start at x = 4
TOP, BOTTOM = 22.0, 4.0  # legend above the rows, margin below


def _row(label: str, note: str = "", flagged: bool = False) -> BarRow:
    return BarRow(label, 12.0, 9.0, "12 reps", "9 reps", flagged, note)


def _texts(d: Drawing, size: float) -> list[String]:
    """The label column's strings of one font size (8 pt labels, 6.5 pt notes)."""
    return [s for s in d.contents if isinstance(s, String) and s.x == 4 and s.fontSize == size]


def _bars(d: Drawing) -> list[Rect]:
    return [
        r
        for r in d.contents
        if isinstance(r, Rect)
        and r.x == LABEL_W
        and r.height == 9
        and r.fillColor in (LEFT_COLOUR, RIGHT_COLOUR)
    ]


def _zebra(d: Drawing) -> list[Rect]:
    return [r for r in d.contents if isinstance(r, Rect) and r.x == 0 and r.width == WIDTH]


def _assert_in_column(d: Drawing) -> None:
    for s in d.contents:
        if isinstance(s, String) and s.x == 4:
            wide = fonts.string_width(s.text, s.fontName, s.fontSize)
            assert wide <= LABEL_W - 14 + 1e-6, (s.text, wide)


def test_a_very_long_label_takes_three_lines_and_ends_with_an_ellipsis() -> None:
    fonts.register_fonts()
    label = " ".join(["Single-leg hamstring bridge (heel on 60 cm box)"] * 9)[:400]
    assert len(label) == 400
    d = side_to_side_drawing([_row(label, "right 33% weaker " * 12, flagged=True)], WIDTH)
    lines = [s.text for s in _texts(d, 8)]
    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert not any(line.endswith("…") for line in lines[:-1])
    assert " ".join(lines).startswith("Single-leg hamstring bridge (heel on 60 cm box) Single")
    notes = [s.text for s in _texts(d, 6.5)]
    assert len(notes) == 2
    assert notes[-1].endswith("…")
    _assert_in_column(d)
    # a word wider than the column breaks by characters, still inside it
    d = side_to_side_drawing([_row("Ischiocrural" * 12)], WIDTH)
    assert len(_texts(d, 8)) == 3
    _assert_in_column(d)


def test_rows_grow_with_their_text_and_keep_their_bars_inside() -> None:
    fonts.register_fonts()
    short = side_to_side_drawing([_row("Nordic hamstring force", "19% deficit")], WIDTH)
    (stripe,) = _zebra(short)
    assert stripe.height == 30
    assert short.height == TOP + 30 + BOTTOM
    assert [s.text for s in _texts(short, 8)] == ["Nordic hamstring force"]

    tall_label = "Hip extensor (glute max) strength measured prone with the knee bent to ninety"
    tall_note = "right one grade weaker (4 vs 5); retest after the warm-up and compare again"
    rows = [_row(tall_label, tall_note, flagged=True), _row("Slump test"), _row("Hop", "ok")]
    d = side_to_side_drawing(rows, WIDTH)
    labels, notes = _texts(d, 8), _texts(d, 6.5)
    assert len(labels) == 5
    assert len(notes) == 3
    _assert_in_column(d)
    first, third = _zebra(d)  # rows 1 and 3 are striped
    assert first.height > 30
    assert third.height == 30
    assert d.height == TOP + first.height + 30 + third.height + BOTTOM
    assert first.y + first.height == d.height - TOP
    bars = _bars(d)
    assert len(bars) == 6
    for stripe, pair in ((first, bars[0:2]), (third, bars[4:6])):
        low, high = stripe.y, stripe.y + stripe.height
        for bar in pair:
            assert low <= bar.y
            assert bar.y + bar.height <= high
        # the pair is centred in its row
        middle = (pair[0].y + pair[0].height + pair[1].y) / 2
        assert abs(middle - (low + high) / 2) < 0.01
    # the first row's label and note lines and its "▲" lie inside it, in reading order
    (flag,) = [s for s in d.contents if isinstance(s, String) and s.text == "▲"]
    own = [*labels[:3], *notes[:2], flag]
    for s in own:
        assert first.y < s.y < first.y + first.height - s.fontSize * 0.75, s.text
    ys = [s.y for s in own[:5]]
    assert ys == sorted(ys, reverse=True)
    assert " ".join(s.text for s in labels[:3]) == tall_label
    assert " ".join(s.text for s in notes[:2]) == tall_note


def test_a_cjk_label_wraps_by_characters() -> None:
    fonts.register_fonts()
    label = "股后肌群离心力量测试在单腿桥上进行并且比较左右两侧的差异以及疼痛反应和耐力变化"
    d = side_to_side_drawing([_row(label, "右侧较弱")], WIDTH)
    lines = [s.text for s in _texts(d, 8)]
    assert len(lines) >= 2
    assert "".join(lines).rstrip("…") in label
    assert lines[0] + lines[1] == label[: len(lines[0]) + len(lines[1])]
    _assert_in_column(d)


def test_the_demo_report_chart_cuts_no_label(form: Form, make_data: MakeData) -> None:
    findings = demo.demo_findings(form, demo.PATIENTS[0].visits[0][2])
    pdf = build_pdf(build_clinician_report, make_data(findings))
    text = pdf.text
    start = text.index("Each pair of bars is scaled")
    chart = text[start : text.index("Body chart", start)]
    assert "Hip extensor (glute max) strength" in chart
    assert "…" not in chart
    flat = re.sub(r"\s+", " ", chart)
    for label in (
        "Hip extensor (glute max) strength (MMT)",
        "Single-leg hamstring bridge (heel on 60 cm box)",
    ):
        assert label in flat, label


def test_a_long_chart_of_tall_rows_is_split_into_drawings_that_fit_a_page(
    form: Form, make_data: MakeData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty rows of three label lines and two note lines: the report still builds (a drawing
    taller than the page's frame would stop reportlab), every drawing is at most as tall as 18
    one-line rows were, and every row is printed once, in order."""
    from clinic_app.reports import clinician

    rows = [
        _row(f"Measure {n:02d} " + "with a long descriptive name " * 4, "right weaker " * 12)
        for n in range(40)
    ]
    monkeypatch.setattr(clinician, "_bar_rows", lambda _form, _a: rows)
    drawn: list[Drawing] = []
    real = clinician.side_to_side_drawing

    def keep(chunk: list[BarRow], width: float) -> Drawing:
        d = real(chunk, width)
        drawn.append(d)
        return d

    monkeypatch.setattr(clinician, "side_to_side_drawing", keep)
    findings = demo.demo_findings(form, demo.PATIENTS[0].visits[0][2])
    pdf = build_pdf(build_clinician_report, make_data(findings))
    assert len(drawn) > 2
    assert all(d.height <= TOP + 18 * 30.0 + BOTTOM for d in drawn), [d.height for d in drawn]
    labels = [s.text for d in drawn for s in _texts(d, 8) if s.text.startswith("Measure")]
    assert [label.split()[1] for label in labels] == [f"{n:02d}" for n in range(40)]
    flat = re.sub(r"\s+", " ", pdf.text)
    for n in (0, 17, 39):
        assert f"Measure {n:02d}" in flat
