"""The progress report and discharge summary of an episode, built from a real SQLite file with the
records API and read back with pypdf; the ``clinic-app report EPISODE --kind ...`` command."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from clinic_app.cli import main
from clinic_app.core.form import Form
from clinic_app.reports.episode_data import ReportKindError, progress_data
from clinic_app.reports.progress_report import write_progress_report
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import NotFoundError
from tests.reports.conftest import EXAMPLES_DIR, Pdf
from tests.storage.conftest import (  # noqa: F401 - the throwaway PostgreSQL server's fixtures
    postgres_migrated_url,
    postgres_server,
    postgres_template,
)

START = date(2026, 9, 1)
SIGNER = "Zoë Kim"


def _values(name: str = "runner_left_proximal") -> dict[str, Any]:
    return dict(json.loads((EXAMPLES_DIR / f"{name}.json").read_text())["values"])


@dataclass
class Episode:
    db: Database
    url: str
    patient_id: int
    episode_id: int
    initial_id: int
    visit_ids: list[int]
    reeval_id: int | None = None
    discharge_id: int | None = None
    goal_ids: tuple[int, ...] = ()


def _record(
    db: Database,
    form: Form,
    patient_id: int,
    episode_id: int,
    kind: str,
    on: date,
    values: dict[str, Any],
    *,
    sign: bool,
    clinician_id: int | None = None,
    copy: bool = False,
) -> int:
    ev = r.start_evaluation(
        db,
        patient_id,
        form,
        user="dana",
        kind=kind,  # type: ignore[arg-type]
        eval_date=on,
        episode_id=episode_id,
        copy_forward=copy,
        clinician_id=clinician_id,
    )
    if copy:  # carried forward, then these re-measured
        values = {**ev.findings.get("values", {}), **values}
    saved = r.save_draft(db, ev.id, {"values": values}, ev.version, user="dana")
    if sign:
        r.sign_evaluation(db, ev.id, saved.version, user=SIGNER)
    return ev.id


def visit_values(n: int, *, left: float, interventions: int = 3, **extra: Any) -> dict[str, Any]:
    rows = [
        {
            "kind": "exercise",
            "name": "Nordic hamstring lowers",
            "sets": 3,
            "reps": 6,
            "load": "body",
        },
        {"kind": "manual", "name": "Soft tissue, posterior thigh", "minutes": 10},
        {"kind": "education", "name": "Load and sitting advice", "minutes": 5},
    ]
    rows = (rows * (interventions // 3 + 1))[:interventions]
    values: dict[str, Any] = {
        "pain_now": max(0, 4 - n // 2),
        "visit_pain_worst": 5,
        "visit_report": "better",
        "visit_report_text": f"Sat through a meeting, visit {n}.",
        "hep_days": 5,
        "hep_barriers": "Busy week at work.",
        "interventions": rows,
        "visit_impression": f"Tolerating load well (visit {n}).",
        "next_visit_plan": "Re-test Nordic force next time.",
        "program_changes": "Add a second set of bridges.",
        "nordic_force": {"left": left, "right": 280},
    }
    values.update(extra)
    return values


def make_episode(
    tmp_path: Path,
    form: Form,
    *,
    visits: int = 4,
    reeval: str | None = "signed",
    discharge: str | None = None,
    plan: bool = True,
    url: str | None = None,
) -> Episode:
    """An episode: a signed initial evaluation (Nordic L 190 / R 280 N), ``visits`` visit notes a
    week apart (the left side growing to 210 N), goals, a plan of care, a re-evaluation and a
    discharge evaluation ("signed", "draft" or None)."""
    url = url or f"sqlite:///{tmp_path / 'clinic.db'}"
    db = open_database(url, backup=False)
    r.save_clinic(db, r.ClinicInfo("Lakeside Physio", "1 Shore Rd", "555 0199"), user="admin")
    who = r.save_clinician(db, r.ClinicianInfo(SIGNER, "PT"), user="admin")
    patient = r.create_patient(
        db, r.PatientFields("Wang", "Fang 王芳", "M-15", date(1990, 1, 2)), user="admin"
    )
    episode = r.create_episode(
        db,
        patient.id,
        r.EpisodeInfo("Left posterior thigh", "left", referral_source="Dr Ortiz", start_date=START),
        user="dana",
    )
    initial = _values()
    initial["nordic_force"] = {"left": 190, "right": 280}
    initial["plan"] = "Load the hamstrings progressively; review sitting."
    first = _record(
        db, form, patient.id, episode.id, "initial", START, initial, sign=True, clinician_id=who.id
    )
    goals = (
        r.add_goal(
            db,
            episode.id,
            r.GoalInfo(
                "short",
                "Nordic deficit below 30%",
                {"item": "nordic_force", "measure": "deficit", "op": "<", "threshold": 30},
                START + timedelta(weeks=8),
            ),
            user="dana",
            form=form,
        ),
        r.add_goal(
            db,
            episode.id,
            r.GoalInfo(
                "long",
                "Nordic deficit below 10%",
                {"item": "nordic_force", "measure": "deficit", "op": "<", "threshold": 10},
                START + timedelta(weeks=12),
            ),
            user="dana",
            form=form,
        ),
        r.add_goal(db, episode.id, r.GoalInfo("long", "Sit through a 2-hour meeting"), user="dana"),
    )
    r.set_goal_status(db, goals[0].id, "met", goals[0].version, user="dana")
    if plan:
        r.save_plan(
            db,
            episode.id,
            r.PlanInfo(START, 2, 6, 12, "Progressive hamstring loading; manual therapy."),
            user="dana",
        )
    ids = []
    for n in range(1, visits + 1):
        left = 190 + round(20 * n / visits)
        ids.append(
            _record(
                db,
                form,
                patient.id,
                episode.id,
                "visit",
                START + timedelta(days=2 * n),
                visit_values(n, left=left),
                sign=n % 2 == 1,
            )
        )
    out = Episode(db, url, patient.id, episode.id, first, ids, goal_ids=tuple(g.id for g in goals))
    last = START + timedelta(days=2 * visits + 1)
    if reeval is not None:
        values = {
            "nordic_force": {"left": 210, "right": 280},
            "pain_now": 2,
            "plan": "Continue loading; start running drills.",
        }
        out.reeval_id = _record(
            db,
            form,
            patient.id,
            episode.id,
            "re_evaluation",
            last,
            values,
            sign=reeval == "signed",
            copy=True,
        )
    if discharge is not None:
        values = {"nordic_force": {"left": 260, "right": 280}, "pain_now": 0}
        out.discharge_id = _record(
            db,
            form,
            patient.id,
            episode.id,
            "discharge",
            last + timedelta(days=7),
            values,
            sign=discharge == "signed",
            copy=True,
        )
    return out


@pytest.fixture
def episode_maker(tmp_path: Path, form: Form) -> Callable[..., Episode]:
    made: list[Episode] = []

    def make(**kw: Any) -> Episode:
        ep = make_episode(tmp_path, form, **kw)
        made.append(ep)
        return ep

    yield make  # type: ignore[misc]
    for ep in made:
        ep.db.close()


def _pdf(db: Database, episode_id: int, kind: str) -> Pdf:
    stream = io.BytesIO()
    write_progress_report(db, episode_id, kind, stream)
    return Pdf(stream.getvalue())


def test_progress_report_has_baseline_latest_goals_visits_and_signature(episode_maker) -> None:
    ep = episode_maker(visits=4, reeval="signed")
    pdf = _pdf(ep.db, ep.episode_id, "progress")
    flat = pdf.flat
    assert "Progress report" in flat
    assert "Wang Fang 王芳" in flat
    assert "L 190 N / R 280 N (32% deficit)" in flat  # baseline
    assert "L 210 N / R 280 N (25% deficit)" in flat  # latest: the re-evaluation
    assert "L +20 N" in flat
    # goals: the clinician's status and the app's suggestion
    assert "Nordic deficit below 30%" in flat
    assert "Nordic deficit below 10%" in flat
    assert "Sit through a 2-hour meeting" in flat
    assert "met" in flat
    assert "progressing" in flat
    assert "not started" in flat
    assert "4 visit notes from 3 Sep 2026 to 9 Sep 2026 (2 signed)" in flat
    assert "Planned in the plan of care: 12 visits" in flat
    assert "Electronically signed" in flat
    assert f"Signed by: {SIGNER}" in flat
    assert "DRAFT" not in pdf.text
    assert "young male field-sport athletes" in flat  # the Nordic cut-off is labelled
    assert "Continue loading; start running drills." in flat  # the re-evaluation's plan
    assert "2 a week" in flat
    assert "6 weeks" in flat


def test_unsigned_reevaluation_says_draft_on_every_page(episode_maker) -> None:
    ep = episode_maker(visits=4, reeval="draft")
    pdf = _pdf(ep.db, ep.episode_id, "progress")
    for page in pdf.pages:
        assert "DRAFT" in page
        assert "re-evaluation of" in re.sub(r"\s+", " ", page)
        assert "is not signed" in page
    assert "Electronically signed" not in pdf.flat


def test_no_discharge_evaluation_yet(episode_maker) -> None:
    ep = episode_maker(visits=2, reeval="signed")
    pdf = _pdf(ep.db, ep.episode_id, "discharge")
    assert "Discharge summary" in pdf.flat
    for page in pdf.pages:
        assert "DRAFT: no discharge evaluation yet" in re.sub(r"\s+", " ", page)
    assert "Electronically signed" not in pdf.flat


def test_signed_discharge_reads_up_to_the_discharge(episode_maker) -> None:
    ep = episode_maker(visits=3, reeval="signed", discharge="signed")
    flat = _pdf(ep.db, ep.episode_id, "discharge").flat
    assert "L 260 N / R 280 N (7% deficit)" in flat
    assert "Electronically signed" in flat
    data = progress_data(ep.db, ep.episode_id, "discharge")
    long_goal = next(g for g in data.goals if g.text == "Nordic deficit below 10%")
    assert long_goal.suggested == "met"
    # the progress report still belongs to the re-evaluation: 210 N is its latest
    assert "L 210 N / R 280 N (25% deficit)" in _pdf(ep.db, ep.episode_id, "progress").flat


def test_bad_kind_and_unknown_episode(episode_maker) -> None:
    ep = episode_maker(visits=1, reeval=None)
    with pytest.raises(ReportKindError):
        _pdf(ep.db, ep.episode_id, "handout")
    with pytest.raises(NotFoundError):
        _pdf(ep.db, 999, "progress")


def test_thirty_visits_fit_and_are_fast(episode_maker) -> None:
    ep = episode_maker(visits=30, reeval="signed")
    write_progress_report(ep.db, ep.episode_id, "progress", io.BytesIO())  # warm
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        stream = io.BytesIO()
        write_progress_report(ep.db, ep.episode_id, "progress", stream)
        best = min(best, time.perf_counter() - t0)
    pdf = Pdf(stream.getvalue())
    assert "30 visit notes" in pdf.flat
    assert best < 0.6, f"progress report of a 30-visit episode took {best * 1000:.0f} ms"


# ---------------------------------------------------------------------------------------------
# the command line


def test_cli_writes_the_progress_report_and_logs_the_export(episode_maker, tmp_path: Path, capsys):
    ep = episode_maker(visits=2, reeval="draft")  # a signed one prints the sealed paper size
    r.save_clinic(
        ep.db, r.ClinicInfo("Lakeside Physio", "1 Shore Rd", paper_size="Letter"), user="admin"
    )
    out = tmp_path / "p.pdf"
    code = main(
        ["--database", ep.url, "report", str(ep.episode_id), "--kind", "progress", "-o", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    pdf = Pdf(out.read_bytes())
    assert "L 210 N / R 280 N (25% deficit)" in pdf.flat
    assert round(float(pdf.reader.pages[0].mediabox.width)) == 612  # the clinic's paper
    log = r.access_log(ep.db)
    assert any(
        (e.action, e.entity, e.entity_id) == ("export", "evaluation", ep.reeval_id) for e in log
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999", "--kind", "progress"], "episode 999 does not exist"),
        (["999", "--kind", "discharge"], "episode 999 does not exist"),
        (["--findings", "x.json", "--kind", "progress"], "EPISODE_ID"),
        (["abc", "--kind", "progress"], "not an evaluation or episode id"),
        (["1", "--kind", "nonsense"], "invalid choice"),
    ],
)
def test_cli_bad_input_is_one_line(
    args: list[str], message: str, episode_maker, tmp_path: Path, capsys
) -> None:
    ep = episode_maker(visits=1, reeval=None)
    out = tmp_path / "bad.pdf"
    try:
        code = main(["--database", ep.url, "report", *args, "-o", str(out)])
    except SystemExit as stop:  # argparse's own refusal
        code = stop.code  # type: ignore[assignment]
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err, err
    assert len(err.splitlines()) in (1, 2)  # argparse prints its usage line first
    assert not out.exists()


def test_an_episode_with_nothing_recorded(tmp_path: Path) -> None:
    with open_database(f"sqlite:///{tmp_path / 'empty.db'}", backup=False) as db:
        patient = r.create_patient(db, r.PatientFields("Ana", "Li", "E-1"), user="admin")
        episode = r.create_episode(db, patient.id, r.EpisodeInfo("Right thigh"), user="dana")
        pdf = _pdf(db, episode.id, "discharge")
    flat = pdf.flat
    assert "No item was measured more than once in this episode yet." in flat
    assert "No goal is recorded for this episode." in flat
    assert "No visit note in this episode yet." in flat
    assert "No plan of care is recorded for this episode." in flat
    assert all("DRAFT: no discharge evaluation yet" in p for p in pdf.pages)


def test_a_red_flag_of_the_episode_comes_first(episode_maker, form: Form) -> None:
    """Even one recorded in a visit after the report's re-evaluation: a red flag overrides."""
    ep = episode_maker(visits=2, reeval="signed")
    _record(
        ep.db,
        form,
        ep.patient_id,
        ep.episode_id,
        "visit",
        START + timedelta(days=20),
        visit_values(3, left=200, rf_gap="yes"),
        sign=False,
    )
    flat = _pdf(ep.db, ep.episode_id, "progress").flat
    assert "Possible tendon avulsion" in flat
    assert flat.index("Possible tendon avulsion") < flat.index("Baseline and latest values")


