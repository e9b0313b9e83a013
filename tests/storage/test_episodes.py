"""Episodes of care (issue 15): open, change, close; where a new record goes; what falls due;
the timeline; the audit trail. SQLite and PostgreSQL (``db``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinic_app.core.form import Form
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import NotFoundError, StaleRecordError, StorageError

D0 = date(2026, 3, 2)


def patient(db: Database, family: str = "Müller", referrer: str = "Dr. Berg") -> int:
    fields = r.PatientFields("Anna", family, mrn=f"M-{family}", referring_provider=referrer)
    return r.create_patient(db, fields, user="dana").id


def audit_count(db: Database) -> int:
    return len(r.audit_events(db, limit=100_000))


def test_create_list_get_and_the_audit_event(db: Database) -> None:
    pid = patient(db)
    info = r.EpisodeInfo(
        "Left posterior thigh",
        involved_side="left",
        referral_source="Dr. Berg",
        referral_reason="Sprinter, pain on acceleration\nsince March",
        referral_date=D0 - timedelta(days=3),
        start_date=D0,
    )
    first = r.create_episode(db, pid, info, user="dana")
    assert (first.title, first.involved_side, first.start_date, first.end_date) == (
        "Left posterior thigh",
        "left",
        D0,
        None,
    )
    assert first.referral_reason == "Sprinter, pain on acceleration\nsince March"
    assert (first.version, first.created_by, first.updated_by) == (1, "dana", "dana")
    later = r.create_episode(
        db,
        pid,
        r.EpisodeInfo("  Right posterior thigh  ", start_date=D0 + timedelta(days=200)),
        user="dana",
    )
    assert later.title == "Right posterior thigh"  # trimmed
    assert [e.id for e in r.list_episodes(db, pid)] == [later.id, first.id]  # newest first
    assert r.get_episode(db, first.id) == first
    events = r.audit_events(db, entity="episode", entity_id=first.id)
    assert [(e.action, e.actor, e.before_digest) for e in events] == [("create", "dana", None)]
    assert events[0].after_digest
    with pytest.raises(NotFoundError):
        r.get_episode(db, 9999)
    with pytest.raises(NotFoundError):
        r.create_episode(db, 9999, r.EpisodeInfo("x"), user="dana")
    assert r.list_episodes(db, 9999) == []


def test_update_close_and_stale_versions(db: Database) -> None:
    pid = patient(db)
    ep = r.create_episode(db, pid, r.EpisodeInfo("Posterior thigh", start_date=D0), user="dana")
    changed = r.update_episode(
        db, ep.id, r.EpisodeInfo("Left posterior thigh", involved_side="left"), 1, user="lee"
    )
    assert (changed.version, changed.updated_by, changed.start_date) == (2, "lee", D0)
    same = r.update_episode(
        db, ep.id, r.EpisodeInfo("Left posterior thigh", involved_side="left"), 2, user="lee"
    )
    assert same.version == 2  # nothing changed, nothing written
    with pytest.raises(StaleRecordError) as stale:
        r.update_episode(db, ep.id, r.EpisodeInfo("Stale edit"), 1, user="dana")
    assert "\n" not in str(stale.value)
    assert r.get_episode(db, ep.id).title == "Left posterior thigh"
    closed = r.update_episode(
        db,
        ep.id,
        r.EpisodeInfo("Left posterior thigh", involved_side="left", end_date=D0 + timedelta(40)),
        2,
        user="lee",
    )
    assert (closed.end_date, closed.version) == (D0 + timedelta(40), 3)
    actions = [e.action for e in reversed(r.audit_events(db, entity="episode", entity_id=ep.id))]
    assert actions == ["create", "update", "update"]


def test_dates_the_episode_refuses(db: Database, form: Form) -> None:
    pid = patient(db)
    ep = r.create_episode(db, pid, r.EpisodeInfo("Thigh", start_date=D0), user="dana")
    r.start_evaluation(db, pid, form, user="dana", eval_date=D0 + timedelta(5), episode_id=ep.id)
    r.start_evaluation(db, pid, form, user="dana", eval_date=D0 + timedelta(20), episode_id=ep.id)
    before = audit_count(db)
    cases = [
        (r.EpisodeInfo("Thigh", end_date=D0 - timedelta(1)), "end date: 2026-03-01 is before"),
        (r.EpisodeInfo("Thigh", start_date=D0 + timedelta(6)), "start date: the episode has a"),
        (r.EpisodeInfo("Thigh", end_date=D0 + timedelta(10)), "end date: the episode has a"),
        (r.EpisodeInfo("Thigh", referral_date=D0 + timedelta(400)), "referral date"),
        (r.EpisodeInfo("Thigh", involved_side="up"), "involved side"),  # type: ignore[arg-type]
    ]
    for info, message in cases:
        with pytest.raises(StorageError, match=message) as err:
            r.update_episode(db, ep.id, info, 1, user="dana")
        assert "\n" not in str(err.value)
    with pytest.raises(StorageError, match="end date"):
        r.create_episode(
            db, pid, r.EpisodeInfo("T", start_date=D0, end_date=D0 - timedelta(1)), user="d"
        )
    assert r.get_episode(db, ep.id).version == 1
    assert audit_count(db) == before
    assert len(r.list_episodes(db, pid)) == 1


HOSTILE = [
    ({"title": "Left\x07thigh"}, "episode title: contains a control character (U+0007)"),
    ({"title": "Left\nthigh"}, "episode title: contains a control character (U+000A)"),
    ({"title": "x" * 10_000}, "episode title: 10000 characters is too long (at most 200)"),
    ({"title": "   "}, "episode title: required"),
    ({"referral_source": "Dr.\x00Berg"}, "referral source: contains a control character (U+0000)"),
    ({"referral_source": "r" * 201}, "referral source: 201 characters is too long"),
    ({"referral_reason": "pain\x00"}, "referral reason: contains a control character (U+0000)"),
    ({"referral_reason": "line\x1b[31m"}, "referral reason: contains a control character"),
]


@pytest.mark.parametrize(("change", "message"), HOSTILE)
def test_hostile_text_is_refused_naming_the_field(
    db: Database, change: dict[str, str], message: str
) -> None:
    pid = patient(db)
    ep = r.create_episode(db, pid, r.EpisodeInfo("Thigh", start_date=D0), user="dana")
    before = audit_count(db)
    info = r.EpisodeInfo(**{"title": "Thigh", **change})  # type: ignore[arg-type]
    for call in (
        lambda: r.create_episode(db, pid, info, user="dana"),
        lambda: r.update_episode(db, ep.id, info, 1, user="dana"),
    ):
        with pytest.raises(StorageError) as err:
            call()
        assert str(err.value).startswith(message)
        assert "\n" not in str(err.value)
    assert r.list_episodes(db, pid) == [r.get_episode(db, ep.id)]
    assert r.get_episode(db, ep.id).version == 1
    assert audit_count(db) == before


def test_multiline_referral_reason_is_kept(db: Database) -> None:
    pid = patient(db)
    reason = "Pain on sprinting.\n\tWorse sitting."
    ep = r.create_episode(db, pid, r.EpisodeInfo("T", referral_reason=reason), user="dana")
    assert r.get_episode(db, ep.id).referral_reason == reason


def test_archived_patient_gets_no_episode(db: Database) -> None:
    pid = patient(db)
    r.archive_patient(db, pid, user="dana")
    with pytest.raises(StorageError, match="archived"):
        r.create_episode(db, pid, r.EpisodeInfo("T"), user="dana")
    assert r.list_episodes(db, pid) == []


def test_start_evaluation_places_the_record(db: Database, form: Form) -> None:
    pid = patient(db, referrer="Dr. Berg")
    other = patient(db, "Smith")
    first = r.start_evaluation(db, pid, form, user="dana", eval_date=D0)
    (made,) = r.list_episodes(db, pid)
    assert first.episode_id == made.id
    assert (made.start_date, made.title, made.referral_source) == (
        D0,
        "Posterior thigh",
        "Dr. Berg",
    )
    second = r.start_evaluation(
        db, pid, form, user="dana", kind="visit", eval_date=D0 + timedelta(2)
    )
    assert second.episode_id == made.id  # the open episode is reused
    with pytest.raises(StorageError, match="before episode"):
        r.start_evaluation(db, pid, form, user="dana", eval_date=D0 - timedelta(1))
    theirs = r.start_evaluation(db, other, form, user="dana", eval_date=D0).episode_id
    with pytest.raises(StorageError, match="belongs to another patient"):
        r.start_evaluation(db, pid, form, user="dana", eval_date=D0, episode_id=theirs)
    r.update_episode(
        db, made.id, r.EpisodeInfo("Posterior thigh", end_date=D0 + timedelta(9)), 1, user="dana"
    )
    with pytest.raises(StorageError, match="was closed on 2026-03-11"):
        r.start_evaluation(
            db, pid, form, user="dana", eval_date=D0 + timedelta(30), episode_id=made.id
        )
    with pytest.raises(NotFoundError):
        r.start_evaluation(db, pid, form, user="dana", episode_id=123456)
    assert [e.id for e in r.list_evaluations(db, pid)] == [first.id, second.id]
    assert len(r.list_episodes(db, pid)) == 1  # nothing made by the refusals
    new = r.start_evaluation(db, pid, form, user="dana", eval_date=D0 + timedelta(60))
    assert new.episode_id not in (made.id, theirs)  # closed: a new episode
    assert r.get_episode(db, new.episode_id or 0).start_date == D0 + timedelta(60)
    again = r.start_evaluation(db, pid, form, user="dana", eval_date=D0 + timedelta(61))
    assert again.episode_id == new.episode_id


def test_an_evaluation_cannot_move_the_episode_start_past_it(db: Database, form: Form) -> None:
    pid = patient(db)
    ev = r.start_evaluation(db, pid, form, user="dana", eval_date=D0)
    ep = r.get_episode(db, ev.episode_id or 0)
    with pytest.raises(StorageError, match="start date"):
        r.update_episode(db, ep.id, r.EpisodeInfo("T", start_date=D0 + timedelta(1)), 1, user="d")
    earlier = r.update_episode(
        db, ep.id, r.EpisodeInfo("T", start_date=D0 - timedelta(7)), 1, user="d"
    )
    assert earlier.start_date == D0 - timedelta(7)


# -- care due -----------------------------------------------------------------------------------


def _visits(db: Database, pid: int, form: Form, ep: int, days: list[int]) -> None:
    for day in days:
        r.start_evaluation(
            db, pid, form, user="dana", kind="visit", eval_date=D0 + timedelta(day), episode_id=ep
        )


def test_care_due_counts_visits_and_days(db: Database, form: Form) -> None:
    pid = patient(db)
    ep = r.start_evaluation(db, pid, form, user="dana", eval_date=D0).episode_id or 0
    due = r.care_due(db, ep, D0 + timedelta(1))
    assert (due.every_visits, due.every_days, due.visits_since_progress) == (10, 30, 0)
    assert (due.progress_due, due.recert_due, due.recert_due_on, due.visits_left) == (
        False,
        False,
        None,
        10,
    )
    assert due.progress_due_on == D0 + timedelta(30)
    _visits(db, pid, form, ep, list(range(1, 10)))
    due = r.care_due(db, ep, D0 + timedelta(10))
    assert (due.visits_since_progress, due.visits_left, due.progress_due) == (9, 1, False)
    assert r.care_due(db, ep, D0 + timedelta(30)).progress_due  # 30 days, whichever first
    _visits(db, pid, form, ep, [10])
    due = r.care_due(db, ep, D0 + timedelta(11))
    assert (due.visits_since_progress, due.visits_left, due.progress_due) == (10, 0, True)
    # A discharge does not reset the count; a re-evaluation does.
    r.start_evaluation(
        db, pid, form, user="d", kind="discharge", eval_date=D0 + timedelta(11), episode_id=ep
    )
    assert r.care_due(db, ep, D0 + timedelta(12)).visits_since_progress == 10
    re = r.start_evaluation(
        db,
        pid,
        form,
        user="dana",
        kind="re_evaluation",
        eval_date=D0 + timedelta(12),
        episode_id=ep,
    )
    _visits(db, pid, form, ep, [13, 14])
    due = r.care_due(db, ep, D0 + timedelta(15))
    assert (due.last_progress_id, due.last_progress_date, due.visits_since_progress) == (
        re.id,
        D0 + timedelta(12),
        2,
    )
    assert not due.progress_due
    assert due.progress_due_on == D0 + timedelta(42)


def test_recertification_follows_the_latest_plan(db: Database, form: Form) -> None:
    pid = patient(db)
    ep = r.start_evaluation(db, pid, form, user="dana", eval_date=D0).episode_id or 0
    plan = r.save_plan(db, ep, r.PlanInfo(start_date=D0, visits_per_week=2), user="dana")
    assert (plan.progress_every_visits, plan.progress_every_days, plan.recert_days) == (10, 30, 90)
    assert r.care_due(db, ep, D0 + timedelta(89)).recert_due is False
    due = r.care_due(db, ep, D0 + timedelta(90))
    assert (due.recert_due, due.recert_due_on, due.plan_id) == (True, D0 + timedelta(90), plan.id)
    renewed = r.save_plan(db, ep, r.PlanInfo(start_date=D0 + timedelta(88)), user="dana")
    due = r.care_due(db, ep, D0 + timedelta(90))
    assert (due.recert_due, due.recert_due_on, due.plan_id) == (
        False,
        D0 + timedelta(178),
        renewed.id,
    )
    custom = r.save_plan(
        db,
        ep,
        r.PlanInfo(
            start_date=D0 + timedelta(90),
            progress_every_visits=3,
            progress_every_days=14,
            recert_days=60,
        ),
        user="dana",
    )
    _visits(db, pid, form, ep, [1, 2, 3])
    due = r.care_due(db, ep, D0 + timedelta(4))
    assert (due.every_visits, due.every_days, due.plan_id, due.progress_due) == (
        3,
        14,
        custom.id,
        True,
    )
    assert due.recert_due_on == D0 + timedelta(150)
    # A closed episode has nothing due.
    r.update_episode(db, ep, r.EpisodeInfo("T", end_date=D0 + timedelta(5)), 1, user="dana")
    due = r.care_due(db, ep, D0 + timedelta(400))
    assert due.closed
    assert (due.progress_due, due.recert_due) == (False, False)


def test_clinic_settings_change_the_defaults(db: Database, form: Form) -> None:
    r.save_setting(db, "progress_every_visits", 4, user="admin")
    r.save_setting(db, "progress_every_days", 21, user="admin")
    r.save_setting(db, "recert_days", 60, user="admin")
    pid = patient(db)
    ep = r.start_evaluation(db, pid, form, user="dana", eval_date=D0).episode_id or 0
    due = r.care_due(db, ep, D0)
    assert (due.every_visits, due.every_days, due.progress_due_on) == (4, 21, D0 + timedelta(21))
    plan = r.save_plan(db, ep, r.PlanInfo(start_date=D0), user="dana")
    assert (plan.progress_every_visits, plan.progress_every_days, plan.recert_days) == (4, 21, 60)
    r.save_setting(db, "progress_every_visits", 8, user="admin")  # the plan keeps its own
    assert r.care_due(db, ep, D0).every_visits == 4
    assert r.care_due(db, ep, D0 + timedelta(60)).recert_due
    with pytest.raises(NotFoundError):
        r.care_due(db, 99999, D0)


# -- timeline -----------------------------------------------------------------------------------


def test_timeline_orders_everything_of_the_episode(db: Database, form: Form) -> None:
    pid = patient(db)
    today = date.today()
    start = today - timedelta(days=20)
    ep = r.create_episode(
        db, pid, r.EpisodeInfo("Left posterior thigh", start_date=start), user="dana"
    ).id
    initial = r.start_evaluation(db, pid, form, user="dana", eval_date=start, episode_id=ep)
    r.sign_evaluation(db, initial.id, initial.version, user="dana")
    plan = r.save_plan(
        db, ep, r.PlanInfo(start_date=start, visits_per_week=2, duration_weeks=6), user="dana"
    )
    v1 = r.start_evaluation(
        db, pid, form, user="dana", kind="visit", eval_date=start + timedelta(3), episode_id=ep
    )
    v2 = r.start_evaluation(
        db, pid, form, user="dana", kind="visit", eval_date=start + timedelta(7), episode_id=ep
    )
    goal = r.add_goal(db, ep, r.GoalInfo("short", "Sit 30 minutes without pain"), user="dana")
    r.set_goal_status(db, goal.id, "progressing", goal.version, user="dana")
    revised = r.save_plan(db, ep, r.PlanInfo(start_date=today, visits_per_week=1), user="dana")
    r.update_episode(db, ep, r.EpisodeInfo("Left posterior thigh", end_date=today), 1, user="d")
    entries = r.timeline(db, ep)
    got = [(e.on, e.what, e.record_id, e.kind) for e in entries]
    assert got == [
        (start, "episode", ep, "start"),
        (start, "plan", plan.id, "plan"),
        (start, "evaluation", initial.id, "initial"),
        (start + timedelta(3), "visit", v1.id, "visit"),
        (start + timedelta(7), "visit", v2.id, "visit"),
        (today, "plan", revised.id, "plan"),
        (today, "goal", goal.id, "short"),
        (today, "goal_status", goal.id, "progressing"),
        (today, "episode", ep, "end"),
    ]
    texts = [e.text for e in entries]
    assert texts[0] == "Episode opened: Left posterior thigh"
    assert texts[1] == "Plan of care: 2×/week, 6 weeks"
    assert texts[2] == "Initial evaluation (signed by dana)"
    assert texts[3:5] == ["Visit note 1 (draft)", "Visit note 2 (draft)"]
    assert texts[5] == "Plan of care revised: 1×/week"
    assert texts[6] == "Goal set (short-term): Sit 30 minutes without pain"
    assert texts[7] == "Goal progressing: Sit 30 minutes without pain"
    assert texts[-1] == "Episode closed"
    assert [e.status for e in entries if e.what in ("evaluation", "visit")] == [
        "signed",
        "draft",
        "draft",
    ]
    with pytest.raises(NotFoundError):
        r.timeline(db, 424242)


def test_every_mutation_writes_an_audit_event(db: Database, form: Form) -> None:
    pid = patient(db)
    ep = r.create_episode(db, pid, r.EpisodeInfo("T", start_date=D0), user="ann")
    r.update_episode(db, ep.id, r.EpisodeInfo("T2"), 1, user="ben")
    plan = r.save_plan(db, ep.id, r.PlanInfo(start_date=D0), user="cat")
    goal = r.add_goal(db, ep.id, r.GoalInfo("long", "Run 5 km"), user="dan")
    goal = r.update_goal(db, goal.id, r.GoalInfo("long", "Run 10 km"), goal.version, user="eve")
    goal = r.set_goal_status(db, goal.id, "met", goal.version, user="fay")
    ev = r.start_evaluation(db, pid, form, user="gus", kind="visit", eval_date=D0, episode_id=ep.id)
    saved = r.save_draft(db, ev.id, {"values": {"pain_now": 3}}, ev.version, user="hal")
    r.sign_evaluation(db, ev.id, saved.version, user="ida")
    r.add_addendum(db, ev.id, "called back", user="joe")
    trail = [(e.entity, e.entity_id, e.action, e.actor) for e in reversed(r.audit_events(db))]
    assert trail[-12:] == [
        ("episode", ep.id, "create", "ann"),
        ("episode", ep.id, "update", "ben"),
        ("plan_of_care", plan.id, "create", "cat"),
        ("goal", goal.id, "create", "dan"),
        ("goal", goal.id, "update", "eve"),
        ("goal", goal.id, "status", "fay"),
        ("goal_status", goal.history[0].id, "create", "fay"),  # the kept status row's own
        ("evaluation", ev.id, "create", "gus"),
        ("evaluation", ev.id, "save_draft", "hal"),
        ("evaluation", ev.id, "sign", "ida"),
        ("addendum", r.get_evaluation(db, ev.id).addenda[0].id, "create", "joe"),
        ("evaluation", ev.id, "addendum", "joe"),
    ]
    assert r.verify_database(db) == []  # the chain holds the new entities too


def test_a_draft_date_stays_within_its_episode(db: Database, form: Form) -> None:
    """Moving a draft's date (save_draft eval_date=) out of its episode is refused."""
    pid = patient(db)
    ep = r.create_episode(db, pid, r.EpisodeInfo("T", start_date=D0), user="dana").id
    ev = r.start_evaluation(
        db, pid, form, user="d", kind="visit", eval_date=D0 + timedelta(3), episode_id=ep
    )
    with pytest.raises(StorageError, match="date: 2026-02-20 is before episode") as err:
        r.save_draft(db, ev.id, ev.findings, ev.version, user="d", eval_date=D0 - timedelta(10))
    assert "\n" not in str(err.value)
    moved = r.save_draft(db, ev.id, ev.findings, ev.version, user="d", eval_date=D0)
    assert moved.changed
    r.update_episode(db, ep, r.EpisodeInfo("T", end_date=D0 + timedelta(5)), 1, user="d")
    with pytest.raises(StorageError, match="is after episode .* ended"):
        r.save_draft(db, ev.id, ev.findings, moved.version, user="d", eval_date=D0 + timedelta(6))
    stored = r.get_evaluation(db, ev.id)
    assert (stored.eval_date, stored.version) == (D0, moved.version)
