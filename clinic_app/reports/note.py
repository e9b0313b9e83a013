"""The note text of a stored evaluation or visit note, for the clinic's main record.

Gathers the record, its own form snapshot, the patient, the episode, the episode's other records
and its goals from storage and lets :func:`clinic_app.core.note_text.note_text` write the text.
No reportlab here: the "Copy note text" shortcut and ``clinic-app note`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_app.core.note_text import EpisodeRef
from clinic_app.core.note_text import note_text as build_note
from clinic_app.core.progress import Record

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Evaluation


def _record(row: Evaluation) -> Record:
    return Record(id=row.id, kind=row.kind, on=row.eval_date, values=row.values, status=row.status)


def note_text(db: Database, evaluation_id: int) -> str:
    """The plain-text SOAP note of evaluation (or visit note) ``evaluation_id``.

    Raises the records API's errors for an unknown id (``NotFoundError``).
    """
    from clinic_app.storage import records as r

    row = r.get_evaluation(db, evaluation_id)
    form = r.evaluation_form(db, evaluation_id)
    patient = r.get_patient(db, row.patient_id)
    who = f"{patient.display_name}, MRN {patient.mrn}" if patient.mrn else patient.display_name
    episode_ref = None
    history: list[Record] = []
    goals: list[object] = []
    if row.episode_id is not None:
        episode = r.get_episode(db, row.episode_id)
        episode_ref = EpisodeRef(episode.title, episode.involved_side, episode.start_date)
        history = [_record(e) for e in r.episode_records(db, row.episode_id)]
        goals = list(r.list_goals(db, row.episode_id))
    return build_note(
        form,
        _record(row),
        patient=who,
        episode=episode_ref,
        records=history,
        goals=goals,
        signer=row.signed_by,
    )
