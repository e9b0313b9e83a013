"""Evaluations: start, save the draft, sign, add addenda, read back and verify.

Evaluations are drafts until signed. ``save_draft`` is cheap and idempotent (no write when nothing
changed), so the editor can call it on every autosave tick; it carries the version the editor
loaded, and a save over someone else's newer version raises :class:`ConflictError` with their
findings instead of overwriting them. A signed evaluation is locked (API and database triggers);
only addenda may follow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update
from sqlalchemy.orm import defer

from clinic_app.core import findings as findings_mod
from clinic_app.core.form import Form, ItemType
from clinic_app.core.goals import merged_values
from clinic_app.core.progress import Record
from clinic_app.storage import models as m
from clinic_app.storage import sealing
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import (
    ConflictError,
    EvaluationSignedError,
    NotSignedError,
    StorageError,
)
from clinic_app.storage.records._common import (
    checked_text,
    digest,
    get_row,
    require_user,
    row_state,
    write_audit,
)
from clinic_app.storage.records.draft_changes import changed_findings
from clinic_app.storage.records.forms import _form_of, _snapshot
from clinic_app.storage.records.values import (
    Addendum,
    DraftSaved,
    EpisodeInfo,
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
    EvaluationSummary,
    InvolvedSide,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database

logger = logging.getLogger(__name__)


def _addendum(row: m.Addendum) -> Addendum:
    return Addendum(
        id=row.id,
        evaluation_id=row.evaluation_id,
        author=row.author,
        created_at=row.created_at,
        text=row.text,
    )


def _evaluation(
    row: m.Evaluation, addenda: Sequence[m.Addendum] = (), *, with_seal: bool = True
) -> Evaluation:
    carried = row.carried_forward or {}
    return Evaluation(
        id=row.id,
        patient_id=row.patient_id,
        clinician_id=row.clinician_id,
        kind=cast(EvaluationKind, row.kind),
        eval_date=row.eval_date,
        form_id=row.form_id,
        form_version=row.form_version,
        form_snapshot_id=row.form_snapshot_id,
        involved_side=cast(InvolvedSide | None, row.involved_side),
        findings=json.loads(json.dumps(row.findings)),
        carried_forward=tuple(carried.get("items", ())),
        carried_from=carried.get("from_evaluation"),
        status=cast(EvaluationStatus, row.status),
        signed_by=row.signed_by,
        signed_at=row.signed_at,
        content_hash=row.content_hash,
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        addenda=tuple(_addendum(a) for a in addenda),
        seal=json.loads(json.dumps(row.seal)) if with_seal and row.seal else None,
        prepared_by_id=row.prepared_by_id,
        prepared_by=row.prepared_by,
        prepared_at=row.prepared_at,
        returned=_returned(row),
        episode_id=row.episode_id,
    )


def _returned(row: m.Evaluation) -> tuple[str, datetime | None, str] | None:
    from clinic_app.storage.records.signing import returned_note

    return returned_note(row.seal) if row.status == "draft" else None


def _summary(row: m.Evaluation) -> EvaluationSummary:
    return EvaluationSummary(
        id=row.id,
        patient_id=row.patient_id,
        kind=cast(EvaluationKind, row.kind),
        eval_date=row.eval_date,
        status=cast(EvaluationStatus, row.status),
        version=row.version,
        form_id=row.form_id,
        form_version=row.form_version,
        involved_side=cast(InvolvedSide | None, row.involved_side),
        signed_by=row.signed_by,
        signed_at=row.signed_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        prepared_by=row.prepared_by,
        prepared_at=row.prepared_at,
        episode_id=row.episode_id,
    )


def _involved(form: Form, values: Mapping[str, Any]) -> str | None:
    side = values.get(form.involved_side_item)
    return side if side in m.INVOLVED_SIDES else None


# The fields a report prints: hashed into content_hash and digested one by one into the seal.
HASHED_FIELDS = sealing.SEALED_FIELDS


def content_hash(values: Mapping[str, Any]) -> str:
    """sha256 of an evaluation's canonical findings and the metadata a report prints.

    ``values`` maps each of ``HASHED_FIELDS`` to the column value (dates as date/datetime).
    """
    state = {}
    for key in HASHED_FIELDS:
        value = values[key]
        state[key] = value.isoformat() if isinstance(value, date | datetime) else value
    return digest(state)


def _content_hash(row: m.Evaluation) -> str:
    return content_hash({key: getattr(row, key) for key in HASHED_FIELDS})


def _probe(row: m.Evaluation, **changes: Any) -> m.Evaluation:
    """A detached copy of ``row`` with ``changes``, to hash a state before writing it."""
    values = {c.key: getattr(row, c.key) for c in m.Evaluation.__table__.columns}
    values.update(changes)
    return m.Evaluation(**values)


def _copy_forward(form: Form, previous: Mapping[str, Any]) -> dict[str, Any]:
    """Values of ``previous`` that ``form`` carries forward and still accepts.

    The form says what carries (``carry_forward`` on items and sections): the red-flag screen,
    today's pain and symptom behaviour are asked afresh, never copied. Items may have changed
    between form versions, so each value is checked again.
    """
    kept: dict[str, Any] = {}
    for item_id, value in previous.items():
        if item_id not in form.items or not form.carries_forward(item_id):
            continue
        try:
            findings_mod.validate(form, {"values": {item_id: value}})
        except findings_mod.FindingsError:
            continue
        kept[item_id] = value
    return kept


def _place(
    s: Session, patient: m.Patient, episode_id: int | None, on: date, user: str
) -> m.Episode:
    """The episode a new record goes into: the one named (of this patient, still open), else the
    patient's open episode, else a new one starting that day."""
    from clinic_app.storage.records import episodes

    if episode_id is not None:
        episode: m.Episode = get_row(s, m.Episode, "episode", episode_id)
        if episode.patient_id != patient.id:
            raise StorageError(f"episode {episode_id} belongs to another patient")
        if episode.end_date is not None:
            raise StorageError(
                f"episode {episode_id} was closed on {episode.end_date.isoformat()}; "
                "open a new episode (or reopen this one) first"
            )
        return episode
    found = episodes.open_episode_row(s, patient.id)
    if found is not None:
        return found
    info = EpisodeInfo(title=episodes.DEFAULT_TITLE, referral_source=patient.referring_provider)
    return episodes.new_episode_row(s, patient.id, info, user, start=on)


