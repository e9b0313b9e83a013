"""The large-print handout, read back from the PDF: every text in the page body at 14 pt or
more, the same exercises and words as the regular one, each exercise card whole on a page."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from pypdf import PdfReader

from clinic_app.core.form import Form
from clinic_app.reports import build_handout, handout
from clinic_app.reports.handout import handout_cards
from tests.reports.conftest import EXAMPLES, MakeData, with_values

PROGRAM = {
    "exercises": [
        {"exercise": "glute_bridge", "sets": 5, "hold_seconds": 45, "instruction": "Slowly."},
        {"exercise": "side_plank", "sets": 3, "hold_seconds": 20, "side": "left"},
    ],
    "note": "Holds only for now.",
}


def _build(data, large: bool) -> bytes:
    stream = io.BytesIO()
    build_handout(data, stream, large_print=large)
    return stream.getvalue()


def _body_text_sizes(pdf: bytes) -> Iterator[tuple[float, str]]:
    """(size in points, text) of every piece of text inside the page body (not the running
    header and footer, which stay small on purpose)."""
    for page in PdfReader(io.BytesIO(pdf)).pages:
        height = float(page.mediabox.height)
        found: list[tuple[float, str]] = []

        def visit(
            text: str,
            cm: list[float],
            tm: list[float],
            font: object,
            size: float,
            height: float = height,
            found: list[tuple[float, str]] = found,
        ) -> None:
            if not text.strip():
                return
            y = cm[3] * tm[5] + cm[5]
            scale = abs(tm[3] * cm[3]) or 1.0
            if handout.BOTTOM_MARGIN - 1 < y < height - handout.TOP_MARGIN + 1:
                found.append((size * scale, text))

        page.extract_text(visitor_text=visit)
        yield from found


@pytest.mark.parametrize("name", EXAMPLES)
def test_large_print_body_text_is_at_least_14_point(
    name: str, example, make_data: MakeData
) -> None:
    sizes = list(_body_text_sizes(_build(make_data(example(name)), large=True)))
    assert sizes
    small = [(round(s, 1), t) for s, t in sizes if s < 14 - 1e-6]
    assert not small, small[:5]
    regular = [s for s, _ in _body_text_sizes(_build(make_data(example(name)), large=False))]
    assert min(regular) < 14  # the check can fail: the regular handout has smaller text


def test_large_print_has_the_same_words_and_keeps_cards_whole(
    form: Form, example, make_data: MakeData
) -> None:
    findings = with_values(form, example("runner_left_proximal"), home_program=PROGRAM)
    data = make_data(findings)
    pages = [
        re.sub(r"\s+", " ", p.extract_text() or "")
        for p in PdfReader(io.BytesIO(_build(data, large=True))).pages
    ]
    regular = " ".join(
        re.sub(r"\s+", " ", p.extract_text() or "")
        for p in PdfReader(io.BytesIO(_build(data, large=False))).pages
    )
    flat = " ".join(pages)
    for card in handout_cards(data):
        title = f"{card.number}. {card.title}"
        assert title in flat
        assert title in regular
        page = next(p for p in pages if title in p)
        assert " ".join(card.steps[-1].split()) in page[page.index(title) :], card.title
    assert "Holds only for now." in flat
    assert "– left side only" in flat
    assert "Your note: Slowly." in flat
