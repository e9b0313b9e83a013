"""The visit note PDF prints each SOAP letter once, in order, the goals once (under Assessment) and
only plan content under Plan, whatever the note holds: with or without a home program, without
goals, without interventions, nothing recorded, after a re-evaluation and a discharge evaluation,
60 goals. Real SQLite file, records API, the PDF read back with pypdf.

The note printed the goals table twice: the form's visit pages are S, O, A, P and the home
program (P too), and the letters were guessed from the pages' places (the last page P, the ones
before it A), so the visit's Plan page was an "A" page that printed the goals again, and the
home program's page came last as "P: Plan", "Nothing recorded." when the visit had no program.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from clinic_app.core.form import Form
from clinic_app.reports.visit_note import write_visit_note
from clinic_app.storage import records as r
from clinic_app.storage.errors import StorageError
from tests.reports.conftest import Pdf
from tests.reports.test_progress_report import START, Episode, _record, make_episode, visit_values

HEADINGS = ("S: Subjective", "O: Objective", "A: Assessment", "P: Plan")
GOALS_HEADING = "Progress toward the goals"
GOALS = ("Nordic deficit below 30%", "Nordic deficit below 10%", "Sit through a 2-hour meeting")
PLAN = ("Re-test Nordic force next time.", "Add a second set of bridges.")
PROGRAM = {"exercises": [{"exercise": "glute_bridge", "side": "both", "sets": 3, "reps": 12}]}
NO_PLAN = {"next_visit_plan": "", "program_changes": ""}


def _pdf(ep: Episode, visit_id: int) -> Pdf:
    stream = io.BytesIO()
    write_visit_note(ep.db, visit_id, stream)
    return Pdf(stream.getvalue())


def _visit(ep: Episode, form: Form, values: dict[str, Any], days: int = 30) -> int:
    on = START + timedelta(days=days)
    return _record(ep.db, form, ep.patient_id, ep.episode_id, "visit", on, values, sign=True)


def _letters(flat: str) -> dict[str, str]:
    """The note's text under each SOAP heading (each heading once, S, O, A, P in that order)."""
    counts = {h: flat.count(h) for h in HEADINGS}
    assert counts == dict.fromkeys(HEADINGS, 1), counts
    at = [flat.index(h) for h in HEADINGS]
    assert at == sorted(at), list(zip(HEADINGS, at, strict=True))
    after = [flat.find(w, at[-1]) for w in ("Signature", "DRAFT: not signed", "Addenda")]
    ends = [*at[1:], min(a for a in after if a >= 0)]
    return {h[0]: flat[a + len(h) : e] for h, a, e in zip(HEADINGS, at, ends, strict=True)}


def _goal_rows(text: str, goal: str) -> int:
    return len(re.findall(rf"(?:Short|Long)-term: {re.escape(goal)}", text))


@pytest.fixture
def episode(tmp_path: Path, form: Form):  # type: ignore[no-untyped-def]
    ep = make_episode(tmp_path, form, visits=1, reeval=None)
    yield ep
    ep.db.close()


