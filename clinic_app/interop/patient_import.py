"""Loading an existing patient list from CSV (issue 20): a plan first, then one transaction.

:func:`plan_import` reads the file (regular files only, at most ``IMPORT_LIMIT``, UTF-8, no NUL
bytes), maps its columns to patient fields (a header equal to a field name maps itself;
``column=field`` pairs map the others; other columns are ignored and named) and checks every row
the way the patient screen does (``storage.records.patients``: the same trimming, control
characters, column lengths, a name and an MRN required, a date of birth neither in the future nor
more than ``core.patient_checks.MAX_AGE_YEARS`` years ago) plus what only a file can get wrong: a
date of birth that is not ``YYYY-MM-DD``, an unknown sex, a row with more or fewer cells than the
header, an MRN twice in the file or already in the database. The plan lists what would be
created and what is refused, with every reason.

:func:`run_import` creates the planned patients in one transaction, all or nothing: a plan with
any refused row is not run, and a failure half-way (the database refusing a row another
workstation just took the MRN of) keeps none of them. Each patient gets its usual audit event.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from clinic_app.core.patient_checks import date_of_birth_problem
from clinic_app.storage.errors import StorageError
from clinic_app.storage.input_files import MIB, InputFileError, read_limited_text
from clinic_app.storage.values import PATIENT_FIELDS, PatientFields

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.values import Patient

IMPORT_LIMIT = 32 * MIB  # about 200,000 patients of a dozen columns
SEXES = ("female", "male", "other", "unknown")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SEX_WORDS = {"f": "female", "m": "male", "o": "other", "u": "unknown", "": "unknown"}


class PatientListError(StorageError):
    """The file or the column mapping cannot be used at all (one line, nothing read)."""


@dataclass(frozen=True)
class Planned:
    row: int  # line number in the file
    fields: PatientFields


@dataclass(frozen=True)
class Refused:
    row: int
    mrn: str
    reasons: tuple[str, ...]

    def line(self) -> str:
        who = f" (MRN {self.mrn})" if self.mrn else ""
        return f"row {self.row}{who}: refused: " + "; ".join(self.reasons)


@dataclass(frozen=True)
class ImportPlan:
    path: Path
    columns: Mapping[str, str]  # CSV column -> patient field
    ignored: tuple[str, ...]  # CSV columns mapped to nothing
    planned: tuple[Planned, ...]
    refused: tuple[Refused, ...]

    @property
    def ok(self) -> bool:
        return not self.refused


def parse_map(pairs: Sequence[str]) -> dict[str, str]:
    """``["Surname=family_name", ...]`` as {column: field}; a field that does not exist or a
    pair without ``=`` is refused naming it."""
    out: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        column, field = column.strip(), field.strip()
        if not sep or not column or not field:
            raise PatientListError(
                f"--map {pair!r}: expected COLUMN=FIELD, e.g. Surname=family_name"
            )
        if field not in PATIENT_FIELDS:
            raise PatientListError(
                f"--map {pair!r}: {field!r} is not a patient field ({', '.join(PATIENT_FIELDS)})"
            )
        if column in out:
            raise PatientListError(f"--map: column {column!r} is mapped twice")
        out[column] = field
    return out


def _read(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    text = read_limited_text(path, IMPORT_LIMIT, "patient list (CSV)")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise InputFileError(path, f"holds a NUL byte (line {line}); not a CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        header = next(reader, None)
        if header is None:
            raise InputFileError(path, "is empty; the first line must name the columns")
        for cells in reader:
            if any(c.strip() for c in cells):  # blank lines are no patient
                rows.append((reader.line_num, cells))
    except csv.Error as err:
        raise InputFileError(path, f"is not valid CSV (line {reader.line_num}: {err})") from None
    return [h.strip().lstrip("\ufeff") for h in header], rows


def _columns(
    header: Sequence[str], mapping: Mapping[str, str]
) -> tuple[dict[str, str], tuple[str, ...]]:
    if len(header) != len(set(header)):
        twice = next(h for h in header if header.count(h) > 1)
        raise PatientListError(f"the column {twice!r} is in the header twice")
    missing = [c for c in mapping if c not in header]
    if missing:
        raise PatientListError(
            f"--map: the file has no column {missing[0]!r} (its columns: {', '.join(header)})"
        )
    columns: dict[str, str] = {}
    ignored: list[str] = []
    for column in header:
        field = mapping.get(column) or (
            normal if (normal := column.lower().replace(" ", "_")) in PATIENT_FIELDS else None
        )
        if field is None:
            ignored.append(column)
        elif field in columns.values():
            first = next(c for c, f in columns.items() if f == field)
            raise PatientListError(f"columns {first!r} and {column!r} both give {field}; map one")
        else:
            columns[column] = field
    if "mrn" not in columns.values():
        raise PatientListError("no column gives the MRN: name one mrn or add --map COLUMN=mrn")
    if not {"given_name", "family_name"} & set(columns.values()):
        raise PatientListError(
            "no column gives a name: name one given_name or family_name, or add --map COLUMN=..."
        )
    return columns, tuple(ignored)


def _birth(text: str, today: date) -> tuple[date | None, str | None]:
    text = text.strip()
    if not text:
        return None, None
    try:
        born = date.fromisoformat(text) if _ISO_DAY.fullmatch(text) else None  # not 2026-W01-1
    except ValueError:
        born = None
    if born is None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        return None, f"Date of birth: {shown!r} is not a date like 1983-05-14"
    problem = date_of_birth_problem(born, today)
    return (None, problem) if problem else (born, None)


def _row(
    cells: Sequence[str], header: Sequence[str], columns: Mapping[str, str], today: date
) -> tuple[PatientFields | None, str, list[str]]:
    from clinic_app.storage.records.patients import _clean_fields, _clean_text

    values = {field: cells[header.index(column)] for column, field in columns.items()}
    reasons: list[str] = []
    born, problem = _birth(values.pop("date_of_birth", ""), today)
    if problem:
        reasons.append(problem)
    sex_text = values.pop("sex", "").strip().lower()
    sex = _SEX_WORDS.get(sex_text, sex_text)
    if sex not in SEXES:
        shown = sex_text if len(sex_text) <= 20 else sex_text[:20] + "…"
        reasons.append(f"sex: {shown!r} is not one of {', '.join(SEXES)}")
    texts: dict[str, str] = {}
    for field, value in values.items():
        try:
            texts[field] = _clean_text(field, value)
        except StorageError as err:
            reasons.append(str(err))
    mrn = texts.get("mrn", "")
    if reasons:
        return None, mrn, reasons
    data = PatientFields(
        given_name=texts.get("given_name", ""),
        family_name=texts.get("family_name", ""),
        mrn=mrn,
        date_of_birth=born,
        sex=sex,  # type: ignore[arg-type]  # checked against SEXES above
        phone=texts.get("phone", ""),
        email=texts.get("email", ""),
        activity=texts.get("activity", ""),
        referring_provider=texts.get("referring_provider", ""),
    )
    try:
        _clean_fields(data)  # the screen's rules: a name and an MRN
    except StorageError as err:
        return None, mrn, [str(err)]
    return data, mrn, []


def _taken_mrns(db: Database, mrns: Sequence[str]) -> set[str]:
    from sqlalchemy import select

    from clinic_app.storage import models as m

    taken: set[str] = set()
    unique = sorted(set(mrns))
    with db.reading() as s:
        for start in range(0, len(unique), 500):  # PostgreSQL and SQLite both take 500 binds
            chunk = unique[start : start + 500]
            taken.update(s.scalars(select(m.Patient.mrn).where(m.Patient.mrn.in_(chunk))))
    return taken


def plan_import(
    db: Database,
    path: Path,
    mapping: Mapping[str, str] | None = None,
    *,
    today: date | None = None,
) -> ImportPlan:
    """What importing ``path`` would create and refuse (nothing is written)."""
    today = today or date.today()
    header, rows = _read(path)
    columns, ignored = _columns(header, mapping or {})
    checked: list[tuple[int, PatientFields | None, str, list[str]]] = []
    for line, cells in rows:
        if len(cells) != len(header):
            reason = f"has {len(cells)} cells, the header has {len(header)} columns"
            checked.append((line, None, "", [reason]))
            continue
        data, mrn, reasons = _row(cells, header, columns, today)
        checked.append((line, data, mrn, reasons))
    taken = _taken_mrns(db, [mrn for _, data, mrn, _ in checked if data is not None])
    first: dict[str, int] = {}
    planned: list[Planned] = []
    refused: list[Refused] = []
    for line, data, mrn, reasons in checked:
        if data is not None:
            if mrn in first:
                reasons = [f"MRN {mrn} is already on row {first[mrn]} of the file"]
            elif mrn in taken:
                reasons = [f"MRN {mrn} already belongs to a patient in the database"]
            first.setdefault(mrn, line)
        if reasons or data is None:
            refused.append(Refused(line, mrn, tuple(reasons)))
        else:
            planned.append(Planned(line, data))
    return ImportPlan(path, columns, ignored, tuple(planned), tuple(refused))


@contextmanager
def one_transaction(db: Database) -> Iterator[Database]:
    """``db`` seen inside one write transaction: each records call in the block becomes a
    savepoint of it, committed together when the block ends, kept by none on an error (as
    ``storage.demo`` fills a demo clinic)."""
    from sqlalchemy.orm import sessionmaker

    with db.writing() as outer:
        joined = sessionmaker(
            bind=outer.connection(),
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        yield replace(db, sessions=joined, write_sessions=joined)


def run_import(db: Database, plan: ImportPlan, *, user: str) -> list[Patient]:
    """Create every planned patient in one transaction; refuses a plan with refused rows."""
    from clinic_app.storage.records import create_patient

    if plan.refused:
        raise PatientListError(
            f"{len(plan.refused)} rows are refused; nothing was imported (fix them, or leave "
            "them out of the file, and run again)"
        )
    made: list[Patient] = []
    with one_transaction(db) as tx:
        for entry in plan.planned:
            try:
                made.append(create_patient(tx, entry.fields, user=user))
            except StorageError as err:
                raise StorageError(f"row {entry.row}: {err}; nothing was imported") from None
    return made
