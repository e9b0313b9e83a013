"""A questionnaire's answers as a finding: the value of a form item of type ``questionnaire``.

The stored JSON shape is the ``clinic-app score`` answers file plus who gave the answers::

    {"questionnaire": "lefs", "answers": {"q01": 4, ...}, "reported_by": "patient",
     "language": "en", "reported_at": "2026-03-02T10:41"}

``reported_at`` (optional, local time to the minute) says when the answers were given; a
response without it was given on the record's date.

The answers are checked with the questionnaire's own rules (:func:`scoring.parse_answers`), so a
value the score command would refuse cannot be stored either. The score is not stored here: it
is computed from the answers by :func:`score_of`, and the page that lands the answers also
writes it into the item's ``score_item`` (the number goals, charts and notes already read).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from clinic_app.core.questionnaire import Questionnaire, QuestionnaireError, shipped
from clinic_app.core.scoring import (
    Answers,
    AnswersError,
    Score,
    number_text,
    parse_answers,
    score,
)

if TYPE_CHECKING:
    from clinic_app.core.findings import Findings
    from clinic_app.core.form_schema import Form, Item

Reporter = Literal["patient", "clinician"]
REPORTERS: tuple[Reporter, ...] = ("patient", "clinician")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_KEYS = frozenset({"questionnaire", "answers", "reported_by", "language", "reported_at"})
_REPORTED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
REPORTER_WORDS: dict[str, str] = {"patient": "the patient", "clinician": "the clinician"}


@dataclass(frozen=True)
class Response:
    """One questionnaire answered: the answers (JSON shape), who gave them, in which language."""

    questionnaire: str
    answers: Mapping[str, Any]
    reported_by: Reporter
    language: str = "en"
    reported_at: str | None = None  # "2026-03-02T10:41" (local time), when known

    def plain(self) -> dict[str, Any]:
        out = {
            "questionnaire": self.questionnaire,
            "answers": {
                k: (dict(v) if isinstance(v, Mapping) else v) for k, v in self.answers.items()
            },
            "reported_by": self.reported_by,
            "language": self.language,
        }
        if self.reported_at is not None:
            out["reported_at"] = self.reported_at
        return out

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
    reported_at = value.get("reported_at")
    if reported_at is not None and not _valid_time(reported_at):
        return (
            None,
            f"{where}: reported_at {str(reported_at)[:25]!r} is not a date and time "
            "(YYYY-MM-DDTHH:MM)",
        )
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
    return Response(qid, kept, reporter, language, reported_at), None


def _valid_time(text: Any) -> bool:
    if not isinstance(text, str) or not _REPORTED_AT.match(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def reported_now() -> str:
    """The ``reported_at`` of answers given now (local time, to the minute)."""
    return datetime.now().strftime("%Y-%m-%dT%H:%M")


# ---------------------------------------------------------------------------- the score item


def score_number(scored: Score) -> int | float | None:
    """The score as the score item stores it: rounded as the questionnaire shows it (so what the
    screen shows is what is stored); None when incomplete."""
    if scored.value is None:
        return None
    decimals = scored.questionnaire.scoring.decimals
    text = number_text(scored.value, decimals)
    return int(text) if decimals == 0 else float(text)


def score_range_text(scored: Score) -> str:
    """ "52/80" (a complete score out of its maximum), else ""."""
    if scored.value is None:
        return ""
    return f"{scored.value_text()}/{scored.questionnaire.scoring.range.max:g}"


def summary_text(response: Response) -> str:
    """One line for notes and reports: "LEFS 52/80 (patient-reported)", or why no score."""
    scored = score_of(response)
    q = scored.questionnaire
    if scored.value is None:
        reason = scored.reason.split(";")[0].strip()
        shown = f"{q.short} incomplete ({reason})"
    else:
        shown = f"{q.short} {score_range_text(scored)}"
    return f"{shown} ({response.reported_by}-reported)"


def reported_text(response: Response) -> str:
    """ "Reported by the patient, 2 Mar 2026 10:41" (the time only when stored)."""
    who = f"Reported by {REPORTER_WORDS[response.reported_by]}"
    if response.reported_at is None:
        return who
    at = datetime.fromisoformat(response.reported_at)
    return f"{who}, {at.day} {at:%b %Y %H:%M}"


def with_score(form: Form, findings: Findings, item_id: str) -> Findings:
    """``findings`` with the score of questionnaire item ``item_id``'s response written into its
    ``score_item`` (cleared when the response is incomplete or absent): the one update that
    lands a response stores its score with it."""
    item = form.items[item_id]
    if item.score_item is None or item.score_item not in form.items:
        return findings
    value = findings.values.get(item_id)
    number = score_number(score_of(value)) if isinstance(value, Response) else None
    if findings.values.get(item.score_item) == number:
        return findings
    return findings.with_value(form, item.score_item, number)


def score_mismatches(form: Form, values: Mapping[str, Any]) -> list[str]:
    """Score items whose stored number is not what their questionnaire's answers score, one
    line each naming both numbers (typed over by hand after the answers were given)."""
    out: list[str] = []
    items = form.items
    for item in items.values():
        if item.questionnaire is None or item.score_item not in items:
            continue
        raw = values.get(item.id)
        if raw is None:
            continue
        response = raw if isinstance(raw, Response) else check_response(item, raw, item.id)[0]
        if response is None:
            continue
        target = items[str(item.score_item)]
        stored = values.get(target.id)
        scored = score_of(response)
        number = score_number(scored)
        if stored is None or isinstance(stored, bool) or not isinstance(stored, int | float):
            continue
        q = scored.questionnaire
        if number is None:
            out.append(
                f"{target.label} is {stored:g}, but the {q.short} answers are incomplete "
                f"({scored.reason.split(';')[0]}), so they give no score"
            )
        elif Fraction(str(stored)) != Fraction(str(number)):
            out.append(
                f"{target.label} is {stored:g}, but the {q.short} answers "
                f"({response.reported_by}-reported) score {number:g}"
            )
    return out


def covered_scores(form: Form, values: Mapping[str, Any]) -> set[str]:
    """Score items whose stored number is exactly their answers' score: a note naming the
    response ("LEFS 52/80 (patient-reported)") need not repeat them."""
    out: set[str] = set()
    items = form.items
    for item in items.values():
        if item.questionnaire is None or item.score_item not in items:
            continue
        raw = values.get(item.id)
        if raw is None:
            continue
        response = raw if isinstance(raw, Response) else check_response(item, raw, item.id)[0]
        if response is None:
            continue
        number = score_number(score_of(response))
        stored = values.get(str(item.score_item))
        if number is not None and stored is not None and stored == number:
            out.add(str(item.score_item))
    return out