def test_a_broken_seal_of_the_reevaluation_is_printed_on_every_page(
    episode_maker, tmp_path: Path
) -> None:
    import sqlite3

    ep = episode_maker(visits=2, reeval="signed")
    path = tmp_path / "clinic.db"
    ep.db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER evaluation_signed_no_update")
    conn.execute(
        "UPDATE evaluation SET findings = json_set(findings, '$.values.pain_now', 9) WHERE id = ?",
        (ep.reeval_id,),
    )
    conn.close()
    ep.db = open_database(ep.url, migrate=False, backup=False)
    pdf = _pdf(ep.db, ep.episode_id, "progress")
    assert "This record was changed after it was signed: findings" in pdf.flat
    assert all("SEAL BROKEN" in page for page in pdf.pages)


def test_hostile_texts_lay_out_inside_the_page(tmp_path: Path, form: Form) -> None:
    from clinic_app.reports import layout
    from tests.reports.test_visit_note_pdf import _words_outside

    ep = make_episode(tmp_path, form, visits=2, reeval="draft")
    try:
        episode = r.get_episode(ep.db, ep.episode_id)
        r.update_episode(
            ep.db,
            ep.episode_id,
            r.EpisodeInfo(
                "王芳" * 100,
                "left",
                referral_source="R" * 200,
                referral_reason=("Lange Überweisung ohne Ende " * 200)[:4000],
                start_date=START,
            ),
            episode.version,
            user="dana",
        )
        r.add_goal(ep.db, ep.episode_id, r.GoalInfo("short", "G" * 500), user="dana")
        r.save_plan(
            ep.db,
            ep.episode_id,
            r.PlanInfo(START, 7, 52, 364, ("Intervention " * 400)[:4000]),
            user="dana",
        )
        out = tmp_path / "hostile.pdf"
        write_progress_report(ep.db, ep.episode_id, "progress", out)
    finally:
        ep.db.close()
    pdf = Pdf(out.read_bytes())
    assert "王芳王芳" in pdf.flat
    assert "GGGG" in pdf.flat
    assert all("DRAFT" in page for page in pdf.pages)
    width = float(pdf.reader.pages[0].mediabox.width)
    outside = _words_outside(out, width - layout.MARGIN, layout.MARGIN)
    assert not outside, outside[:5]


@pytest.mark.postgres
def test_on_postgresql(tmp_path: Path, form: Form, request: pytest.FixtureRequest) -> None:
    """The same documents from a real PostgreSQL server (the storage tests' throwaway one)."""
    url = str(request.getfixturevalue("postgres_migrated_url"))
    ep = make_episode(tmp_path, form, visits=3, reeval="signed", url=url)
    try:
        flat = _pdf(ep.db, ep.episode_id, "progress").flat
        stream = io.BytesIO()
        from clinic_app.reports.visit_note import write_visit_note

        write_visit_note(ep.db, ep.visit_ids[0], stream)
    finally:
        ep.db.close()
    assert "L 210 N / R 280 N (25% deficit)" in flat
    assert f"Signed by: {SIGNER}" in flat
    assert "S: Subjective" in Pdf(stream.getvalue()).flat
