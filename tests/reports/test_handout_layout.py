"""The handout's pages: few of them, no card split, help and the clinic's phone on one page."""

from __future__ import annotations

import re

import pytest

from clinic_app.core.form import Form
from clinic_app.reports import ReportData, build_handout, content
from clinic_app.reports.handout import handout_cards
from clinic_app.storage import demo
from tests.reports.conftest import EXAMPLES, MakeData, Pdf, build_pdf, with_values

DEMO_VISITS = [
    (f"{p.fields.mrn}-{n}", values)
    for p in demo.PATIENTS
    for n, (_, _, values, *_) in enumerate(p.visits)
]


def _pages(pdf: Pdf) -> list[str]:
    return [re.sub(r"\s+", " ", page) for page in pdf.pages]


def _page_of(pages: list[str], text: str) -> int:
    found = [n for n, page in enumerate(pages) if text in page]
    assert found, f"{text!r} is on no page"
    return found[0]


def _check_layout(data: ReportData, pdf: Pdf) -> None:
    chosen = handout_cards(data)
    pages = _pages(pdf)
    limit = 3 if len(chosen) <= 3 else 4
    assert len(pages) <= limit, f"{len(chosen)} exercises on {len(pages)} pages"
    text = content.handout_text()
    help_page = _page_of(pages, text.text("help_heading"))
    assert help_page == _page_of(pages, "phone +1 555 0100")
    assert help_page == _page_of(pages, text.text("urgent_intro"))
    assert help_page == _page_of(pages, " ".join(text.paragraphs("help_items")[-1].split()))
    for ex in chosen:
        # a card never splits: its last step follows its name on the same page
        page = pages[_page_of(pages, ex.title)]
        assert " ".join(ex.steps[-1].split()) in page[page.index(ex.title) :], ex.title


def test_demo_like_full_handout_has_at_most_four_pages(form: Form, make_data: MakeData) -> None:
    findings = demo.demo_findings(form, demo.PATIENTS[0].visits[0][2])
    data = make_data(findings)
    assert len(handout_cards(data)) == 6
    pdf = build_pdf(build_handout, data)
    assert len(pdf.pages) <= 4
    pages = _pages(pdf)
    heading = content.handout_text().text("help_heading")
    # page 1 names the phone in its heading too: look for the contact box's "phone ..." line
    assert _page_of(pages, heading) == _page_of(pages, "phone +1 555 0100") == len(pages) - 1
    _check_layout(data, pdf)


@pytest.mark.parametrize(("name", "values"), DEMO_VISITS, ids=[v[0] for v in DEMO_VISITS])
def test_demo_handouts_are_short_and_keep_blocks_whole(
    name: str, values: dict[str, object], form: Form, make_data: MakeData
) -> None:
    data = make_data(demo.demo_findings(form, values))
    _check_layout(data, build_pdf(build_handout, data))


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_handouts_are_short_and_keep_blocks_whole(
    name: str, form: Form, example, make_data: MakeData
) -> None:
    data = make_data(example(name))
    _check_layout(data, build_pdf(build_handout, data))


def test_red_flag_box_is_on_page_one(form: Form, example, make_data: MakeData) -> None:
    # Not an emergency flag, which leaves a one-page handout (tests/reports/test_handout_emergency)
    findings = with_values(form, example("runner_left_proximal"), rf_night_pain="yes")
    pages = _pages(build_pdf(build_handout, make_data(findings)))
    assert _page_of(pages, content.handout_text().text("red_flag_heading")) == 0
    assert _page_of(pages, content.handout_text().text("title")) == 0


def test_type_stays_large() -> None:
    from clinic_app.reports import handout

    assert handout.BODY_PT >= 12
    assert handout.STEP_PT >= 11.5
