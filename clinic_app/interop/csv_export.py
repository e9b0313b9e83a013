"""Findings, patients and the audit trail as CSV files, for audits and research (issue 20).

``findings.csv`` has one row per finding: patient (MRN), episode, record, kind, status, date,
item id, side (left/right for a bilateral item, empty otherwise), value, unit. ``patients.csv``
one row per patient, ``audit.csv`` the access and change trail (``records.access_log``).

Pseudonymised (``pseudonymise=True``) for research that leaves the clinic: the MRN becomes a
keyed hash (HMAC-SHA256 under the clinic's pseudonym key), so the same patient gets the same
pseudonym in every export made with the same key and nobody without the key can link it back;
names, dates of birth, phone, email and referring provider are left out; every date of a
patient is shifted by a whole number of days that the key derives from the MRN (the intervals
between a patient's visits stay true, the calendar dates do not); episode and record numbers
become keyed hashes too (they are the clinic database's row numbers). Free text (text items,
interventions, the home program, a PSFS activity in the patient's words) can name anyone, so a
pseudonymised export leaves it out; questionnaire answers go as their score.

Files are 0600 and never written through a symbolic link; the output folder must be a real
folder (made 0700 when missing). A cell a spreadsheet would run as a formula (= + - @) gets a
leading ``'``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from clinic_app import private
from clinic_app.core import findings as findings_mod
from clinic_app.core.findings import Rows
from clinic_app.core.form import SIDES, Form, Item, ItemType
from clinic_app.core.program import Program
from clinic_app.core.responses import Response, score_of
from clinic_app.storage.errors import StorageError

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

What = Literal["findings", "patients", "audit"]
WHAT: tuple[What, ...] = ("findings", "patients", "audit")
KEY_FILE = "pseudonym.key"
KEY_LIMIT = 4096
MIN_KEY_BYTES = 16
SHIFT_DAYS = 182  # a patient's dates move by -182..+182 days
FINDINGS_FIELDS = (
    "patient",
    "episode",
    "record",
    "kind",
    "status",
    "date",
    "item",
    "side",
    "value",
    "unit",
)
PATIENT_FIELDS = (
    "patient",
    "mrn",
    "family_name",
    "given_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "activity",
    "referring_provider",
    "status",
)
PSEUDONYMOUS_PATIENT_FIELDS = ("patient", "sex", "status")
AUDIT_FIELDS = ("id", "at", "actor", "action", "entity", "entity_id", "patient", "patient_name")
FREE_TEXT = frozenset({ItemType.TEXT, ItemType.ROWS, ItemType.PROGRAM})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportFolderError(StorageError):
    """The output folder cannot be used (a symbolic link, a file, not writable)."""


def spreadsheet_safe(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


@dataclass(frozen=True)
class Pseudonymiser:
    """Keyed pseudonyms and date shifts: the same key and MRN always give the same ones."""

    key: bytes

    def _mac(self, *parts: str) -> bytes:
        message = "\x00".join(parts).encode("utf-8")
        return hmac.new(self.key, message, hashlib.sha256).digest()

    def patient(self, mrn: str) -> str:
        return "P-" + self._mac("patient", mrn).hex()[:20]

    def number(self, what: str, mrn: str, value: int | None) -> str:
        if value is None:
            return ""
        return self._mac(what, mrn, str(value)).hex()[:12]

    def shift(self, mrn: str) -> int:
        raw = int.from_bytes(self._mac("shift", mrn)[:4], "big")
        return raw % (2 * SHIFT_DAYS + 1) - SHIFT_DAYS

    def day(self, mrn: str, on: date) -> date | None:
        """``on`` moved by the patient's shift; None when that would leave the calendar (a date
        typed within half a year of 0001-01-01 or 9999-12-31): the cell is then left empty."""
        try:
            return on + timedelta(days=self.shift(mrn))
        except OverflowError:
            return None


def key_path() -> Path:
    from clinic_app.paths import data_dir

    return data_dir() / KEY_FILE


def load_key(key_file: Path | None = None) -> bytes:
    """The pseudonym key: ``key_file``'s bytes, else the clinic's key in the data folder (made
    on first use: 32 random bytes as hex, 0600). Keep it: a new key gives new pseudonyms."""
    from clinic_app.storage.input_files import InputFileError, read_limited

    path = key_file or key_path()
    if key_file is None and not os.path.lexists(path):
        private.make_folder(path.parent)
        with contextlib.suppress(FileExistsError):  # another export made it first: use theirs
            private.write_bytes(path, secrets.token_hex(32).encode("ascii") + b"\n", replace=False)
    if os.path.islink(path):
        raise InputFileError(path, "is a symbolic link; a pseudonym key file is never followed")
    data = read_limited(path, KEY_LIMIT, "pseudonym key file").strip()
    if len(data) < MIN_KEY_BYTES:
        raise InputFileError(
            path, f"holds {len(data)} bytes; a pseudonym key needs at least {MIN_KEY_BYTES}"
        )
    if key_file is None:
        private.tighten(path)
    return data


def check_folder(folder: Path) -> Path:
    """``folder`` once it is known to be a real folder (made 0700 when missing)."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        try:
            return private.make_folder(folder)
        except OSError as err:
            raise ExportFolderError(f"{folder}: cannot make the folder ({err.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise ExportFolderError(f"{folder}: is a symbolic link; give the real folder")
    if not stat.S_ISDIR(info.st_mode):
        raise ExportFolderError(f"{folder}: is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportFolderError(f"{folder}: cannot write there (permission denied)")
    return folder


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write ``rows`` to ``path`` through a private temporary file renamed at the end (a failed
    export leaves the previous file, never half a file). Returns the rows written."""
    tmp = path.with_name(f".{path.name}.part")
    count = 0
    fd = private.open_new(tmp)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for row in rows:
                writer.writerow([spreadsheet_safe(c) if isinstance(c, str) else c for c in row])
                count += 1
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
            raise OSError(21, "is not a regular file", str(path))
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return count


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def cell(item: Item, value: Any) -> str:
    """A finding's value as one CSV cell (choice ids, numbers, ``;`` between several)."""
    from clinic_app.core import engine

    if isinstance(value, Response):
        scored = score_of(value)
        return scored.value_text() if scored.complete else ""
    if isinstance(value, Rows | Program):
        return engine.format_value(item, value)
    if isinstance(value, tuple):
        return ";".join(value)
    if isinstance(value, str):
        return value
    return _number(value)


def _unit(item: Item) -> str:
    if item.type is ItemType.SCALE:
        return "0-10"
    if item.type is ItemType.MMT:
        return "grade 0-5"
    return str(item.unit)


@dataclass(frozen=True)
class _Stored:
    id: int
    patient_id: int
    mrn: str
    episode_id: int | None
    kind: str
    status: str
    eval_date: date
    form_snapshot_id: int
    findings: dict[str, Any]


_BATCH = 500  # records read at a time: a 100,000-patient clinic is never in memory at once


def _records(db: Database, patient_ids: Sequence[int] | None) -> Iterator[_Stored]:
    from sqlalchemy import select

    from clinic_app.storage import models as m

    ev = m.Evaluation
    query = (
        select(
            ev.id,
            ev.patient_id,
            m.Patient.mrn,
            ev.episode_id,
            ev.kind,
            ev.status,
            ev.eval_date,
            ev.form_snapshot_id,
        )
        .join(m.Patient, m.Patient.id == ev.patient_id)
        .order_by(ev.patient_id, ev.eval_date, ev.id)
    )
    if patient_ids is not None:
        query = query.where(ev.patient_id.in_(list(patient_ids)))
    with db.reading() as s:
        keys = s.execute(query).all()
    for start in range(0, len(keys), _BATCH):
        batch = keys[start : start + _BATCH]
        with db.reading() as s:
            rows = s.execute(select(ev.id, ev.findings).where(ev.id.in_([k[0] for k in batch])))
            found: dict[int, dict[str, Any]] = {row_id: data for row_id, data in rows}
        for key in batch:
            yield _Stored(*key, findings=found[key[0]])


def finding_rows(
    db: Database,
    pseudonymiser: Pseudonymiser | None = None,
    patient_ids: Sequence[int] | None = None,
) -> Iterator[tuple[str, ...]]:
    """One tuple per finding (FINDINGS_FIELDS), patients and dates in order."""
    from clinic_app.storage.records import evaluation_form

    forms: dict[int, Form] = {}  # by form snapshot: each parsed (and queried) once
    for rec in _records(db, patient_ids):
        form = forms.get(rec.form_snapshot_id)
        if form is None:
            form = forms[rec.form_snapshot_id] = evaluation_form(db, rec.id)
        found = findings_mod.validate(form, dict(rec.findings))
        p = pseudonymiser
        patient = p.patient(rec.mrn) if p else rec.mrn
        episode = p.number("episode", rec.mrn, rec.episode_id) if p else str(rec.episode_id or "")
        record = p.number("record", rec.mrn, rec.id) if p else str(rec.id)
        shifted = p.day(rec.mrn, rec.eval_date) if p else rec.eval_date
        day = shifted.isoformat() if shifted is not None else ""
        for item in form.items.values():
            raw = found.values.get(item.id)
            if raw is None or raw == "" or (p is not None and item.type in FREE_TEXT):
                continue
            if isinstance(raw, Mapping):
                pairs: list[tuple[str, Any]] = [(s, raw[s]) for s in SIDES if s in raw]
            else:
                pairs = [("", raw)]
            for side, value in pairs:
                if value == "":
                    continue  # blank text is no finding
                text = cell(item, value)  # "" for no choice ticked, an incomplete questionnaire
                yield (
                    patient,
                    episode,
                    record,
                    rec.kind,
                    rec.status,
                    day,
                    item.id,
                    side,
                    text,
                    _unit(item),
                )


def _patients(db: Database, patient_ids: Sequence[int] | None) -> list[Any]:
    from sqlalchemy import select

    from clinic_app.storage import models as m

    query = select(m.Patient).order_by(m.Patient.id)
    if patient_ids is not None:
        query = query.where(m.Patient.id.in_(list(patient_ids)))
    with db.reading() as s:
        return [
            (
                p.id,
                p.mrn,
                p.family_name,
                p.given_name,
                p.date_of_birth,
                p.sex,
                p.phone,
                p.email,
                p.activity,
                p.referring_provider,
                p.archived,
            )
            for p in s.scalars(query)
        ]


def patient_rows(
    db: Database,
    pseudonymiser: Pseudonymiser | None = None,
    patient_ids: Sequence[int] | None = None,
) -> Iterator[tuple[str, ...]]:
    for pid, mrn, family, given, dob, sex, phone, email, activity, referrer, archived in _patients(
        db, patient_ids
    ):
        status = "archived" if archived else "active"
        if pseudonymiser is not None:
            yield (pseudonymiser.patient(mrn), sex, status)
        else:
            born = dob.isoformat() if dob else ""
            yield (
                str(pid),
                mrn,
                family,
                given,
                born,
                sex,
                phone,
                email,
                activity,
                referrer,
                status,
            )


def audit_rows(
    db: Database,
    pseudonymiser: Pseudonymiser | None = None,
    patient_ids: Sequence[int] | None = None,
) -> Iterator[tuple[str, ...]]:
    from clinic_app.storage.records import access_log

    mrns = {row[0]: row[1] for row in _patients(db, None)}
    if patient_ids is not None and len(patient_ids) == 1:
        entries = access_log(db, patient_id=patient_ids[0], limit=10_000_000)
    else:
        entries = access_log(db, limit=10_000_000)
    wanted = set(patient_ids) if patient_ids is not None else None
    for e in reversed(entries):  # oldest first, as a trail is read
        if wanted is not None and e.patient_id not in wanted:
            continue
        at: datetime = e.at
        entity_id = str(e.entity_id)
        patient = "" if e.patient_id is None else str(e.patient_id)
        name = e.patient_name or ""
        mrn = mrns.get(e.patient_id) if e.patient_id is not None else None
        if pseudonymiser is not None:
            name = ""
            if mrn is not None:
                patient = pseudonymiser.patient(mrn)
                at = at + timedelta(days=pseudonymiser.shift(mrn))
                if e.entity == "patient":
                    entity_id = patient
                else:
                    entity_id = pseudonymiser.number(e.entity, mrn, e.entity_id)
        yield (
            str(e.id),
            at.isoformat(timespec="seconds"),
            e.actor,
            e.action,
            e.entity,
            entity_id,
            patient,
            name,
        )


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int
    patient_ids: tuple[int, ...]  # whose data the file holds (for the access log)


def export_csv(
    db: Database,
    what: What,
    folder: Path,
    *,
    pseudonymiser: Pseudonymiser | None = None,
    patient_ids: Sequence[int] | None = None,
) -> Written:
    """Write ``<what>.csv`` into ``folder``. Raises ExportFolderError for a folder that is a
    link or a file, OSError when the file cannot be written."""
    check_folder(folder)
    path = folder / f"{what}.csv"
    if what == "findings":
        header: Sequence[str] = FINDINGS_FIELDS
        rows: Iterable[Sequence[Any]] = finding_rows(db, pseudonymiser, patient_ids)
    elif what == "patients":
        header = PSEUDONYMOUS_PATIENT_FIELDS if pseudonymiser else PATIENT_FIELDS
        rows = patient_rows(db, pseudonymiser, patient_ids)
    elif what == "audit":
        header = AUDIT_FIELDS
        rows = audit_rows(db, pseudonymiser, patient_ids)
    else:
        raise StorageError(f"--what: {what!r} is not one of {', '.join(WHAT)}")
    count = _write_csv(path, header, rows)
    ids = tuple(p[0] for p in _patients(db, patient_ids)) if what != "audit" else ()
    return Written(path, count, ids)
