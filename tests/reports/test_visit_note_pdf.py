"""The visit note PDF: S/O/A/P from a stored visit note (a real SQLite file, the records API), the
red flag first, the signature as the clinician report prints it, hostile values laid out inside
the page; ``clinic-app report VISIT_ID -o FILE.pdf``."""

from __future__ import annotations

import io
import re
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from clinic_app.cli import main
from clinic_app.core.form import Form
from clinic_app.reports import layout
from clinic_app.reports.episode_data import visit_note_data
from clinic_app.reports.visit_note import write_visit_note
from clinic_app.storage import records as r
from clinic_app.storage.errors import NotFoundError, StorageError
from tests.reports.conftest import Pdf, need_tool
from tests.reports.test_progress_report import (  # the episode builder
    SIGNER,
    START,
    Episode,
    _record,
    make_episode,
    visit_values,
)


@pytest.fixture
def episode(tmp_path: Path, form: Form):  # type: ignore[no-untyped-def]
    ep = make_episode(tmp_path, form, visits=3, reeval=None)
    yield ep
    ep.db.close()


def _visit(ep: Episode, form: Form, values: dict[str, Any], *, sign: bool = False) -> int:
    on = START + timedelta(days=30)
    return _record(ep.db, form, ep.patient_id, ep.episode_id, "visit", on, values, sign=sign)


def _pdf(ep: Episode, visit_id: int) -> Pdf:
    stream = io.BytesIO()
    write_visit_note(ep.db, visit_id, stream)
    return Pdf(stream.getvalue())


def test_visit_note_has_soap_interventions_goals_and_draft(episode: Episode, form: Form) -> None:
    pdf = _pdf(episode, _visit(episode, form, visit_values(4, left=230)))  # a draft
    flat = pdf.flat
    assert "Visit note" in flat
    assert "Wang Fang 王芳" in flat
    assert "Left posterior thigh" in flat
    assert "4 of 12 planned" in flat
    # S
    assert "S: Subjective" in flat
    assert "Sat through a meeting, visit 4." in flat
    assert "Busy week at work." in flat
    assert "5 days" in flat
    # O: re-measured with the last value and its date, and the change
    assert "O: Objective" in flat
    assert "L 210 N / R 280 N (25% deficit) (7 Sep 2026)" in flat  # visit 3, the last before
    assert "L 230 N / R 280 N (18% deficit)" in flat  # today
    assert "L +20 N · R no change" in flat
    # the interventions and their minutes
    assert "Nordic hamstring lowers" in flat
    assert "3×6" in flat
    assert "Soft tissue, posterior thigh" in flat
    assert "Total: 15 minutes, 3 interventions" in flat
    # A: goals read from the latest values
    assert "A: Assessment" in flat
    assert "Tolerating load well (visit 4)." in flat
    assert "Nordic deficit below 30%" in flat
    assert "Sit through a 2-hour meeting" in flat
    # P
    assert "P: Plan" in flat
    assert "Re-test Nordic force next time." in flat
    assert "Add a second set of bridges." in flat
    # a draft: said in the signature place and on every page
    assert "DRAFT: not signed" in flat
    assert all("DRAFT" in page for page in pdf.pages)
    assert "Red flags" not in flat
    assert len(pdf.pages) <= 2


def test_signed_visit_note_prints_the_signature_and_addenda(episode: Episode) -> None:
    visit = episode.visit_ids[0]  # visit 1 is signed
    r.add_addendum(episode.db, visit, "Patient phoned: pain settled.", user=SIGNER)
    pdf = _pdf(episode, visit)
    flat = pdf.flat
    assert "Electronically signed" in flat
    assert f"Signed by: {SIGNER}" in flat
    ev = r.get_evaluation(episode.db, visit)
    assert ev.content_hash in flat.replace(" ", "")
    assert "Patient phoned: pain settled." in flat
    assert "DRAFT" not in pdf.text
    assert "first measured" not in flat  # visit 1 compares with the initial evaluation
    assert "L 190 N / R 280 N (32% deficit)" in flat


def test_red_flag_in_the_visit_comes_first(episode: Episode, form: Form) -> None:
    values = visit_values(9, left=200, rf_gap="yes")
    pdf = _pdf(episode, _visit(episode, form, values))
    flat = pdf.flat
    assert "Possible tendon avulsion" in flat
    assert "overrides everything" in flat
    assert flat.index("Possible tendon avulsion") < flat.index("S: Subjective")


def test_red_flag_of_the_episode_shows_in_a_later_visit(episode: Episode, form: Form) -> None:
    """A flag recorded earlier in the episode and not re-measured still fires."""
    _visit(episode, form, visit_values(8, left=200, rf_gap="yes"))
    later = _visit(episode, form, visit_values(9, left=205))
    data = visit_note_data(episode.db, later)
    assert [f.id for f in data.latest.red_flags] == ["R1"]
    assert "Possible tendon avulsion" in _pdf(episode, later).flat


def test_not_a_visit_note_and_unknown_ids(episode: Episode) -> None:
    with pytest.raises(StorageError, match="not a visit note"):
        _pdf(episode, episode.initial_id)
    with pytest.raises(NotFoundError):
        _pdf(episode, 9999)


