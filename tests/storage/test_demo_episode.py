"""The demo's episode of care (issue 15): `clinic-app demo` in a new data folder makes a whole
episode (initial evaluation, signed visit notes over six weeks, a re-evaluation, a discharge,
goals and a plan of care), and every other demo evaluation lands in an episode too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from clinic_app.core import findings as findings_mod
from clinic_app.core import progress
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import demo
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import StorageError

TODAY = date(2025, 3, 14)  # in the past on any machine running this


@pytest.fixture(scope="module")
def shipped_form() -> Form:
    return load_form(default_form_path())


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clinic_app", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=180,
    )


def _whole_episodes(db: Database) -> list[r.Episode]:
    """The episodes that hold visit notes (the demo's whole episodes)."""
    found = []
    for patient in r.list_patients(db, limit=100, include_archived=True):
        for episode in r.list_episodes(db, patient.id):
            kinds = {e.kind for e in r.list_evaluations(db, patient.id, episode_id=episode.id)}
            if "visit" in kinds:
                found.append(episode)
    return found


def _counts(db: Database) -> tuple[int, int, int, int]:
    patients = r.list_patients(db, limit=100, include_archived=True)
    episodes = [e for p in patients for e in r.list_episodes(db, p.id)]
    evaluations = sum(len(r.list_evaluations(db, p.id)) for p in patients)
    goals = sum(len(r.list_goals(db, e.id)) for e in episodes)
    return len(patients), len(episodes), evaluations, goals


def test_demo_command_in_a_new_data_folder_makes_a_whole_episode(
    private_data_dir: Path, shipped_form: Form
) -> None:
    assert not private_data_dir.exists()
    done = run("demo")
    assert done.returncode == 0, done.stderr
    url = f"sqlite:///{private_data_dir / 'clinic.db'}"
    with open_database(url, backup=False) as db:
        (episode,) = _whole_episodes(db)
        records = r.episode_records(db, episode.id)
        visits = [e for e in records if e.kind == "visit"]
        kinds = [e.kind for e in records]
        assert kinds[0] == "initial"
        assert kinds[-1] == "discharge"
        assert len(visits) >= 4
        assert (visits[-1].eval_date - visits[0].eval_date).days >= 35  # five weeks or more
        assert 35 <= (records[-1].eval_date - records[0].eval_date).days <= 49
        (review,) = [e for e in records if e.kind == "re_evaluation"]
        assert 21 <= (review.eval_date - episode.start_date).days <= 35  # about four weeks
        assert all(e.is_signed for e in records)  # visit notes signed too
        assert all(r.get_evaluation(db, e.id).seal for e in records)  # and sealed
        assert episode.end_date == records[-1].eval_date  # closed on the discharge date
        assert episode.involved_side == "left"
        assert any(r.get_evaluation(db, e.id).addenda for e in visits)

        # The visit notes hold the SOAP items, with interventions as rows.
        for visit in visits:
            values = visit.values
            for key in ("visit_pain_worst", "visit_report", "hep_days", "visit_impression"):
                assert key in values, (visit.id, key)
            rows = values["interventions"]
            assert rows
            assert all({"kind", "name"} <= set(row) for row in rows)
            assert any("minutes" in row for row in rows)
        remeasured = [v for v in visits if "nordic_force" in v.values]
        assert len(remeasured) >= 2

        # Re-measured items improve: the Nordic deficit shrinks, the bridge and SLR gaps close.
        found = progress.item_progress(
            shipped_form,
            [progress.Record(e.id, e.kind, e.eval_date, e.values, e.status) for e in records],
        )
        by_item = {p.item.id: p for p in found}
        nordic = by_item["nordic_force"]
        assert nordic.times >= 4
        assert nordic.latest["left"] > nordic.baseline["left"]
        assert "26% deficit" in nordic.baseline_text()
        assert "5% deficit" in nordic.latest_text()
        assert by_item["sl_bridge_reps"].latest["left"] > by_item["sl_bridge_reps"].baseline["left"]
        assert by_item["slr_deg"].latest["left"] > by_item["slr_deg"].baseline["left"]

        goals = r.list_goals(db, episode.id)
        assert len(goals) >= 4
        assert {g.term for g in goals} == {"short", "long"}
        met = [g for g in goals if g.status == "met"]
        assert len(met) >= 3
        assert len(met) < len(goals)
        assert all(g.history for g in goals)
        nordic_goal = next(g for g in goals if g.target and g.target["item"] == "nordic_force")
        assert nordic_goal.target["measure"] == "deficit"
        assert [h.status for h in nordic_goal.history] == ["progressing", "met"]
        assert all(h.status == h.suggested for h in nordic_goal.history)
        # Set and reviewed on the story's days, not on the day the demo ran.
        assert {g.created_at.date() for g in goals} == {episode.start_date}
        assert [h.set_at.date() for h in nordic_goal.history] == [
            review.eval_date,
            records[-1].eval_date,
        ]
        functional = next(g for g in goals if g.target is None)
        assert functional.status == "met"  # the clinician's judgement, not a suggestion
        assert functional.history[-1].suggested != "met"

        plans = r.plan_history(db, episode.id)
        assert len(plans) == 2
        assert plans[0].start_date == episode.start_date
        assert plans[1].start_date == review.eval_date  # revised at the re-evaluation
        assert plans[0].visits_per_week
        assert plans[0].duration_weeks
        assert plans[0].interventions

        timeline = r.timeline(db, episode.id)
        whats = [t.what for t in timeline]
        assert all(episode.start_date <= t.on <= episode.end_date for t in timeline)
        assert whats.count("visit") == len(visits)
        assert whats.count("plan") == 2
        assert "goal_status" in whats
        assert any(t.kind == "end" for t in timeline)
        assert r.care_due(db, episode.id, records[-1].eval_date).closed

        # Every demo evaluation, the other patients' too, lies in an episode of its patient.
        patients = r.list_patients(db, limit=100, include_archived=True)
        assert len(patients) == len(demo.PATIENTS)
        for patient in patients:
            own = {e.id for e in r.list_episodes(db, patient.id)}
            for summary in r.list_evaluations(db, patient.id):
                assert summary.episode_id in own, (patient.mrn, summary.id)
        nowak = r.get_patient_by_mrn(db, demo.EPISODES[0].mrn)
        assert nowak is not None
        assert episode.patient_id == nowak.id
        assert len(r.list_episodes(db, nowak.id)) == 2  # the closed one and today's problem
        before = _counts(db)

    # The discharge's note text gives the goals the statuses they had that day.
    note = run("note", str(records[-1].id))
    assert note.returncode == 0, note.stderr
    line = next(x for x in note.stdout.splitlines() if "Nordic force side-to-side" in x)
    assert ": met" in line, note.stdout

    verified = run("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    again = run("demo")
    assert again.returncode == 2
    assert "already" in again.stderr
    with open_database(url, backup=False) as db:
        assert _counts(db) == before  # nothing duplicated


def test_demo_episode_dates_and_statuses_on_each_backend(db: Database, shipped_form: Form) -> None:
    result = demo.fill_demo(db, shipped_form, today=TODAY)
    assert result.episodes == len(demo.EPISODES) == 1
    story = demo.EPISODES[0]
    (episode,) = _whole_episodes(db)
    start = TODAY - timedelta(days=story.start_days_ago)
    assert episode.start_date == start
    assert episode.referral_date == start - timedelta(days=story.referral_days_before or 0)
    records = r.episode_records(db, episode.id)
    assert [(e.eval_date - start).days for e in records] == [x.day for x in story.records]
    assert episode.end_date == start + timedelta(days=story.records[-1].day) < TODAY
    # DemoResult counts the visit notes as evaluations, as list_evaluations lists them.
    total = sum(
        len(r.list_evaluations(db, p.id)) for p in r.list_patients(db, include_archived=True)
    )
    assert result.evaluations == total
    # The statuses are what goal_progress suggests from the discharge's values, except the
    # functional goal the clinician judged herself.
    goals = r.list_goals(db, episode.id)
    shown = progress.goal_progress(
        shipped_form,
        goals,
        [progress.Record(e.id, e.kind, e.eval_date, e.values, e.status) for e in records],
        involved=episode.involved_side,
        today=episode.end_date,
    )
    for goal, suggestion in zip(goals, shown, strict=True):
        if goal.target is not None:
            assert goal.status == suggestion.suggested, goal.text
        for entry in goal.history:
            assert entry.set_by == r.list_clinicians(db)[story.clinician].name
    lefs = next(g for g in goals if g.target and g.target["item"] == "lefs_total")
    assert lefs.status == "progressing"  # 74 of 75 at discharge, target date still ahead
    with pytest.raises(StorageError, match="already"):
        demo.fill_demo(db, shipped_form, today=TODAY)


def test_episode_files_are_findings_json_of_the_shipped_form(shipped_form: Form) -> None:
    assert demo.unknown_items(shipped_form) == set()
    data = json.loads((demo.DEMO_DIR / "demo.json").read_text("utf-8"))
    for entry in data["episodes"]:
        folder = demo.DEMO_DIR / entry["folder"]
        listed = {x["findings"] for x in entry["records"]}
        assert listed == {p.name for p in folder.glob("*.json")}
        for name in sorted(listed):
            findings = findings_mod.load(shipped_form, folder / name)  # raises on a bad value
            assert not findings.is_empty(), name
        for goal in entry["goal_list"]:
            r.parse_target(goal.get("target"), shipped_form)  # raises on a target the form refuses


def _nothing_stored(db: Database) -> None:
    assert r.count_patients(db, include_archived=True) == 0
    assert r.get_clinic(db) is None
    assert r.audit_events(db) == []


def test_an_episode_that_fails_at_its_last_step_keeps_nothing(
    db: Database, shipped_form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A goal the form refuses, added after the episode's initial evaluation was signed: the
    whole demo rolls back (one transaction), and the real one then runs."""
    story = demo.EPISODES[0]
    bad_goal = replace(
        story.goals[-1],
        info={**story.goals[-1].info, "target": {"item": "nope", "op": "<", "threshold": 1}},
    )
    broken = replace(story, goals=(*story.goals, bad_goal))
    monkeypatch.setattr(demo, "EPISODES", (broken,))
    with pytest.raises(StorageError, match="nope"):
        demo.fill_demo(db, shipped_form, today=TODAY)
    _nothing_stored(db)
    monkeypatch.undo()
    demo.fill_demo(db, shipped_form, today=TODAY)
    assert len(_whole_episodes(db)) == 1


def _copy_demo(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    folder = tmp_path / "demo"
    shutil.copytree(demo.DEMO_DIR, folder)
    return folder, json.loads((folder / "demo.json").read_text("utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.update(patient="DEMO-9999"), "no such demo patient"),
        (lambda e: e.update(patient="DEMO-0006"), "archived"),
        (lambda e: e.update(clinician=7), "no clinician 7"),
        (lambda e: e["records"][3].update(day=400), "after today"),
        (lambda e: e["records"][3].update(kind="phone_call"), "not an evaluation kind"),
        (lambda e: e["goal_list"][-1]["decisions"][0].update(status="done"), "not a goal status"),
    ],
)
def test_a_mistake_in_the_episode_data_is_named(tmp_path: Path, change, message: str) -> None:
    folder, data = _copy_demo(tmp_path)
    change(data["episodes"][0])  # type: ignore[index]
    (folder / "demo.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        demo.load_demo(folder)


def test_a_demo_without_episodes_still_loads(tmp_path: Path) -> None:
    folder, data = _copy_demo(tmp_path)
    del data["episodes"]
    (folder / "demo.json").write_text(json.dumps(data), encoding="utf-8")
    *_, episodes = demo.load_demo(folder)
    assert episodes == ()


def test_a_goal_set_earlier_keeps_its_day_and_the_audit_keeps_the_real_time(db: Database) -> None:
    from datetime import UTC, datetime

    patient = r.create_patient(db, r.PatientFields("Ada", "Lovelace", "M-1"), user="t")
    episode = r.create_episode(
        db, patient.id, r.EpisodeInfo("Left thigh", start_date=date(2025, 1, 6)), user="t"
    )
    earlier = datetime(2025, 1, 6, 12, tzinfo=UTC)
    goal = r.add_goal(db, episode.id, r.GoalInfo("short", "Sit an hour"), user="t", at=earlier)
    assert goal.created_at == earlier
    later = datetime(2025, 2, 3, 12, tzinfo=UTC)
    goal = r.set_goal_status(db, goal.id, "met", goal.version, user="t", at=later)
    assert [h.set_at for h in goal.history] == [later]
    events = [e for e in r.audit_events(db) if e.entity == "goal"]
    assert all(e.at.date() > later.date() for e in events)  # entered now, not back-dated
    for bad, message in (
        (datetime(2999, 1, 1, tzinfo=UTC), "in the future"),
        (datetime(2025, 2, 3, 12), "time zone"),
    ):
        with pytest.raises(StorageError, match=message):
            r.set_goal_status(db, goal.id, "not_met", goal.version, user="t", at=bad)
        with pytest.raises(StorageError, match=message):
            r.add_goal(db, episode.id, r.GoalInfo("long", "Run"), user="t", at=bad)
    assert r.get_goal(db, goal.id).status == "met"
    assert len(r.list_goals(db, episode.id)) == 1
