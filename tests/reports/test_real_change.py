"""Real change or measurement noise (issue 16): the exact-threshold boundary as the questionnaire
file (or the form's mdc) says, per side for a bilateral measure, and the discharge summary of the
demo episode read back with pypdf showing the flags."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from clinic_app.core.form import Item, load_form
from clinic_app.core.progress import Record, item_progress
from clinic_app.core.questionnaire import parse_questionnaire, questionnaires_dir
from clinic_app.core.real_change import NOISE, REAL, change_flags, questionnaire_flag
from clinic_app.core.scoring import Answers, Score
from clinic_app.paths import default_form_path

FORM = load_form(default_form_path())


def score(q: Any, value: str) -> Score:
    from fractions import Fraction

    return Score(q, Fraction(value), "", (), (), Answers(q.id, {}))


def lefs_file(boundary: str) -> Any:
    data = yaml.safe_load((questionnaires_dir() / "lefs.yaml").read_text(encoding="utf-8"))
    for key in ("mcid", "mdc"):
        data["change"][key]["boundary"] = boundary
    return parse_questionnaire(data, "lefs.yaml")


@pytest.mark.parametrize(
    ("before", "after", "boundary", "real"),
    [
        ("56", "65", "at_least", True),  # exactly the 9-point MDC: counts (the shipped rule)
        ("56", "65", "more_than", False),  # the same change where the file says more than
        ("56", "64", "at_least", False),
        ("56", "66", "more_than", True),
        ("65", "56", "at_least", True),  # a real worsening is a real change too
    ],
)
def test_a_questionnaire_change_of_exactly_its_threshold(before, after, boundary, real):
    flag = questionnaire_flag(score(lefs_file(boundary), before), score(lefs_file(boundary), after))
    assert flag is not None
    assert flag.real is real
    assert flag.flag == (REAL if real else NOISE)
    if int(after) - int(before) in (9, -9):
        assert "equals the MDC of 9 points" in flag.why


def test_the_shipped_lefs_and_psfs_boundaries_through_progress() -> None:
    def progress(item: str, before: Any, after: Any) -> str:
        recs = [
            Record(1, "initial", date(2026, 1, 5), {item: before}),
            Record(2, "discharge", date(2026, 2, 5), {item: after}),
        ]
        (p,) = item_progress(FORM, recs)
        return p.verdict()

    assert progress("lefs_total", 56, 65).startswith("real change (LEFS +9 points: equals the MDC")
    assert progress("lefs_total", 56, 64).startswith("within measurement noise (LEFS +8 points")
    assert progress("psfs_mean", 4.0, 6.0).startswith("real change (PSFS +2.0 points: equals")
    assert progress("psfs_mean", 4.0, 5.9).startswith("within measurement noise")
    assert progress("pain_now", 6, 1) == ""  # no MDC in the form: no verdict is guessed


def mdc_item(boundary: str) -> Item:
    return Item.model_validate(
        {
            "id": "torque",
            "label": "Torque",
            "type": "number",
            "unit": "N·m",
            "range": {"min": 0, "max": 500},
            "bilateral": True,
            "mdc": {"points": 15, "boundary": boundary, "source": "domain §1"},
            "source": "test",
        }
    )


@pytest.mark.parametrize(("boundary", "real"), [("at_least", True), ("more_than", False)])
def test_a_measure_change_of_exactly_its_mdc_per_side(boundary: str, real: bool) -> None:
    item = mdc_item(boundary)
    flags = change_flags(FORM, item, {"left": 100, "right": 140}, {"left": 115, "right": 141})
    left, right = flags
    assert (left.side, left.real) == ("left", real)
    assert "equals the MDC of 15 N·m" in left.why
    assert (right.side, right.real) == ("right", False)
    assert "is below the MDC" in right.why


def test_mdc_belongs_to_numbers_only() -> None:
    with pytest.raises(ValueError, match="mdc is only for numbers"):
        Item.model_validate(
            {
                "id": "notes",
                "label": "Notes",
                "type": "text",
                "mdc": {"points": 1, "source": "test"},
                "source": "test",
            }
        )


def test_the_shipped_form_gives_an_mdc_only_where_the_brief_has_a_number() -> None:
    with_mdc = {i.id: i.mdc.points for i in FORM.items.values() if i.mdc is not None}
    assert with_mdc == {"hip_ext_torque": 15, "slr_deg": 7, "ake_deg": 8}
    for item_id in with_mdc:
        mdc = FORM.items[item_id].mdc
        assert mdc is not None
        assert mdc.source.startswith("domain §")


@pytest.fixture(scope="module")
def demo_discharge(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The demo's discharge summary of Lukasz Nowak's episode, as text (pypdf), and the note
    text of its discharge evaluation."""
    import os

    from pypdf import PdfReader

    from clinic_app.core.note_text import note_text
    from clinic_app.reports.episode_data import records_of
    from clinic_app.reports.progress_report import write_progress_report
    from clinic_app.storage import demo
    from clinic_app.storage import records as r
    from clinic_app.storage.database import open_database

    folder: Path = tmp_path_factory.mktemp("real_change")
    old = os.environ.get("CLINIC_APP_ENCRYPTION")
    os.environ["CLINIC_APP_ENCRYPTION"] = "off"
    try:
        db = open_database(f"sqlite:///{folder / 'clinic.db'}", backup=False)
    finally:
        if old is None:
            os.environ.pop("CLINIC_APP_ENCRYPTION", None)
        else:
            os.environ["CLINIC_APP_ENCRYPTION"] = old
    try:
        demo.fill_demo(db, FORM, today=date(2026, 6, 1))
        patient = r.get_patient_by_mrn(db, "DEMO-0003")
        assert patient is not None
        episode = max(
            r.list_episodes(db, patient.id), key=lambda e: len(r.episode_records(db, e.id))
        )
        out = io.BytesIO()
        write_progress_report(db, episode.id, "discharge", out)
        recs = records_of(r.episode_records(db, episode.id))
        note = note_text(FORM, recs[-1], patient="Lukasz Nowak", records=recs)
    finally:
        db.close()
    reader = PdfReader(io.BytesIO(out.getvalue()))
    pdf = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    return pdf, note


def test_the_discharge_note_text_says_patient_reported_and_real_change(
    demo_discharge: tuple[str, str],
) -> None:
    note = " ".join(demo_discharge[1].split())
    assert "DISCHARGE" in note
    assert "LEFS 74/80 (patient-reported) [+18 points; real change]" in note
    assert "LEFS total" not in note  # the total equals its answers: named once
    assert "PSLR: L 81° / R 85° [L +13°, R +1°; L real change, R within measurement noise]" in note


def test_the_discharge_summary_prints_the_flags(demo_discharge: tuple[str, str]) -> None:
    text = demo_discharge[0]
    assert "LEFS 56/80 (patient-reported)" in text
    assert "LEFS 74/80 (patient-reported)" in text
    assert "real change (LEFS +18 points: exceeds the MDC of 9 points" in text
    # PSLR: the left side gained 13°, past the 7° MDC; the right 1°.
    assert "L real change (+13°: exceeds the MDC of 7°)" in text
    assert "R within measurement noise (+1°: is below the MDC of 7°)" in text
    assert "“Real change”: the change passes the measure's minimal detectable change" in text
    assert "LEFS total 56 points (" not in text  # that row would repeat its answers' row
