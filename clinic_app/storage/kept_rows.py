"""Episodes, plans of care, goals and goal statuses checked against the audit trail.

Split from :mod:`clinic_app.storage.sealing` (which re-exports :func:`kept_row_problems`) to keep
that module short; ``verify`` reports what this returns, one line a problem.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, select

from clinic_app.storage import models as m

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.orm import Session

# Episode-of-care rows carry no seal: the audit trail (hash-chained) vouches for them instead.
# Every write of one left an event whose after_digest is the row as written; a goal's status
# history has one row per "status" event. Episodes are checked only where the app wrote them:
# made in bulk (storage.synthetic) they have no event; made by the 0006 upgrade they may share
# an id with the events of episodes a downgrade to 0005 removed (tests/data/clinic-0005.db).
# Rows are never deleted by the app (and locked against it), so a row an event names and that
# is gone was deleted outside the app, unless it went with its table: a downgrade below 0006
# drops these tables and leaves their events, and the upgrade that makes them again chains
# :data:`TABLES_REMADE` (migration 0006), so only the events after the last such mark count.
# (A clinic taken below 0006 and back before that mark existed can name rows it lost so.)
# A status row kept since session 11 also has an event of its own ("goal_status", written right
# after its goal's "status" event): the row is compared with it, and reported deleted if gone
# while its goal (the same goal: not one an id freed by a downgrade went to) is still there.
# Older rows have none and only the count vouches for them; but once one status event is followed
# by its row's own, every later one must be: one that is not (its row's event deleted as the
# newest, which leaves the hash chain whole) names its row as not in the audit trail.
_AUDITED = ("episode", "plan_of_care", "goal", "goal_status")
BY_0006 = "migration 0006"
TABLES_REMADE = ("schema", 6, "episode tables made")  # entity, entity_id, action; as 0006 writes


def kept_row_problems(session: Session, limit: int = 10) -> list[str]:
    """Episodes, plans of care, goals and goal statuses that no longer match the audit trail:
    changed or added outside the app (behind a dropped lock, say)."""
    from clinic_app.storage.records._common import digest, id_chunks, mapping_state

    last: dict[tuple[str, int], str | None] = {}
    statuses: dict[int, int] = {}
    kept: dict[int, dict[int, str | None]] = {}  # goal id -> its status rows' events
    previous: tuple[str, int, str] | None = None
    pending: tuple[int, int] | None = None  # (goal id, its nth status) awaiting the row's event
    unpaired: list[tuple[int, int]] = []
    paired = False
    mark_entity, mark_id, mark_action = TABLES_REMADE
    remade = session.scalar(
        select(func.max(m.AuditEvent.id)).where(
            m.AuditEvent.entity == mark_entity,
            m.AuditEvent.entity_id == mark_id,
            m.AuditEvent.action == mark_action,
            m.AuditEvent.actor == BY_0006,
        )
    )
    events = session.execute(
        select(m.AuditEvent.entity, m.AuditEvent.entity_id, m.AuditEvent.action)
        .add_columns(m.AuditEvent.after_digest)
        .where(m.AuditEvent.entity.in_(_AUDITED), m.AuditEvent.id > (remade or 0))
        .order_by(m.AuditEvent.id)
    )
    for entity, entity_id, action, after in events:
        if entity == "goal_status":
            if previous is not None and previous[0] == "goal" and previous[2] == "status":
                kept.setdefault(previous[1], {})[entity_id] = after
                paired, pending = True, None
        else:
            last[(entity, entity_id)] = after
        if pending is not None and entity != "goal_status":
            if paired:  # rows kept before the app wrote their own events are not asked for one
                unpaired.append(pending)
            pending = None
        if entity == "goal" and action == "create":  # an id a downgrade freed may be reused
            statuses[entity_id] = 0
            kept.pop(entity_id, None)
            unpaired = [u for u in unpaired if u[0] != entity_id]
        elif entity == "goal" and action == "status":
            statuses[entity_id] = statuses.get(entity_id, 0) + 1
            pending = (entity_id, statuses[entity_id])
        previous = (entity, entity_id, action)
    if pending is not None and paired:
        unpaired.append(pending)
    problems: list[str] = []
    # Core rows, not ORM objects (ten times faster; a clinic has an episode a patient). Only the
    # episodes an event names and the 0006 upgrade did not make are read whole.
    episodes = cast("Table", m.Episode.__table__)
    wanted: list[int] = []
    for i, by in session.execute(
        select(episodes.c.id, episodes.c.created_by).order_by(episodes.c.id)
    ):
        if by == BY_0006:
            last.pop(("episode", i), None)
        elif ("episode", i) in last:
            wanted.append(i)
    tables: list[tuple[Table, Any]] = [(episodes, episodes.c.id.in_(c)) for c in id_chunks(wanted)]
    tables += [(cast("Table", t.__table__), None) for t in (m.PlanOfCare, m.Goal)]
    goals: set[int] = set()
    for table, where in tables:
        query = select(table).order_by(table.c.id)
        for values in session.execute(query if where is None else query.where(where)).mappings():
            row_id = int(values[table.c.id])
            if table.name == "goal":
                goals.add(row_id)
            expected = last.pop((table.name, row_id), None)
            if expected is None:
                problems.append(f"{table.name} {row_id} is not in the audit trail")
            elif digest(mapping_state(table, values)) != expected:
                problems.append(f"{table.name} {row_id} was changed outside the app")
    problems.extend(
        f"{table} {row_id} was deleted outside the app" for table, row_id in sorted(last)
    )
    expected_status = {
        status_id: after
        for goal_id, events_of in kept.items()
        if goal_id in goals
        for status_id, after in events_of.items()
    }
    kept_table = cast("Table", m.GoalStatus.__table__)
    for goal_id, nth in unpaired:
        if goal_id in goals:
            rows = session.scalars(
                select(kept_table.c.id)
                .where(kept_table.c.goal_id == goal_id)
                .order_by(kept_table.c.id)
                .offset(nth - 1)
                .limit(1)
            ).all()
            problems.extend(f"goal_status {i} is not in the audit trail" for i in rows)
    for chunk in id_chunks(sorted(expected_status)):
        query = select(kept_table).where(kept_table.c.id.in_(chunk)).order_by(kept_table.c.id)
        for values in session.execute(query).mappings():
            status_id = int(values[kept_table.c.id])
            if digest(mapping_state(kept_table, values)) != expected_status.pop(status_id):
                problems.append(f"goal_status {status_id} was changed outside the app")
    if expected_status:
        problems.extend(f"goal_status {i} was deleted outside the app" for i in expected_status)
    counted = session.execute(
        select(m.GoalStatus.goal_id, func.count()).group_by(m.GoalStatus.goal_id)
    ).all()
    history = {int(goal_id): int(count) for goal_id, count in counted}
    for goal_id in sorted(set(history) | set(statuses)):
        have, recorded = history.get(goal_id, 0), statuses.get(goal_id, 0)
        if have != recorded:
            problems.append(
                f"goal {goal_id}: {have} status{'' if have == 1 else 'es'} kept, "
                f"the audit trail records {recorded}"
            )
    return problems[:limit]