def _name_episode(s: Session, episode_id: int, side: str, user: str) -> None:
    """An episode the app opened on its own ("Posterior thigh", no side) takes the side an
    evaluation records, and its title ("Left posterior thigh"); one the clinician named keeps
    what they wrote."""
    from clinic_app.storage.records import episodes

    episode = s.get(m.Episode, episode_id)
    if episode is None or episode.involved_side is not None:
        return
    if episode.title != episodes.DEFAULT_TITLE:
        return
    before = digest(row_state(episode))
    episode.involved_side = side
    episode.title = episodes.default_title(side)
    episode.version += 1
    episode.updated_by = user
    episode.updated_at = utcnow()
    s.flush()
    write_audit(s, user, "episode", episode.id, "update", before, digest(row_state(episode)))


def _episode_side(s: Session, episode: m.Episode) -> str | None:
    """The painful side of an episode: as set on it, else its latest evaluation's."""
    if episode.involved_side is not None:
        return episode.involved_side
    return s.scalar(
        select(m.Evaluation.involved_side)
        .where(m.Evaluation.episode_id == episode.id, m.Evaluation.involved_side.is_not(None))
        .order_by(m.Evaluation.eval_date.desc(), m.Evaluation.id.desc())
        .limit(1)
    )


def _latest_values(
    s: Session, patient_id: int, episode_id: int, *, any_episode: bool = True
) -> tuple[dict[str, Any], int | None]:
    """The latest value of every item over the episode's records (the patient's, when the
    episode has none yet and ``any_episode``), and the id of the newest record."""
    wheres = [m.Evaluation.episode_id == episode_id]
    if any_episode:
        wheres.append(m.Evaluation.patient_id == patient_id)
    for where in wheres:
        rows = s.execute(
            select(m.Evaluation.id, m.Evaluation.findings)
            .where(where)
            .order_by(m.Evaluation.eval_date, m.Evaluation.id)
        ).all()
        if rows:
            merged = merged_values(r.findings.get("values", {}) for r in rows)
            return merged, rows[-1].id
    return {}, None


