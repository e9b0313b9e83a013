"""Automatic medical record numbers from the clinic's pattern (setting ``mrn_pattern``, issue 18).

A pattern is text with one number field and optionally the year: ``P{year}-{n:05}`` gives
``P2026-00001``, ``P2026-00002``... The next number is one past the highest number of this year's
(or, without ``{year}``, of all) MRNs that match the pattern; MRNs typed by hand that do not match
are ignored, so a clinic can mix both. Two workstations proposing at the same moment propose the
same number: :func:`create_patient_numbered` takes the next free one when the unique index refuses
the first (SQLite and PostgreSQL alike), so an automatic MRN is never a duplicate and never waits
for a lock. An empty pattern means MRNs are typed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from clinic_app.storage import models as m
from clinic_app.storage.errors import DuplicateMRNError, StorageError
from clinic_app.storage.records.patients import create_patient

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.values import Patient, PatientFields

FIELD = re.compile(r"\{(year|n)(?::0?([1-9]|1[0-2]))?\}")
# Letters, digits and a few separators only: an MRN lands in file names and other systems.
_LITERAL = re.compile(r"[A-Za-z0-9/._-]*")
MAX_PATTERN = 40
MAX_MRN = 64  # the column's length
# How many times a save takes the next number when another workstation took the proposed one.
TRIES = 50


def pattern_problem(pattern: object) -> str | None:
    """Why ``pattern`` cannot number MRNs (None when it can, or when it is empty: typed MRNs)."""
    if not isinstance(pattern, str):
        return "must be text"
    if not pattern:
        return None
    if len(pattern) > MAX_PATTERN:
        return f"is longer than {MAX_PATTERN} characters"
    names = [f[1] for f in FIELD.finditer(pattern)]
    if names.count("n") != 1:
        return "needs exactly one {n} (the number), e.g. P{year}-{n:05}"
    if names.count("year") > 1:
        return "has {year} more than once"
    if any(f[1] == "year" and f[2] for f in FIELD.finditer(pattern)):
        return "takes {year} without a width (it always has four digits)"
    for literal in FIELD.split(pattern)[::3]:
        if not _LITERAL.fullmatch(literal):
            return "may hold only letters, digits, - _ . / besides {year} and {n}"
    return None


def _parts(pattern: str, year: int) -> tuple[str, str, int]:
    """The text before and after the number (the year filled in), and the number's width."""
    match = next(f for f in FIELD.finditer(pattern) if f[1] == "n")
    width = int(match[2] or 1)

    def fill(text: str) -> str:
        return FIELD.sub(lambda f: str(year) if f[1] == "year" else f[0], text)

    return fill(pattern[: match.start()]), fill(pattern[match.end() :]), width


def format_mrn(pattern: str, n: int, year: int) -> str:
    prefix, suffix, width = _parts(pattern, year)
    return f"{prefix}{n:0{width}d}{suffix}"


def next_mrn(db: Database, pattern: str, today: date | None = None) -> str:
    """The next free MRN of ``pattern`` (raises StorageError for an unusable pattern)."""
    problem = pattern_problem(pattern)
    if problem is not None or not pattern:
        raise StorageError(f"MRN pattern {pattern!r}: {problem or 'is empty'}")
    year = (today or date.today()).year
    prefix, suffix, _width = _parts(pattern, year)
    number = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix))
    # The longest, then the highest, of the MRNs starting with the prefix: the largest number
    # (the MRN index serves the prefix range on both backends).
    query = select(m.Patient.mrn).where(m.Patient.mrn.startswith(prefix, autoescape=True))
    query = query.order_by(func.length(m.Patient.mrn).desc(), m.Patient.mrn.desc())
    highest = 0
    with db.connection() as conn:
        for (mrn,) in conn.execute(query):
            found = number.fullmatch(mrn)
            if found is not None:
                highest = int(found[1])
                break
    made = format_mrn(pattern, highest + 1, year)
    if len(made) > MAX_MRN:
        raise StorageError(f"MRN pattern {pattern!r}: the next number {made[:70]} is too long")
    return made


def create_patient_numbered(
    db: Database, data: PatientFields, pattern: str, *, user: str, today: date | None = None
) -> Patient:
    """Create the patient with the MRN in ``data`` if it is free, else with the next free MRN of
    ``pattern``: the proposal shown in the dialog may have been taken by another workstation
    meanwhile. Raises DuplicateMRNError only after :data:`TRIES` numbers were all taken."""
    candidate = data
    for _ in range(TRIES):
        try:
            return create_patient(db, candidate, user=user)
        except DuplicateMRNError:
            candidate = replace(data, mrn=next_mrn(db, pattern, today))
    raise DuplicateMRNError(candidate.mrn)