def _words_outside(pdf_path: Path, right: float, left: float) -> list[str]:
    """Words whose box leaves the text column (pdftotext -bbox: positions in points)."""
    tool = need_tool("pdftotext")
    html = subprocess.run(
        [tool, "-bbox", str(pdf_path), "-"], check=True, capture_output=True, text=True
    ).stdout
    out = []
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)', html):
        x0, x1 = float(m.group(1)), float(m.group(2))
        if x0 < left - 1 or x1 > right + 1:
            out.append(f"{m.group(3)!r} {x0:.0f}-{x1:.0f}")
    return out


def test_hostile_values_lay_out_inside_the_page(episode: Episode, form: Form, tmp_path) -> None:
    long_text = ("Sehr lange Beschreibung ohne Pause " * 55)[:1990]
    unbroken = "王芳" * 900 + "x" * 200  # no space to break at
    rows = [
        {
            "kind": ["exercise", "manual", "education", "other"][n % 4],
            "name": (f"{n + 1}. " + "W" * 117)[:120],
            "sets": 20,
            "reps": 200,
            "load": "L" * 40,
            "minutes": 180,
        }
        for n in range(30)
    ]
    values = visit_values(
        7,
        left=999,
        visit_report_text=long_text,
        hep_barriers="y" * 500,
        visit_impression=unbroken,
        next_visit_plan="Plan " * 700,
        scar_where="Narbe " * 50,  # a re-measured text item
        psfs_activity_1="王" * 200,
    )
    values["interventions"] = rows
    visit = _visit(episode, form, values)
    out = tmp_path / "hostile.pdf"
    t0 = time.perf_counter()
    write_visit_note(episode.db, visit, out)
    elapsed = time.perf_counter() - t0
    pdf = Pdf(out.read_bytes())
    flat = pdf.flat
    assert "Total: 5400 minutes, 30 interventions" in flat
    assert "30. WWW" in flat
    assert "王芳王芳" in flat
    assert "Narbe Narbe" in flat
    width = float(pdf.reader.pages[0].mediabox.width)
    outside = _words_outside(out, width - layout.MARGIN, layout.MARGIN)
    assert not outside, outside[:5]
    assert elapsed < 5


def test_visit_note_is_fast(episode: Episode) -> None:
    write_visit_note(episode.db, episode.visit_ids[-1], io.BytesIO())
    best = min(_timed(episode) for _ in range(3))
    assert best < 0.5, f"visit note took {best * 1000:.0f} ms"


def _timed(ep: Episode) -> float:
    t0 = time.perf_counter()
    write_visit_note(ep.db, ep.visit_ids[-1], io.BytesIO())
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# the command line


def test_cli_writes_the_visit_note_and_logs_the_export(episode: Episode, tmp_path, capsys):
    out = tmp_path / "visit.pdf"
    visit = episode.visit_ids[1]
    assert main(["--database", episode.url, "report", str(visit), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert "S: Subjective" in Pdf(out.read_bytes()).flat
    log = r.access_log(episode.db, actions=["export"])
    assert [(e.entity, e.entity_id) for e in log] == [("evaluation", visit)]
    # --kind visit says the same; the evaluation's own id still gives the clinician report
    again = tmp_path / "again.pdf"
    assert (
        main(["--database", episode.url, "report", str(visit), "--kind", "visit", "-o", str(again)])
        == 0
    )
    assert "S: Subjective" in Pdf(again.read_bytes()).flat
    initial = tmp_path / "initial.pdf"
    assert (
        main(["--database", episode.url, "report", str(episode.initial_id), "-o", str(initial)])
        == 0
    )
    assert "Clinician report" in Pdf(initial.read_bytes()).flat


@pytest.mark.parametrize(
    ("which", "kind", "message"),
    [
        ("visit", "handout", "is a visit note"),
        ("initial", "visit", "is not a visit note"),
        ("missing", "visit", "evaluation 9999 does not exist"),
        ("missing", None, "evaluation 9999 does not exist"),
    ],
)
def test_cli_refuses_with_one_line(
    episode: Episode, which: str, kind: str | None, message: str, tmp_path, capsys
) -> None:
    ids = {"visit": episode.visit_ids[0], "initial": episode.initial_id, "missing": 9999}
    out = tmp_path / "x.pdf"
    args = ["--database", episode.url, "report", str(ids[which]), "-o", str(out)]
    if kind:
        args += ["--kind", kind]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert message in err
    assert not out.exists()
    assert not r.access_log(episode.db, actions=["export"])


def test_goals_show_the_status_set_by_the_visit_day(episode: Episode, form: Form) -> None:
    """A status the clinician set after the visit is not printed on it."""
    from datetime import UTC, datetime

    goal = r.get_goal(episode.db, episode.goal_ids[1])
    on = datetime.combine(START + timedelta(days=20), datetime.min.time(), UTC).replace(hour=12)
    r.set_goal_status(episode.db, goal.id, "progressing", goal.version, user="dana", at=on)
    before = visit_note_data(episode.db, episode.visit_ids[0])  # 3 Sep: before it was set
    after = visit_note_data(episode.db, _visit(episode, form, visit_values(5, left=220)))  # 1 Oct
    status = {g.goal_id: g.status for g in before.goals}
    assert status[goal.id] == "not_started"
    assert {g.goal_id: g.status for g in after.goals}[goal.id] == "progressing"