def _current_program(
    s: Session, form: Form, patient_id: int, episode_id: int
) -> tuple[dict[str, Any], int | None]:
    """The episode's current home program (items of type ``program`` the form carries
    forward): a visit note starts from it, then the therapist adjusts the dose (issue 17).
    Only this episode's records: another episode's program is another problem's."""
    programs = [i.id for i in form.items.values() if i.type is ItemType.PROGRAM]
    if not programs:
        return {}, None
    previous, newest = _latest_values(s, patient_id, episode_id, any_episode=False)
    values = _copy_forward(form, {k: previous[k] for k in programs if k in previous})
    return values, newest if values else None


def start_evaluation(
    db: Database,
    patient_id: int,
    form: Form,
    *,
    user: str,
    kind: EvaluationKind = "initial",
    clinician_id: int | None = None,
    eval_date: date | None = None,
    copy_forward: bool | None = None,
    episode_id: int | None = None,
) -> Evaluation:
    """Start a draft evaluation (or a visit note, ``kind="visit"``) of ``patient_id`` with
    ``form`` (stored as a snapshot), in ``episode_id`` (default: the patient's open episode, or a
    new one).

    ``copy_forward`` (default: for re-evaluations and discharges) copies the latest value of each
    item the form carries forward and still accepts, over the episode's records (evaluations and
    visit notes), and marks them carried forward. A visit note starts with only the episode's
    current home program (marked carried): the therapist picks what to re-measure.
    """
    user = require_user(user)
    if kind not in m.EVALUATION_KINDS:
        raise StorageError(f"evaluation kind must be one of {', '.join(m.EVALUATION_KINDS)}")
    if copy_forward is None:
        copy_forward = kind not in ("initial", "visit")
    now = utcnow()
    on = eval_date or now.date()
    with db.writing() as s:
        patient: m.Patient = get_row(s, m.Patient, "patient", patient_id)
        if patient.archived:
            raise StorageError(f"patient {patient_id} is archived; restore the patient first")
        if clinician_id is not None:
            get_row(s, m.Clinician, "clinician", clinician_id)
        episode = _place(s, patient, episode_id, on, user)
        if on < episode.start_date:
            raise StorageError(
                f"date: {on.isoformat()} is before episode {episode.id} starts "
                f"({episode.start_date.isoformat()})"
            )
        values: dict[str, Any] = {}
        carried_from: int | None = None
        if copy_forward:
            previous, carried_from = _latest_values(s, patient_id, episode.id)
            values = _copy_forward(form, previous)
        elif kind == "visit":
            values, carried_from = _current_program(s, form, patient_id, episode.id)
        findings = findings_mod.validate(form, {"values": values}).to_dict()
        snapshot = _snapshot(db, s, form)
        row = m.Evaluation(
            patient_id=patient_id,
            episode_id=episode.id,
            clinician_id=clinician_id,
            kind=kind,
            eval_date=on,
            form_snapshot_id=snapshot.id,
            form_id=form.id,
            form_version=form.version,
            involved_side=_involved(form, findings["values"])
            or (_episode_side(s, episode) if kind == "visit" else None),
            findings=findings,
            carried_forward={"items": sorted(findings["values"]), "from_evaluation": carried_from},
            status="draft",
            signed_by=None,
            signed_at=None,
            content_hash="",
            version=1,
            created_by=user,
            created_at=now,
            updated_by=user,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        row.content_hash = _content_hash(row)
        s.flush()
        write_audit(s, user, "evaluation", row.id, "create", None, row.content_hash, now)
        started = _evaluation(row)
    logger.info(
        "evaluation %d started for patient %d (%s, episode %d, %d items carried forward)",
        started.id,
        patient_id,
        kind,
        episode.id,
        len(started.carried_forward),
    )
    return started


def _check_in_episode(s: Session, episode_id: int, on: date) -> None:
    """A record's date stays within its episode (a draft's date may be changed)."""
    episode: m.Episode = get_row(s, m.Episode, "episode", episode_id)
    if on < episode.start_date:
        raise StorageError(
            f"date: {on.isoformat()} is before episode {episode.id} starts "
            f"({episode.start_date.isoformat()})"
        )
    if episode.end_date is not None and on > episode.end_date:
        raise StorageError(
            f"date: {on.isoformat()} is after episode {episode.id} ended "
            f"({episode.end_date.isoformat()})"
        )


def _locked(row: m.Evaluation) -> EvaluationSignedError:
    logger.info("evaluation %d is signed: change refused", row.id)
    return EvaluationSignedError(row.id, row.signed_by, row.signed_at)


def _awaiting_cosignature(row: m.Evaluation) -> StorageError:
    logger.info("evaluation %d awaits co-signature: change refused", row.id)
    return StorageError(
        f"evaluation {row.id} awaits a therapist's co-signature (prepared by {row.prepared_by}): "
        "its findings cannot be changed unless a therapist returns it for changes"
    )


def _conflict(row: m.Evaluation, expected_version: int) -> ConflictError:
    """Someone saved ``row`` after the editor loaded ``expected_version``: nothing is written,
    and their findings go back so the editor can show both."""
    logger.warning(
        "evaluation %d: save over version %d refused, version %d is stored (save conflict)",
        row.id,
        expected_version,
        row.version,
    )
    return ConflictError(
        row.id,
        expected_version,
        row.version,
        row.updated_by,
        row.updated_at,
        json.loads(json.dumps(row.findings)),
    )


def save_draft(
    db: Database,
    evaluation_id: int,
    findings: Mapping[str, Any] | findings_mod.Findings,
    expected_version: int,
    *,
    user: str,
    confirmed: Iterable[str] = (),
    eval_date: date | None = None,
    clinician_id: int | None = None,
    kind: EvaluationKind | None = None,
) -> DraftSaved:
    """Save the draft's findings (``Findings`` or its ``to_dict()`` shape), if anything changed.

    ``expected_version`` is the version the editor loaded (or got from the last save). When
    nothing differs, nothing is written and ``changed`` is False. When someone saved a different
    version in between, raises ConflictError (nothing written). Changed or ``confirmed`` item ids
    stop being "carried forward". Raises EvaluationSignedError once signed, and
    clinic_app.core.findings.FindingsError for values the evaluation's form does not accept.
    """
    user = require_user(user)
    with db.writing() as s:
        row: m.Evaluation = get_row(s, m.Evaluation, "evaluation", evaluation_id)
        if row.status == "signed":
            raise _locked(row)
        form = _form_of(db, s, row.form_snapshot_id)
        checked = changed_findings(form, row.findings, findings)
        new_findings, changed_items = checked.findings, checked.changed_items
        new_values: Mapping[str, Any] = new_findings["values"]
        carried = row.carried_forward or {}
        dropped = set(changed_items) | set(confirmed)
        carried_items = [i for i in carried.get("items", []) if i not in dropped]
        new_carried = {"items": carried_items, "from_evaluation": carried.get("from_evaluation")}
        new_meta = {
            "eval_date": eval_date or row.eval_date,
            "clinician_id": clinician_id if clinician_id is not None else row.clinician_id,
            "kind": kind or row.kind,
        }
        meta_changed = any(getattr(row, k) != v for k, v in new_meta.items())
        unchanged = not changed_items and new_carried == carried and not meta_changed
        if unchanged:  # idempotent: identical content, whoever saved it last
            return DraftSaved(
                row.id,
                False,
                row.version,
                (),
                tuple(carried_items),
                row.content_hash,
                row.updated_by,
                row.updated_at,
            )
        if row.prepared_by is not None:
            raise _awaiting_cosignature(row)
        if row.version != expected_version:
            raise _conflict(row, expected_version)
        if new_meta["kind"] not in m.EVALUATION_KINDS:
            raise StorageError(f"evaluation kind must be one of {', '.join(m.EVALUATION_KINDS)}")
        if clinician_id is not None:
            get_row(s, m.Clinician, "clinician", clinician_id)
        if new_meta["eval_date"] != row.eval_date:
            _check_in_episode(s, row.episode_id, cast(date, new_meta["eval_date"]))
        before = row.content_hash
        now = utcnow()
        if (new_meta["kind"] == "visit") != (row.kind == "visit"):
            raise StorageError(
                f"evaluation {row.id}: a visit note and an evaluation cannot turn into each other"
            )
        involved = _involved(form, new_values)
        if involved is None and row.kind == "visit":
            involved = row.involved_side  # a visit note takes its episode's side
        probe = _probe(
            row,
            findings=new_findings,
            carried_forward=new_carried,
            involved_side=involved,
            **new_meta,
        )
        new_hash = _content_hash(probe)
        result = cast(
            "CursorResult[Any]",
            s.execute(
                update(m.Evaluation)
                .where(
                    m.Evaluation.id == row.id,
                    m.Evaluation.version == expected_version,
                    m.Evaluation.status == "draft",
                    m.Evaluation.prepared_by.is_(None),
                )
                .values(
                    findings=new_findings,
                    carried_forward=new_carried,
                    involved_side=probe.involved_side,
                    content_hash=new_hash,
                    version=expected_version + 1,
                    updated_by=user,
                    updated_at=now,
                    **new_meta,
                )
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount != 1:  # another writer got in between our read and our write
            s.expire(row)
            s.refresh(row)
            if row.status == "signed":
                raise _locked(row)
            if row.prepared_by is not None:
                raise _awaiting_cosignature(row)
            raise _conflict(row, expected_version)
        write_audit(s, user, "evaluation", row.id, "save_draft", before, new_hash, now)
        side_now = probe.involved_side
        if side_now is not None and side_now != row.involved_side and row.kind != "visit":
            _name_episode(s, row.episode_id, side_now, user)
        saved = DraftSaved(
            row.id,
            True,
            expected_version + 1,
            changed_items,
            tuple(carried_items),
            new_hash,
            user,
            now,
        )
    logger.debug(
        "evaluation %d: draft version %d saved (%d items changed)",
        saved.evaluation_id,
        saved.version,
        len(changed_items),
    )
    return saved


def add_addendum(db: Database, evaluation_id: int, text: str, *, user: str) -> Addendum:
    """Add a note to a signed evaluation (the only change a signed evaluation accepts)."""
    user = require_user(user)
    body = checked_text(m.Addendum.__table__.c.text, "addendum", text, multiline=True)
    if not body:
        raise StorageError("an addendum needs some text")
    with db.writing() as s:
        row: m.Evaluation = get_row(s, m.Evaluation, "evaluation", evaluation_id)
        if row.status != "signed":
            raise NotSignedError(evaluation_id)
        now = utcnow()
        addendum = m.Addendum(evaluation_id=evaluation_id, author=user, created_at=now, text=body)
        sealing.chain_addendum(s, addendum)
        s.add(addendum)
        s.flush()
        write_audit(
            s, user, "addendum", addendum.id, "create", None, digest(row_state(addendum)), now
        )
        write_audit(
            s,
            user,
            "evaluation",
            evaluation_id,
            "addendum",
            row.content_hash,
            row.content_hash,
            now,
        )
        added = _addendum(addendum)
    logger.info("addendum %d added to evaluation %d", added.id, evaluation_id)
    return added


def get_evaluation(db: Database, evaluation_id: int) -> Evaluation:
    """An evaluation with its findings and addenda (oldest first)."""
    with db.reading() as s:
        row = get_row(s, m.Evaluation, "evaluation", evaluation_id)
        addenda = s.scalars(
            select(m.Addendum)
            .where(m.Addendum.evaluation_id == evaluation_id)
            .order_by(m.Addendum.id)
        ).all()
        return _evaluation(row, addenda)


def verify_evaluation(db: Database, evaluation_id: int) -> bool:
    """True if the stored content hash still matches the stored findings and metadata."""
    with db.reading() as s:
        row: m.Evaluation = get_row(s, m.Evaluation, "evaluation", evaluation_id)
        return _content_hash(row) == row.content_hash


def list_evaluations(
    db: Database,
    patient_id: int,
    *,
    episode_id: int | None = None,
    kinds: Iterable[str] | None = None,
) -> list[EvaluationSummary]:
    """A patient's evaluations and visit notes, oldest first (only ``episode_id``'s, and only
    ``kinds``, when given)."""
    with db.reading() as s:
        get_row(s, m.Patient, "patient", patient_id)
        query = select(m.Evaluation).where(m.Evaluation.patient_id == patient_id)
        if episode_id is not None:
            query = query.where(m.Evaluation.episode_id == episode_id)
        if kinds is not None:
            query = query.where(m.Evaluation.kind.in_(list(kinds)))
        rows = s.scalars(query.order_by(m.Evaluation.eval_date, m.Evaluation.id))
        return [_summary(r) for r in rows]


def episode_records(db: Database, episode_id: int) -> list[Evaluation]:
    """Every evaluation and visit note of an episode with its findings, oldest first (for
    progress, note texts and the progress report; addenda and seals not loaded: ``seal`` is
    None, read a record with :func:`get_evaluation` for its seal)."""
    with db.reading() as s:
        get_row(s, m.Episode, "episode", episode_id)
        rows = s.scalars(
            select(m.Evaluation)
            .options(defer(m.Evaluation.seal))  # the whole signed report: not needed here
            .where(m.Evaluation.episode_id == episode_id)
            .order_by(m.Evaluation.eval_date, m.Evaluation.id)
        ).all()
        return [_evaluation(r, with_seal=False) for r in rows]


def _records_where(*where: Any) -> Any:
    """The columns progress needs of the records matching ``where``, oldest first."""
    return (
        select(
            m.Evaluation.id,
            m.Evaluation.kind,
            m.Evaluation.eval_date,
            m.Evaluation.status,
            m.Evaluation.findings,
        )
        .where(*where)
        .order_by(m.Evaluation.eval_date, m.Evaluation.id)
    )


def episode_values(db: Database, episode_id: int) -> tuple[str | None, list[Record]]:
    """An episode's painful side and its records' values, oldest first: what a visit note's
    page reads from the rest of its episode when it opens. Only the columns progress needs (no
    addenda, seal or metadata: a thirtieth visit opens as quickly as the first), in one session.
    """
    with db.reading() as s:
        rows = s.execute(_records_where(m.Evaluation.episode_id == episode_id)).all()
        episode: m.Episode = get_row(s, m.Episode, "episode", episode_id)
        side = episode.involved_side
    # the JSON column is decoded afresh for each query: these dicts are this caller's own
    out = [
        Record(r.id, r.kind, r.eval_date, (r.findings or {}).get("values", {}), r.status)
        for r in rows
    ]
    return side, out


def earlier_in_episode(db: Database, evaluation_id: int) -> list[Record]:
    """The records of the same patient's episode before ``evaluation_id`` (by date, then id),
    oldest first: what a new questionnaire of that record may start from (PSFS activities).
    The patient is matched as well as the episode, so no other patient's answers come back."""
    with db.reading() as s:
        row: m.Evaluation = get_row(s, m.Evaluation, "evaluation", evaluation_id)
        here = (row.eval_date, row.id)
        rows = s.execute(
            _records_where(
                m.Evaluation.episode_id == row.episode_id,
                m.Evaluation.patient_id == row.patient_id,
            )
        ).all()
    return [
        Record(r.id, r.kind, r.eval_date, (r.findings or {}).get("values", {}), r.status)
        for r in rows
        if (r.eval_date, r.id) < here
    ]
