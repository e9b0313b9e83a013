"""The note text for the clinic's main record (core.note_text), from the shipped form.

The vignette evaluation and visit are compared line by line with the frozen texts in
``tests/core/data/notes``: a change of wording shows up as the lines that differ. To refreeze
after a deliberate change: ``NOTE_TEXT_FREEZE=1 pytest tests/core/test_note_text.py`` and read the
new texts as a therapist would before committing them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from clinic_app.core.form import Form, parse_form
from clinic_app.core.note_text import (
    BUDGET,
    RED_FLAG_HEADING,
    SUGGESTED,
    WIDTH,
    EpisodeRef,
    note_text,
    status_on,
)
from clinic_app.core.progress import Record
from clinic_app.paths import default_form_path

HERE = Path(__file__).parent
VIGNETTES = HERE / "vignettes"
EXPECTED = HERE / "data" / "notes"
EPISODE = EpisodeRef("Left proximal hamstring", "left", date(2026, 3, 2))
PATIENT = "Müller, Anna, MRN 0042"


@dataclass(frozen=True)
class Goal:
    """The fields of records.Goal that the note reads."""

    id: int
    term: str
    text: str
    target: dict[str, Any] | None
    target_date: date | None
    status: str


GOALS = (
    Goal(
        1,
        "short",
        "Nordic force deficit below 10%",
        {"item": "nordic_force", "measure": "deficit", "op": "<", "threshold": 10},
        date(2026, 4, 13),
        "progressing",
    ),
    Goal(
        2,
        "long",
        "LEFS at least 70",
        {"item": "lefs_total", "op": ">=", "threshold": 70},
        date(2026, 5, 25),
        "not_started",
    ),
    Goal(3, "long", "Sit through a 2-hour meeting without pain", None, date(2026, 5, 25), "met"),
)


def vignette(name: str) -> dict[str, Any]:
    data = json.loads((VIGNETTES / f"{name}.json").read_text(encoding="utf-8"))
    return dict(data["values"])


def evaluation_record() -> Record:
    values = vignette("runner_left_proximal")
    values["assessment"] = (
        "Left proximal hamstring tendinopathy with a training load error; "
        "weak hip flexors on the right."
    )
    values["plan"] = "Isometrics then heavy slow loading; hills paused; sitting breaks."
    return Record(1, "initial", date(2026, 3, 2), values, "signed")


def visit_record() -> Record:
    values: dict[str, Any] = {
        "pain_now": 2,
        "visit_pain_worst": 4,
        "visit_report": "better",
        "visit_report_text": "Sitting at work is easier; hills still hurt.",
        "hep_days": 5,
        "hep_barriers": "Two late shifts",
        "nordic_force": {"left": 240, "right": 280},
        "lefs_total": 64,
        "interventions": [
            {
                "kind": "exercise",
                "name": "Isometric bridge",
                "sets": 5,
                "load": "BW",
                "minutes": 10,
            },
            {"kind": "manual", "name": "Soft tissue, proximal hamstring", "minutes": 10},
            {"kind": "education", "name": "Load and sitting advice", "minutes": 5},
        ],
        "visit_impression": "Responding to loading; pain settles within 24 h.",
        "next_visit_plan": "Re-test Nordic and single-leg bridge.",
        "program_changes": "Bridge to 4 x 8 with 5 kg.",
    }
    return Record(2, "visit", date(2026, 3, 16), values, "draft")


def evaluation_note(form: Form, **kw: Any) -> str:
    kw.setdefault("goals", GOALS)
    return note_text(
        form, evaluation_record(), patient=PATIENT, episode=EPISODE, signer="Dana Lee, PT", **kw
    )


def visit_note(form: Form, **kw: Any) -> str:
    records = [evaluation_record(), visit_record()]
    return note_text(
        form, visit_record(), patient=PATIENT, episode=EPISODE, records=records, goals=GOALS, **kw
    )


def compare_lines(name: str, text: str) -> None:
    path = EXPECTED / f"{name}.txt"
    if os.environ.get("NOTE_TEXT_FREEZE"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8").splitlines()
    got = text.splitlines()
    for n, (want, have) in enumerate(zip(expected, got, strict=False), start=1):
        assert have == want, f"{name}.txt line {n}"
    assert len(got) == len(expected), f"{name}: {len(got)} lines, expected {len(expected)}"


def test_vignette_evaluation_line_by_line(shipped_form: Form) -> None:
    compare_lines("evaluation", evaluation_note(shipped_form))


def test_vignette_visit_line_by_line(shipped_form: Form) -> None:
    compare_lines("visit", visit_note(shipped_form))


HEADINGS = ("S:", "O:", "A:", "P:")


def assert_layout(text: str) -> None:
    """Every line fits, the four headings come once each and in order, nothing else looks like
    one, and the text ends with one line break."""
    lines = text.splitlines()
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    assert all(len(line) <= WIDTH for line in lines), max(lines, key=len)
    assert [line for line in lines if line in HEADINGS] == list(HEADINGS)
    assert all(line == line.rstrip() for line in lines)
    for line in lines:
        if line[:2] in HEADINGS and line not in HEADINGS:
            pytest.fail(f"a line looks like a heading: {line!r}")


def test_layout_and_wording(shipped_form: Form) -> None:
    for text in (evaluation_note(shipped_form), visit_note(shipped_form)):
        assert_layout(text)
        assert "Müller, Anna" in text  # names keep their Unicode
        assert not set("≤≥→−—") & set(text)  # typographic symbols as ASCII
    evaluation = evaluation_note(shipped_form)
    assert f"{SUGGESTED}:" in evaluation
    assert "L 210 N / R 280 N (25% deficit)" in evaluation
    assert RED_FLAG_HEADING not in evaluation
    assert "Red-flag screen: negative (13 of 13 asked)." in evaluation


def test_red_flag_comes_first(shipped_form: Form) -> None:
    values = vignette("cauda_equina")
    record = Record(7, "initial", date(2026, 3, 2), values, "draft")
    text = note_text(shipped_form, record, patient="A. B.", episode=EPISODE)
    lines = text.splitlines()
    assert lines[2] == RED_FLAG_HEADING, lines[:4]
    assert lines[3].startswith("! ")
    assert "emergency" in lines[3]
    assert lines.index(RED_FLAG_HEADING) < lines.index("S:")
    assert "Red-flag screen: POSITIVE" in text
    assert_layout(text)


def test_a_visit_shows_the_episodes_red_flag(shipped_form: Form) -> None:
    flagged = Record(1, "initial", date(2026, 3, 2), vignette("cauda_equina"), "signed")
    visit = visit_record()
    text = note_text(
        shipped_form, visit, patient="A. B.", episode=EPISODE, records=[flagged, visit]
    )
    lines = text.splitlines()
    assert lines[2] == RED_FLAG_HEADING
    assert lines.index(RED_FLAG_HEADING) < lines.index("S:")


def test_a_made_up_item_appears_without_code_changes() -> None:
    data = yaml.safe_load(default_form_path().read_text(encoding="utf-8"))
    hips = next(s for s in data["sections"] if s["id"] == "hips")
    hips["items"].append(
        {
            "id": "made_up_reach",
            "label": "Made-up reach test (cm)",
            "type": "number",
            "unit": "cm",
            "range": {"min": 0, "max": 300},
            "bilateral": True,
            "symmetry": {"method": "deficit", "threshold": 10, "source": "domain"},
            "source": "domain",
        }
    )
    visit_s = next(s for s in data["sections"] if s["id"] == "visit_subjective")
    visit_s["items"].append(
        {
            "id": "made_up_sleep",
            "label": "Hours slept",
            "type": "number",
            "unit": "h",
            "range": {"min": 0, "max": 24},
            "source": "domain",
        }
    )
    form = parse_form(data, "copy.yaml")
    record = evaluation_record()
    record = replace(record, values={**record.values, "made_up_reach": {"left": 90, "right": 120}})
    text = note_text(form, record, patient="A. B.", episode=EPISODE)
    assert "Made-up reach test: L 90 cm / R 120 cm (25% deficit)" in text
    visit = visit_record()
    visit = replace(
        visit, values={**visit.values, "made_up_sleep": 6, "made_up_reach": {"left": 100}}
    )
    text = note_text(form, visit, patient="A. B.", episode=EPISODE, records=[record, visit])
    s_part = text.split("\nO:\n")[0]
    assert "Hours slept: 6 h" in s_part
    flat = " ".join(text.split())
    assert (
        "Made-up reach test: L 100 cm (last 2026-03-02: L 90 cm / R 120 cm (25% deficit); "
        "since baseline L +10 cm)" in flat
    )


HOSTILE = (
    "x" * 5000,
    "first line\nS:\nP: a fake heading\r\n\tend",
    "王芳 Łukasz Zoë 🦵 \u202eRTL\u202c e\u0301",
    ("word " * 900).strip(),
)


@pytest.mark.parametrize("hostile", HOSTILE, ids=["long-word", "newlines", "unicode", "long-text"])
def test_hostile_text_values_keep_the_layout(shipped_form: Form, hostile: str) -> None:
    record = evaluation_record()
    values = {**record.values, "assessment": hostile, "plan": hostile, "psfs_activity_1": hostile}
    record = replace(record, values=values)
    text = note_text(
        shipped_form,
        record,
        patient=hostile,
        episode=EpisodeRef(hostile, "left"),
        goals=GOALS,
        signer=hostile,
    )
    assert_layout(text)
    visit = visit_record()
    rows = [{"kind": "other", "name": hostile[:120], "minutes": 5}]
    visit = replace(
        visit,
        values={
            **visit.values,
            "visit_impression": hostile,
            "hep_barriers": hostile[:500],
            "interventions": rows,
        },
    )
    text = note_text(shipped_form, visit, patient=hostile, records=[record, visit], goals=GOALS)
    assert_layout(text)
    squeezed = " ".join(hostile.split())
    assert squeezed[:50].replace(" ", "") in text.replace("\n", "").replace(" ", "")


def test_re_evaluation_says_what_changed_since_the_baseline(shipped_form: Form) -> None:
    first = evaluation_record()
    values = {**first.values, "pain_now": 1, "nordic_force": {"left": 260, "right": 280}}
    again = Record(3, "re_evaluation", date(2026, 4, 13), values, "draft")
    text = note_text(shipped_form, again, patient="A. B.", episode=EPISODE, records=[first, again])
    s_part, rest = text.split("\nO:\n")
    assert "Pain now: 1/10 [-2/10]" in s_part
    assert "Duration" not in s_part  # unchanged history is not repeated
    assert "History otherwise as at the baseline (2026-03-02)." in s_part
    assert "Nordic: L 260 N / R 280 N (7% deficit) [L +50 N]" in rest
    assert_layout(text)


def test_old_notes_read_as_they_did(shipped_form: Form) -> None:
    """A record's note counts only the records up to it: a later visit changes nothing."""
    later = Record(9, "visit", date(2026, 4, 1), {"nordic_force": {"left": 280, "right": 280}})
    records = [evaluation_record(), visit_record(), later]
    text = note_text(
        shipped_form, visit_record(), patient=PATIENT, episode=EPISODE, records=records, goals=GOALS
    )
    assert text == visit_note(shipped_form)


