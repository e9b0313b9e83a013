"""Form snapshots: the form each evaluation was recorded with, stored once per content.

An evaluation keeps the id of the snapshot of its form, so it opens with exactly the items it was
recorded with even after the form file changed. Parsing a snapshot costs milliseconds and autosave
asks for it on every tick, so parsed forms are kept in the database's :class:`FormCache`
(``db.forms``): one per ``Database``, so two databases open in one process never hand out each
other's forms.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clinic_app.core.form import Form, parse_form
from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.records._common import digest, get_row

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database

logger = logging.getLogger(__name__)


def _form_content(form: Form) -> dict[str, Any]:
    return form.model_dump(mode="json", by_alias=True)


def _form_of(db: Database, session: Session, snapshot_id: int) -> Form:
    """The form of a snapshot, parsed once per database (autosave must stay cheap)."""
    content_hash = session.scalar(
        select(m.FormSnapshot.content_hash).where(m.FormSnapshot.id == snapshot_id)
    )
    form = db.forms.get(content_hash or "")
    if form is None:
        snapshot = session.get_one(m.FormSnapshot, snapshot_id)
        parsed = parse_form(snapshot.content, f"form {snapshot.form_id} v{snapshot.version}")
        form = db.forms.setdefault(snapshot.content_hash, parsed)
        logger.debug("form snapshot %d parsed (%s v%d)", snapshot_id, form.id, form.version)
    return form


def _snapshot(db: Database, session: Session, form: Form) -> m.FormSnapshot:
    """The snapshot row of ``form``'s content, stored now if no evaluation used it before."""
    content = _form_content(form)
    content_hash = digest(content)
    query = select(m.FormSnapshot).where(
        m.FormSnapshot.form_id == form.id,
        m.FormSnapshot.version == form.version,
        m.FormSnapshot.content_hash == content_hash,
    )
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = m.FormSnapshot(
                form_id=form.id,
                version=form.version,
                content=content,
                content_hash=content_hash,
                created_at=utcnow(),
            )
            session.add(row)
        logger.info("form %s v%d: new snapshot stored", form.id, form.version)
    except IntegrityError:  # another workstation stored the same snapshot just now
        row = session.scalar(query)
        assert row is not None
    db.forms.setdefault(content_hash, form)
    return row


def evaluation_form(db: Database, evaluation_id: int) -> Form:
    """The form exactly as the evaluation was recorded with (from its snapshot, not the file)."""
    with db.reading() as s:
        row: m.Evaluation = get_row(s, m.Evaluation, "evaluation", evaluation_id)
        return _form_of(db, s, row.form_snapshot_id)


def remember_form(db: Database, form: Form) -> None:
    """Let :func:`evaluation_form` hand out ``form`` itself for snapshots with the same content.

    The editor keeps a built view per Form object; with this, evaluations recorded with the
    form file as it is now open in the view the window built ahead of time.
    """
    db.forms.put(digest(_form_content(form)), form)