CASES: dict[str, dict[str, Any]] = {
    "everything but a home program": {},
    "a home program": {"home_program": PROGRAM},
    "a home program and no plan": {"home_program": PROGRAM, **NO_PLAN},
    "no interventions": {"interventions": None},
    "no assessment": {"visit_impression": ""},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_letter_once_in_order_goals_once_under_a(
    episode: Episode, form: Form, case: str
) -> None:
    merged = {**visit_values(4, left=230), **CASES[case]}
    values = {k: v for k, v in merged.items() if v is not None}
    flat = _pdf(episode, _visit(episode, form, values)).flat
    part = _letters(flat)
    for goal in GOALS:
        assert _goal_rows(flat, goal) == 1, goal
        assert _goal_rows(part["A"], goal) == 1, goal
    assert flat.count(GOALS_HEADING) == 1
    assert GOALS_HEADING in part["A"]
    assert "Sat through a meeting, visit 4." in part["S"]
    assert "Nothing was re-measured" not in flat
    assert "L 230 N / R 280 N (18% deficit)" in part["O"]
    if values.get("interventions"):
        assert "Total: 15 minutes, 3 interventions" in part["O"]
    else:
        assert "Interventions" not in flat
    if values["visit_impression"]:
        assert "Tolerating load well (visit 4)." in part["A"]
    # Plan: the plan's own content (and the program), no goal, no empty heading left behind
    plan = part["P"]
    assert all((text in plan) == bool(values["next_visit_plan"]) for text in PLAN)
    assert ("Plan for the next visit" in plan) == bool(values["next_visit_plan"])
    assert ("Bridge 3×12" in plan) == ("home_program" in values), plan
    assert "term:" not in plan
    assert "Nothing recorded." not in flat


def test_nothing_recorded_still_has_each_letter_and_the_goals_once(
    episode: Episode, form: Form
) -> None:
    part = _letters(_pdf(episode, _visit(episode, form, {})).flat)
    assert part["S"].strip() == "Nothing recorded."
    assert part["O"].strip() == "Nothing was re-measured in this visit."
    assert part["A"].strip().startswith(GOALS_HEADING)
    assert all(_goal_rows(part["A"], goal) == 1 for goal in GOALS)
    assert part["P"].strip() == "Nothing recorded."


def test_a_note_without_goals_says_so_once_under_a(episode: Episode, form: Form) -> None:
    """An episode with no goal: one heading with the sentence under it, not a heading alone."""
    other = r.create_episode(
        episode.db,
        episode.patient_id,
        r.EpisodeInfo("Right calf", "right", start_date=START + timedelta(days=20)),
        user="dana",
    )
    ep = Episode(episode.db, episode.url, episode.patient_id, other.id, 0, [])
    for values in (visit_values(1, left=200), {"home_program": PROGRAM}):
        flat = _pdf(ep, _visit(ep, form, values)).flat
        part = _letters(flat)
        assert flat.count(GOALS_HEADING) == 1
        assert f"{GOALS_HEADING} No goal is recorded for this episode." in part["A"]
        assert flat.count("No goal is recorded") == 1
        assert "term:" not in flat


def test_visits_after_a_re_evaluation_and_a_discharge(tmp_path: Path, form: Form) -> None:
    ep = make_episode(tmp_path, form, visits=3, reeval="signed", discharge="signed")
    try:
        later = _visit(ep, form, visit_values(5, left=250, home_program=PROGRAM))
        for visit in (*ep.visit_ids, later):
            flat = _pdf(ep, visit).flat
            part = _letters(flat)
            assert all(_goal_rows(flat, g) == 1 == _goal_rows(part["A"], g) for g in GOALS)
            assert all(text in part["P"] for text in PLAN)
            assert "Nothing recorded." not in flat
        for record in (ep.reeval_id, ep.discharge_id):  # evaluations, not visit notes
            assert record is not None
            with pytest.raises(StorageError, match="not a visit note"):
                _pdf(ep, record)
    finally:
        ep.db.close()


def test_sixty_goals_print_once_and_no_heading_ends_a_page(episode: Episode, form: Form) -> None:
    """60 goals of long text; the assessment's length moves the goals' heading down page one
    (it never ends a page with its table on the next)."""
    for n in range(57):
        info = r.GoalInfo("long" if n % 2 else "short", f"Goal number {n:02d} " + "word " * 30)
        r.add_goal(episode.db, episode.episode_id, info, user="dana")
    titles = [*GOALS, *(f"Goal number {n:02d}" for n in range(57))]
    pages = []
    for lines in range(0, 40, 3):
        impression = "\n".join(f"Line {k} of the assessment." for k in range(lines))
        values = visit_values(4, left=230, visit_impression=impression or "Short.")
        pdf = _pdf(episode, _visit(episode, form, values))
        part = _letters(pdf.flat)
        for title in titles:
            assert _goal_rows(pdf.flat, title) == 1 == _goal_rows(part["A"], title), title
        (page,) = [p for p in pdf.pages if GOALS_HEADING in p]
        assert "-term:" in page.split(GOALS_HEADING, 1)[1], f"{lines} lines: heading alone"
        pages.append(len(pdf.pages))
    assert max(pages) <= 12, pages  # printed twice: 19 pages
