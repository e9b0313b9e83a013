"""The home program carries into the next visit note of its episode (issue 17), and only there.

Real SQLite databases and the shipped form: the visit note's draft, as stored, starts from the
current program (marked carried, so the sign check reminds the therapist to look at it); nothing
else of the earlier record comes with it; another episode's program stays in its episode.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from clinic_app.core.findings import validate
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records

START = date(2026, 9, 10)
PROGRAM = {
    "exercises": [
        {"exercise": "glute_bridge", "side": "both", "sets": 3, "reps": 12},
        {"exercise": "side_plank", "side": "left", "sets": 2, "hold_seconds": 30},
    ],
    "note": "Isometrics first.",
}


@pytest.fixture(scope="module")
def shipped_form() -> Form:
    return load_form(default_form_path())


def _patient(db: Any, mrn: str = "P-1") -> Any:
    fields = records.PatientFields(given_name="Ada", family_name="Hill", mrn=mrn)
    return records.create_patient(db, fields, user="t")


def _record(
    db: Any, form: Form, patient_id: int, values: dict[str, Any], **kw: Any
) -> records.Evaluation:
    ev = records.start_evaluation(db, patient_id, form, user="t", **kw)
    records.save_draft(db, ev.id, validate(form, {"values": values}), ev.version, user="t")
    return records.get_evaluation(db, ev.id)


def test_a_new_visit_note_starts_from_the_current_program(db, shipped_form: Form) -> None:
    p = _patient(db)
    first = _record(
        db, shipped_form, p.id, {"home_program": PROGRAM, "pain_now": 4}, eval_date=START
    )
    visit = records.start_evaluation(
        db, p.id, shipped_form, user="t", kind="visit", eval_date=START + timedelta(days=7)
    )
    stored = records.get_evaluation(db, visit.id)
    assert stored.episode_id == first.episode_id
    assert stored.findings["values"] == {"home_program": PROGRAM}  # nothing else comes with it
    assert stored.carried_forward == ("home_program",)


def test_the_latest_program_of_the_episode_carries(db, shipped_form: Form) -> None:
    p = _patient(db)
    _record(db, shipped_form, p.id, {"home_program": PROGRAM}, eval_date=START)
    changed = {"exercises": [{"exercise": "nordic_curl", "side": "both", "sets": 1, "reps": 5}]}
    second = _record(
        db,
        shipped_form,
        p.id,
        {"home_program": changed},
        kind="visit",
        eval_date=START + timedelta(days=7),
    )
    # the second visit started from the first program, and stored the changed one
    assert second.findings["values"]["home_program"] == changed
    third = records.start_evaluation(
        db, p.id, shipped_form, user="t", kind="visit", eval_date=START + timedelta(days=14)
    )
    assert records.get_evaluation(db, third.id).findings["values"] == {
        "home_program": {"exercises": [changed["exercises"][0]]}
    }


def test_a_visit_without_any_program_before_starts_empty(db, shipped_form: Form) -> None:
    p = _patient(db)
    _record(db, shipped_form, p.id, {"pain_now": 3}, eval_date=START)
    visit = records.start_evaluation(
        db, p.id, shipped_form, user="t", kind="visit", eval_date=START + timedelta(days=1)
    )
    stored = records.get_evaluation(db, visit.id)
    assert stored.findings["values"] == {}
    assert stored.carried_forward == ()


def test_another_episodes_program_does_not_carry(db, shipped_form: Form) -> None:
    p = _patient(db)
    first = _record(db, shipped_form, p.id, {"home_program": PROGRAM}, eval_date=START)
    episode = records.get_episode(db, first.episode_id)
    records.update_episode(
        db,
        episode.id,
        records.EpisodeInfo(
            title=episode.title, start_date=START, end_date=START + timedelta(days=30)
        ),
        episode.version,
        user="t",
    )
    info = records.EpisodeInfo(title="Right calf", start_date=START + timedelta(days=40))
    other = records.create_episode(db, p.id, info, user="t")
    visit = records.start_evaluation(
        db,
        p.id,
        shipped_form,
        user="t",
        kind="visit",
        episode_id=other.id,
        eval_date=START + timedelta(days=41),
    )
    assert records.get_evaluation(db, visit.id).findings["values"] == {}


def test_an_initial_evaluation_does_not_carry_a_program(db, shipped_form: Form) -> None:
    p = _patient(db)
    _record(db, shipped_form, p.id, {"home_program": PROGRAM}, eval_date=START)
    again = records.start_evaluation(db, p.id, shipped_form, user="t", eval_date=START)
    assert records.get_evaluation(db, again.id).findings["values"] == {}


def test_the_episode_panel_lists_program_versions_with_adherence(
    qtbot: Any, db: Any, shipped_form: Form
) -> None:
    from clinic_app.ui.episode_panel import EpisodePanel, read_episode_view

    p = _patient(db)
    first = _record(db, shipped_form, p.id, {"home_program": PROGRAM}, eval_date=START)
    day = START
    for n, (days, program) in enumerate(
        [
            (5, None),  # carried unchanged
            (3, {"exercises": [*PROGRAM["exercises"][:1], {"exercise": "dead_bug"}]}),
            (6, None),
        ],
        1,
    ):
        day = START + timedelta(days=7 * n)
        visit = records.start_evaluation(
            db, p.id, shipped_form, user="t", kind="visit", eval_date=day
        )
        values = dict(records.get_evaluation(db, visit.id).findings["values"])
        values["hep_days"] = days
        if program is not None:
            values["home_program"] = program
        records.save_draft(
            db, visit.id, validate(shipped_form, {"values": values}), visit.version, user="t"
        )
    view = read_episode_view(db, p.id, first.episode_id)
    assert [(v.record, v.exercises) for v in view.programs] == [
        ("Initial evaluation", 2),
        ("Visit note 2", 2),
    ]
    one, two = view.programs
    assert one.changes == "started with 2 exercises"
    # visit 2 changed the program: its adherence (3/7) was about version 1
    assert one.adherence == (("Visit note 1", 5), ("Visit note 2", 3))
    assert two.changes == "added Dead bug; removed Side plank; note changed"
    assert two.adherence == (("Visit note 3", 6),)
    panel = EpisodePanel()
    qtbot.addWidget(panel)
    panel.show_view(view)
    lines = panel.programs.lines()
    assert lines[0].startswith("Version 2 · 24 Sep 2026 · Visit note 2 · 2 exercises")
    assert lines[0].endswith("Adherence: done 6/7 days (Visit note 3)")
    assert "done 5/7 days (Visit note 1), 3/7 days (Visit note 2)" in lines[1]
    panel.resize(900, 520)
    panel.show()
    qtbot.waitExposed(panel)
    Path("/tmp/h8").mkdir(exist_ok=True)
    panel.grab().save("/tmp/h8/episode_history.png")
    empty = EpisodePanel()
    qtbot.addWidget(empty)
    empty.show_view(None)
    assert empty.programs.lines() == ["No home program recorded in this episode yet."]


def test_program_changes_in_words() -> None:
    from clinic_app.core.program import parse_program
    from clinic_app.ui.program_history import changes_between

    a = parse_program(PROGRAM)
    b = parse_program(
        {
            "exercises": [
                {"exercise": "side_plank", "side": "left", "sets": 2, "hold_seconds": 45},
                {"exercise": "glute_bridge", "sets": 4, "reps": 12},
            ],
            "note": "Isometrics first.",
        }
    )
    assert changes_between(a, b) == (
        "Side plank 2 sets, hold 30 s, left → 2 sets, hold 45 s, left; "
        "Bridge 3 × 12 → 4 × 12; new order"
    )
    assert changes_between(a, a) == "unchanged"
    c = parse_program({"exercises": PROGRAM["exercises"][::-1], "note": PROGRAM["note"]})
    assert changes_between(a, c) == "new order"


def test_a_program_emptied_on_purpose_carries_as_empty(db, shipped_form: Form) -> None:
    """The therapist took every exercise out at a visit: the next visit starts with no
    exercises, not with the older program an absent value would bring back."""
    p = _patient(db)
    _record(db, shipped_form, p.id, {"home_program": PROGRAM}, eval_date=START)
    emptied = _record(
        db,
        shipped_form,
        p.id,
        {"home_program": {"exercises": []}},
        kind="visit",
        eval_date=START + timedelta(days=7),
    )
    assert emptied.findings["values"]["home_program"] == {"exercises": []}
    nxt = records.start_evaluation(
        db, p.id, shipped_form, user="t", kind="visit", eval_date=START + timedelta(days=14)
    )
    assert records.get_evaluation(db, nxt.id).findings["values"] == {
        "home_program": {"exercises": []}
    }
