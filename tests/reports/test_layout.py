"""The running header and footer (layout.canvas_maker) are read whole: what the document is, its
status, whose it is and the page number, for long but real names; only a hostile text is cut.

The demo's progress report printed "DRAFT: the re-evaluation of…" in the header and "25 N…" in
the footer: every part of the page furniture was cut to one line with an ellipsis.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PageObject, PdfReader

from clinic_app.core.findings import Findings
from clinic_app.core.form import Form
from clinic_app.reports import ReportData, build_clinician_report, build_handout, handout, layout
from clinic_app.reports.episode_data import progress_data
from clinic_app.reports.progress_report import build_progress_report
from tests.reports.conftest import MakeData
from tests.reports.test_progress_report import make_episode

LONG_NAME = "Maximiliana Oyelaran-Featherstonehaugh"
LONG_CLINIC = "Riverside Physiotherapy and Sports Rehabilitation Centre of Greater Springfield"
HOSTILE = "Featherstonehaugh" * 30  # 510 characters, one word


def page_furniture(page: PageObject, band: float) -> tuple[str, str]:
    """The header and footer text of ``page``: what is drawn less than ``band`` (the margin the
    body frame keeps) from the top or the bottom edge, line by line from the top."""
    top = float(page.mediabox.top)
    head: list[tuple[float, float, str]] = []
    foot: list[tuple[float, float, str]] = []

    def visit(text: str, cm: Any, tm: Any, *_: Any) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        text = " ".join(text.split())
        if text and y > top - band + 2:
            head.append((-y, x, text))
        elif text and y < band - 2:
            foot.append((-y, x, text))

    page.extract_text(visitor_text=visit)
    return " ".join(t for *_, t in sorted(head)), " ".join(t for *_, t in sorted(foot))


def furniture(data: bytes, band: float = layout.MARGIN) -> list[tuple[str, str]]:
    """(header, footer) of each page."""
    return [page_furniture(page, band) for page in PdfReader(io.BytesIO(data)).pages]


def with_names(data: ReportData, patient: str, clinic: str = LONG_CLINIC) -> ReportData:
    return dataclasses.replace(
        data,
        patient=dataclasses.replace(data.patient, name=patient),
        clinic=dataclasses.replace(data.clinic, name=clinic),
    )


def build(builder: Callable[[ReportData, Any], None], data: ReportData) -> bytes:
    stream = io.BytesIO()
    builder(data, stream)
    return stream.getvalue()


def check_whole(pages: list[tuple[str, str]], *parts: str, header: tuple[str, ...]) -> None:
    assert len(pages) > 1, "one page has no running header: nothing to check"
    for number, (head, foot) in enumerate(pages, start=1):
        assert "…" not in head + foot, (head, foot)
        assert f"Page {number} of {len(pages)}" in foot
        for part in parts:
            assert part in foot, (part, foot)
        if number > 1:
            for part in header:
                assert part in head, (part, head)


@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("signed", [False, True], ids=["draft", "signed"])
def test_clinician_report_header_and_footer_are_whole(
    make_data: MakeData, example: Callable[[str], Findings], signed: bool, paper: str
) -> None:
    findings = example("runner_left_proximal")
    data = with_names(make_data(findings, signed=signed, paper=paper), LONG_NAME)
    state = "signed" if signed else "DRAFT"
    check_whole(
        furniture(build(build_clinician_report, data)),
        LONG_NAME,
        "MRN-00042",
        "DOB 2 Apr 1988",
        "evaluation 20 Nov 2026",
        state,
        header=(LONG_CLINIC, "Clinician report", LONG_NAME),
    )


def test_handout_header_and_footer_are_whole(
    make_data: MakeData, example: Callable[[str], Findings]
) -> None:
    data = with_names(make_data(example("runner_left_proximal")), LONG_NAME)
    check_whole(
        furniture(build(build_handout, data), handout.TOP_MARGIN),
        LONG_CLINIC,
        f"home program for {LONG_NAME}",
        header=(LONG_CLINIC, "Home program", LONG_NAME),
    )


@pytest.mark.parametrize("reeval", ["draft", "signed"])
def test_progress_report_header_and_footer_are_whole(
    tmp_path: Path, form: Form, reeval: str
) -> None:
    ep = make_episode(tmp_path, form, visits=4, reeval=reeval)
    try:
        data = progress_data(ep.db, ep.episode_id, "progress")
    finally:
        ep.db.close()
    data = dataclasses.replace(data, report=with_names(data.report, LONG_NAME))
    draft = "DRAFT: the re-evaluation of 10 Sep 2026 is not signed"
    state = draft if reeval == "draft" else "signed"
    status_header = (draft,) if reeval == "draft" else ()
    check_whole(
        furniture(build(build_progress_report, data)),  # type: ignore[arg-type]
        LONG_NAME,
        "MRN M-15",
        state,
        header=(LONG_CLINIC, "Progress report", LONG_NAME, *status_header),
    )


@pytest.mark.parametrize("signed", [False, True], ids=["draft", "signed"])
def test_a_hostile_name_is_cut_alone_status_and_page_stay_whole(
    make_data: MakeData, example: Callable[[str], Findings], signed: bool
) -> None:
    data = with_names(make_data(example("runner_left_proximal"), signed=signed), HOSTILE, HOSTILE)
    pages = furniture(build(build_clinician_report, data))
    state = "signed" if signed else "DRAFT"
    for number, (head, foot) in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in foot
        assert foot.split(" Page ")[0].rstrip().endswith(state), foot
        assert re.search(r"(Featherstonehaugh)+\w*…", foot), foot
        assert "MRN MRN-00042" in foot
        if number > 1:
            assert re.search(r"(Featherstonehaugh)+\w*…", head), head
            assert "Clinician report" in head


def test_furniture_lines_wrap_and_keep_what_must_stay() -> None:
    room = 300.0
    lines = layout.footer_lines(
        (LONG_NAME, "DOB 2 Apr 1988", "MRN-00042", "evaluation 20 Nov 2026", "DRAFT"),
        "Page 1 of 9",
        room,
        keep=("DRAFT",),
    )
    assert 1 < len(lines) <= layout.MAX_LINES
    assert " · ".join(left for left, _ in lines).split(" · ")[-1] == "DRAFT"
    assert lines[-1][1] == "Page 1 of 9"
    assert "…" not in "".join(left for left, _ in lines)
    cut = layout.footer_lines((HOSTILE, "DRAFT"), "Page 1 of 9", room, keep=("DRAFT",))
    assert len(cut) <= layout.MAX_LINES
    assert cut[0][0].endswith("…")
    assert cut[-1][0].endswith("DRAFT")
