"""A questionnaire's answers as a finding: the value of a form item of type ``questionnaire``.

The stored JSON shape is the ``clinic-app score`` answers file plus who gave the answers::

    {"questionnaire": "lefs", "answers": {"q01": 4, ...}, "reported_by": "patient",
     "language": "en"}

The answers are checked with the questionnaire's own rules (:func:`scoring.parse_answers`), so a
value the score command would refuse cannot be stored either. The score is not stored here: it
is computed from the answers by :func:`score_of`, and the page that lands the answers also
writes it into the item's ``score_item`` (the number goals, charts and notes already read).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from clinic_app.core.questionnaire import Questionnaire, QuestionnaireError, shipped
from clinic_app.core.scoring import Answers, AnswersError, Score, parse_answers, score

if TYPE_CHECKING:
    from clinic_app.core.form_schema import Item

Reporter = Literal["patient", "clinician"]
REPORTERS: tuple[Reporter, ...] = ("patient", "clinician")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_KEYS = frozenset({"questionnaire", "answers", "reported_by", "language"})


@dataclass(frozen=True)
class Response:
    """One questionnaire answered: the answers (JSON shape), who gave them, in which language."""

    questionnaire: str
    answers: Mapping[str, Any]
    reported_by: Reporter
    language: str = "en"

    def plain(self) -> dict[str, Any]:
        return {
            "questionnaire": self.questionnaire,
            "answers": {
                k: (dict(v) if isinstance(v, Mapping) else v) for k, v in self.answers.items()
            },
            "reported_by": self.reported_by,
            "language": self.language,
        }

    def parsed(self) -> Answers:
        q = questionnaire_of(self.questionnaire)
        return parse_answers(
            q, {"questionnaire": self.questionnaire, "answers": dict(self.answers)}
        )


@cache
def questionnaire_of(qid: str) -> Questionnaire:
    """A shipped questionnaire, read once per process (the files are part of the install)."""
    return shipped(qid)


def score_of(response: Response) -> Score:
    """The response's score (or why it is incomplete), by the questionnaire's cited rules."""
    return score(questionnaire_of(response.questionnaire), response.parsed())


def check_response(item: Item, value: Any, where: str) -> tuple[Response | None, str | None]:
    """A ``questionnaire`` item's value, normalised, or a problem naming the item and the field."""
    if isinstance(value, Response):
        value = value.plain()
    if not isinstance(value, Mapping):
        return None, f"{where}: expected the answers object (questionnaire, answers, reported_by)"
    extra = sorted(str(k) for k in value if k not in _KEYS)
    if extra:
        return None, f"{where}: {extra[0][:40]!r} is not a key of a questionnaire response"
    qid = item.questionnaire
    if value.get("questionnaire") != qid:
        got = value.get("questionnaire")
        return None, f"{where}: answers are for {str(got)[:40]!r}, not {qid!r}"
    reporter = value.get("reported_by")
    if reporter not in REPORTERS:
        return (
            None,
            f"{where}: reported_by must be patient or clinician, not {str(reporter)[:40]!r}",
        )
    language = value.get("language", "en")
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        return None, f"{where}: language {str(language)[:10]!r} is not a two-letter code"
    assert qid is not None  # the schema requires it of a questionnaire item
    try:
        q = questionnaire_of(qid)
    except QuestionnaireError as err:
        return None, f"{where}: questionnaire {qid!r} cannot be read ({err.problems[0]})"
    if language not in q.languages:
        return None, f"{where}: {q.short} is not available in {language!r}"
    raw = value.get("answers")
    try:
        answers = parse_answers(q, {"questionnaire": qid, "answers": raw}, name=where)
    except AnswersError as err:
        return None, err.problems[0]
    if all(v is None for v in answers.values.values()) and not answers.activities:
        return None, None  # nothing answered is no value
    kept: dict[str, Any] = {}
    for key, number in answers.values.items():
        activity = answers.activities.get(key)
        if activity is not None:
            kept[key] = {"activity": activity, "score": number}
        elif number is not None:
            kept[key] = number
    return Response(qid, kept, reporter, language), None