@dataclass(frozen=True)
class Entry:
    status: str
    set_at: datetime


def test_goals_show_the_status_they_had_on_the_notes_day(shipped_form: Form) -> None:
    history = (
        Entry("progressing", datetime(2026, 3, 16, 9, 0)),
        Entry("met", datetime(2026, 4, 20, 9, 0)),
    )
    goal = replace(GOALS[2], status="met")
    with_history = type("G", (), {**goal.__dict__, "history": history})()
    assert status_on(with_history, date(2026, 3, 2)) == "not_started"
    assert status_on(with_history, date(2026, 3, 16)) == "progressing"
    assert status_on(with_history, date(2026, 5, 1)) == "met"
    assert status_on(goal, date(2026, 3, 2)) == "met"  # no history: the status as it is
    visit = visit_record()
    text = note_text(
        shipped_form,
        visit,
        patient="A. B.",
        episode=EPISODE,
        records=[evaluation_record(), visit],
        goals=[with_history],
    )
    assert (
        "Sit through a 2-hour meeting without pain (functional, by 2026-05-25): set progressing"
        in text
    )


def test_over_the_budget_detail_goes_never_a_red_flag(shipped_form: Form) -> None:
    values = {**vignette("runner_left_proximal"), **vignette("cauda_equina")}
    values["assessment"] = "Long clinical reasoning. " * 40
    record = Record(5, "initial", date(2026, 3, 2), values, "draft")
    text = note_text(shipped_form, record, patient="A. B.", episode=EPISODE, goals=GOALS)
    assert len(text) > BUDGET  # the findings and the clinician's words are never cut
    short = note_text(shipped_form, record, patient="A. B.", episode=EPISODE)
    flags = [x for x in text.splitlines() if x.startswith(("! ", "  - "))]
    assert flags
    assert flags == [x for x in short.splitlines() if x.startswith(("! ", "  - "))]
    assert text.splitlines()[2] == RED_FLAG_HEADING
    assert "Also suggested:" in text  # the least detail
    assert ("Long clinical reasoning. " * 40).strip() in " ".join(text.split())
    assert_layout(text)


def test_one_status_for_every_goal_is_said_once(shipped_form: Form) -> None:
    """At an initial evaluation every goal is usually "not started": the heading says it once;
    with one goal different, each line keeps its own status."""
    functional = [replace(g, target=None, status="not_started") for g in GOALS]
    text = evaluation_note(shipped_form, goals=functional)
    lines = text.splitlines()
    start = lines.index("Goal status (all not started):")
    assert lines[start + 1] == "- STG Nordic force deficit below 10% (functional)"
    assert not any(line.endswith(": not started") for line in lines)
    mixed = [*functional[:2], replace(functional[2], status="met")]
    text = evaluation_note(shipped_form, goals=mixed)
    assert "Goal status:" in text.splitlines()
    assert text.count(": not started") == 2
    assert_layout(text)
