"""Which PSFS activities a follow-up starts from: the episode's baseline ones, scores empty.

The Patient-Specific Functional Scale only measures change when the *same* activities are rated
again, and :func:`clinic_app.core.scoring.compare` already refuses to compare an activity whose
text changed. So a later PSFS of the episode starts from the activities of the episode's first
PSFS (its baseline), each in its own slot (``a1``..``a5``) and without a score: the patient rates
them again, may drop one or name another. The baseline rather than the latest: progress and the
progress report compare every later PSFS with the episode's first, so a slot carried from the
baseline stays comparable with it, while carrying the latest would pass on a one-off rewording.

Pure: the caller hands over the earlier records of the same patient's episode (oldest first).
Nothing here is stored; a carried activity becomes an answer only once it is rated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from clinic_app.core.progress import Record
from clinic_app.core.questionnaire import Questionnaire
from clinic_app.core.scoring import _bad_text

KIND_WORDS = {
    "initial": "initial evaluation",
    "re_evaluation": "re-evaluation",
    "discharge": "discharge",
    "visit": "visit",
}


@dataclass(frozen=True)
class Carried:
    """The activities a new PSFS starts from (slot id -> the patient's earlier words).

    ``skipped``: slots whose earlier text today's rules refuse (too long, a control character):
    not carried, the patient names them afresh.
    """

    activities: Mapping[str, str]
    record_id: int
    kind: str
    on: date
    skipped: tuple[str, ...] = ()

    def label(self) -> str:
        """ "named at the visit of 2026-11-02" """
        return f"named at the {KIND_WORDS.get(self.kind, 'record')} of {self.on.isoformat()}"


def carried_activities(q: Questionnaire, item_id: str, earlier: Sequence[Record]) -> Carried | None:
    """The activities of the first of ``earlier`` (oldest first) whose ``item_id`` holds a
    ``q`` response naming at least one activity; None when there is none (or ``q`` asks for no
    activities). Each text is taken as the stored answers keep it (spaces collapsed); a text
    the answers check would refuse is skipped, not repaired."""
    slots = [i.id for i in q.items if i.patient_activity]
    if not slots:
        return None
    for record in earlier:
        answers = _answers(record.values.get(item_id), q.id)
        if answers is None:
            continue
        texts: dict[str, str] = {}
        skipped: list[str] = []
        for slot in slots:
            value = answers.get(slot)
            raw = value.get("activity") if isinstance(value, Mapping) else None
            if not isinstance(raw, str) or not raw.strip():
                continue
            text = " ".join(raw.split())
            if _bad_text(text) is not None:
                skipped.append(slot)
                continue
            texts[slot] = text
        if texts or skipped:
            return Carried(texts, record.id, record.kind, record.on, tuple(skipped))
    return None


def _answers(value: Any, qid: str) -> Mapping[str, Any] | None:
    if not isinstance(value, Mapping) or value.get("questionnaire") != qid:
        return None
    answers = value.get("answers")
    return answers if isinstance(answers, Mapping) else None


def kept_answer(carried: Carried | None, slot: str, activity: str, score: int | None) -> bool:
    """Whether a pager slot is an answer to store: a rated one always; an unrated one only when
    its activity was named here, not merely carried in (a carried, unrated activity is no
    answer and must not make the questionnaire count as started)."""
    if score is not None:
        return True
    if not activity:
        return False
    return carried is None or carried.activities.get(slot) != activity
