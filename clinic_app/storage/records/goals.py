"""Goals of an episode of care, their status and its history (issue 15).

A goal is short- or long-term, measurable (``target``: a form test, see ``core.goals``) or
functional (text only), with a target date. Its status is the clinician's: the app suggests one
from the latest values (``core.goals.suggest``), and each status set is kept in ``goal_status``
with the suggestion shown at the time, so the history says who decided what, and when. Goals are
never deleted; a goal no longer pursued is discontinued.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from pydantic import ValidationError
from sqlalchemy import select

from clinic_app.core.form import Form, Leaf
from clinic_app.core.form_checks import check_leaf
from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import StaleRecordError, StorageError
from clinic_app.storage.records._common import (
    checked_text,
    digest,
    get_row,
    require_user,
    row_state,
    write_audit,
)
from clinic_app.storage.records.values import (
    Goal,
    GoalInfo,
    GoalStatusEntry,
    GoalStatusName,
    GoalTerm,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database

logger = logging.getLogger(__name__)


def parse_target(target: Mapping[str, Any] | None, form: Form | None = None) -> Leaf | None:
    """A stored or typed target as a form test; StorageError naming the problem otherwise.

    With ``form``, the test must also make sense for that form (a known item, a side only on a
    bilateral item, a category the item offers...), as check-form demands of indicators.
    """
    if target is None:
        return None
    if not isinstance(target, Mapping):
        raise StorageError("goal target: expected a test such as {item, op, threshold}")
    try:
        leaf = Leaf.model_validate(dict(target))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "target"
        raise StorageError(f"goal target: {where}: {first['msg']}") from None
    if form is not None:
        problems = check_leaf(form, leaf, "goal target")
        if problems:
            raise StorageError(problems[0])
    return leaf


def _target_json(leaf: Leaf | None) -> dict[str, Any] | None:
    if leaf is None:
        return None
    return cast(dict[str, Any], json.loads(leaf.model_dump_json(by_alias=True, exclude_none=True)))


def _entry(row: m.GoalStatus) -> GoalStatusEntry:
    return GoalStatusEntry(
        id=row.id,
        goal_id=row.goal_id,
        status=cast(GoalStatusName, row.status),
        suggested=cast(GoalStatusName | None, row.suggested),
        note=row.note,
        set_by=row.set_by,
        set_at=row.set_at,
    )


def _goal(row: m.Goal, history: list[m.GoalStatus] | None = None) -> Goal:
    return Goal(
        id=row.id,
        episode_id=row.episode_id,
        term=cast(GoalTerm, row.term),
        text=row.text,
        target=json.loads(json.dumps(row.target)) if row.target is not None else None,
        target_date=row.target_date,
        from_factor=row.from_factor,
        status=cast(GoalStatusName, row.status),
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        history=tuple(_entry(h) for h in history or ()),
    )


def _values(info: GoalInfo, form: Form | None) -> dict[str, Any]:
    if info.term not in m.GOAL_TERMS:
        raise StorageError(f"goal term: must be one of {', '.join(m.GOAL_TERMS)}")
    text = checked_text(m.Goal.__table__.c.text, "goal", info.text)
    if not text:
        raise StorageError("goal: the goal needs words (what the patient will be able to do)")
    factor = info.from_factor
    if factor is not None:
        factor = checked_text(m.Goal.__table__.c.from_factor, "goal factor", factor) or None
    return {
        "term": info.term,
        "text": text,
        "target": _target_json(parse_target(info.target, form)),
        "target_date": info.target_date,
        "from_factor": factor,
    }


def _when(at: datetime | None) -> datetime:
    """``at`` (a decision made earlier and entered now, e.g. the demo's story), else now."""
    now = utcnow()
    if at is None:
        return now
    if at.tzinfo is None:
        raise StorageError("goal date: a time with its time zone is needed")
    if at > now:
        raise StorageError(f"goal date: {at.isoformat()} is in the future")
    return at


def _audit(s: Session, user: str, row: m.Goal, action: str, before: str | None) -> None:
    write_audit(s, user, "goal", row.id, action, before, digest(row_state(row)))


def add_goal(
    db: Database,
    episode_id: int,
    info: GoalInfo,
    *,
    user: str,
    form: Form | None = None,
    at: datetime | None = None,
) -> Goal:
    """Add a goal to an episode (status not started). ``form`` checks a target against it.

    ``at``: when the goal was set, if earlier than now (its audit event keeps the real time).
    """
    user = require_user(user)
    values = _values(info, form)
    set_on = _when(at)
    with db.writing() as s:
        episode: m.Episode = get_row(s, m.Episode, "episode", episode_id)
        if episode.end_date is not None:
            raise StorageError(
                f"episode {episode_id} was closed on {episode.end_date.isoformat()}; "
                "reopen it before adding goals"
            )
        if values["target_date"] is not None and values["target_date"] < episode.start_date:
            raise StorageError(
                f"target date: {values['target_date'].isoformat()} is before the episode starts"
            )
        now = set_on
        row = m.Goal(
            episode_id=episode_id,
            status="not_started",
            version=1,
            created_by=user,
            created_at=now,
            updated_by=user,
            updated_at=now,
            **values,
        )
        s.add(row)
        s.flush()
        _audit(s, user, row, "create", None)
        return _goal(row)


def _current(s: Session, goal_id: int, expected_version: int) -> m.Goal:
    row: m.Goal = get_row(s, m.Goal, "goal", goal_id)
    if row.version != expected_version:
        raise StaleRecordError(
            "goal", goal_id, expected_version, row.version, row.updated_by, row.updated_at
        )
    return row


def update_goal(
    db: Database,
    goal_id: int,
    info: GoalInfo,
    expected_version: int,
    *,
    user: str,
    form: Form | None = None,
) -> Goal:
    """Change a goal's words, target or date (its status: :func:`set_goal_status`)."""
    user = require_user(user)
    values = _values(info, form)
    with db.writing() as s:
        row = _current(s, goal_id, expected_version)
        if all(getattr(row, k) == v for k, v in values.items()):
            return _goal(row, _history(s, goal_id))
        before = digest(row_state(row))
        for key, value in values.items():
            setattr(row, key, value)
        row.version += 1
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        _audit(s, user, row, "update", before)
        return _goal(row, _history(s, goal_id))


def set_goal_status(
    db: Database,
    goal_id: int,
    status: GoalStatusName,
    expected_version: int,
    *,
    user: str,
    suggested: GoalStatusName | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Goal:
    """Set a goal's status (the clinician's decision), keeping it in the goal's history with the
    status the app suggested at the time (``suggested``) and an optional note. ``at``: when it
    was decided, if earlier than now (the history's ``set_at``; the audit event keeps the real
    time)."""
    user = require_user(user)
    decided = _when(at)
    if status not in m.GOAL_STATUSES:
        raise StorageError(f"goal status: must be one of {', '.join(m.GOAL_STATUSES)}")
    if suggested is not None and suggested not in m.GOAL_STATUSES:
        raise StorageError(f"suggested status: must be one of {', '.join(m.GOAL_STATUSES)}")
    note = checked_text(m.GoalStatus.__table__.c.note, "status note", note)
    with db.writing() as s:
        row = _current(s, goal_id, expected_version)
        before = digest(row_state(row))
        now = utcnow()
        row.status = status
        row.version += 1
        row.updated_by = user
        row.updated_at = now
        kept = m.GoalStatus(
            goal_id=goal_id,
            status=status,
            suggested=suggested,
            note=note,
            set_by=user,
            set_at=decided,
        )
        s.add(kept)
        s.flush()
        _audit(s, user, row, "status", before)
        # The kept row's own event, right after the goal's: verify compares the row with it.
        write_audit(s, user, "goal_status", kept.id, "create", None, digest(row_state(kept)))
        logger.info("goal %d: status %s (suggested %s)", goal_id, status, suggested)
        return _goal(row, _history(s, goal_id))


def _history(s: Session, goal_id: int) -> list[m.GoalStatus]:
    return list(
        s.scalars(
            select(m.GoalStatus).where(m.GoalStatus.goal_id == goal_id).order_by(m.GoalStatus.id)
        ).all()
    )


def get_goal(db: Database, goal_id: int) -> Goal:
    with db.reading() as s:
        return _goal(get_row(s, m.Goal, "goal", goal_id), _history(s, goal_id))


def list_goals(db: Database, episode_id: int) -> list[Goal]:
    """An episode's goals (short-term first, then long-term; in the order they were set), each
    with its status history."""
    with db.reading() as s:
        rows = s.scalars(
            select(m.Goal).where(m.Goal.episode_id == episode_id).order_by(m.Goal.id)
        ).all()
        history: dict[int, list[m.GoalStatus]] = {}
        if rows:
            for h in s.scalars(
                select(m.GoalStatus)
                .where(m.GoalStatus.goal_id.in_([r.id for r in rows]))
                .order_by(m.GoalStatus.id)
            ):
                history.setdefault(h.goal_id, []).append(h)
        goals = [_goal(r, history.get(r.id)) for r in rows]
    return sorted(goals, key=lambda g: (m.GOAL_TERMS.index(g.term), g.id))
