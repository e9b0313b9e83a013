"""The clinic's exercise library, its pictures and saved programs, in the database (issue 17).

The library a screen or a handout uses is the shipped one (``core.library.shipped_library``)
with the clinic's own exercises over it (:func:`load_library`), so a PostgreSQL clinic shares
them between workstations. Everything here is append-only (migration 0007 locks it):

- an exercise edit is a new version (:func:`update_exercise`); the old ones stay, so a signed
  program keeps the words it was printed with;
- a picture is stored once under the SHA-256 of its bytes and never changed
  (:func:`add_picture`: checked, then decoded, before anything is kept);
- a template saved again under its name adds a row; the newest one is the template.

The home program itself is a finding of the evaluation or visit note (``core.program``); its
snapshots name pictures by hash, and :func:`keep_pictures` stores the shipped drawings a program
refers to, so its handout can be rebuilt from the database alone after a release redraws them.

Zip exchange (:func:`export_library`, :func:`import_library`): ``library.json`` (format
``clinic_app-exercises``, version 1, the exercises in ``core.library``'s JSON shape) and
``pictures/<sha256>.<svg|png|jpg>``. An import is one transaction: all of it or nothing.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from clinic_app import private
from clinic_app.core.library import (
    EXERCISE_ID,
    MAX_PICTURE_BYTES,
    ExerciseDef,
    Library,
    LibraryError,
    Picture,
    PictureError,
    check_picture,
    parse_exercise,
    shipped_library,
)
from clinic_app.core.program import Program, ProgramError, parse_program
from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import NotFoundError, StaleRecordError, StorageError
from clinic_app.storage.input_files import image_problem, read_limited
from clinic_app.storage.records._common import (
    checked_text,
    digest,
    require_user,
    row_state,
    write_audit,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_app.core.form_schema import Form
    from clinic_app.storage.database import Database

log = logging.getLogger(__name__)

ZIP_FORMAT = "clinic_app-exercises"
ZIP_VERSION = 1
MAX_ZIP_BYTES = 64 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_EXERCISES = 500
_EXTENSIONS = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg"}
_MEMBER = re.compile(r"^pictures/([0-9a-f]{64})\.(svg|png|jpg)$")


@dataclass(frozen=True)
class Template:
    id: int
    name: str
    program: Program
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class ImportResult:
    """What an import did: exercise ids added, given a new version, or already the same."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    pictures: int  # pictures newly stored


# ---------------------------------------------------------------------------------------------
# Pictures


def decode_problem(data: bytes, media_type: str) -> str | None:
    """Why a PNG or JPEG cannot be drawn (None when it can): its chunks checked, then decoded
    whole with Pillow, so a file cut short or damaged inside is refused at import, not when a
    handout is printed."""
    if media_type == "image/svg+xml":
        return None
    problem = image_problem(data, MAX_PICTURE_BYTES)
    if problem:
        return f"the picture {problem}"
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with reportlab
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            img.load()
    except Exception as exc:  # Pillow raises many kinds for damaged data
        return f"the picture cannot be decoded ({exc.__class__.__name__})"
    if {"PNG": "image/png", "JPEG": "image/jpeg"}.get(fmt or "") != media_type:
        return f"the picture decodes as {fmt}, not {media_type}"
    return None


def checked_picture(data: bytes, media_type: str | None = None, caption: str = "") -> Picture:
    """:func:`core.library.check_picture` and a full decode; StorageError with one line."""
    try:
        picture = check_picture(data, media_type, caption)
    except PictureError as err:
        raise StorageError(f"picture refused: {err}") from None
    problem = decode_problem(picture.data, picture.media_type)
    if problem:
        raise StorageError(f"picture refused: {problem}")
    return picture


def _picture(row: m.LibraryPicture) -> Picture:
    media = row.media_type
    assert media in _EXTENSIONS
    return Picture(media, bytes(row.data), row.sha256)  # type: ignore[arg-type]


def _store_picture(s: Session, picture: Picture, user: str) -> bool:
    """Keep ``picture`` unless its hash is stored already; True when a row was added."""
    found = s.scalar(select(m.LibraryPicture.id).where(m.LibraryPicture.sha256 == picture.sha256))
    if found is not None:
        return False
    row = m.LibraryPicture(
        sha256=picture.sha256,
        media_type=picture.media_type,
        size=len(picture.data),
        data=picture.data,
        created_by=user,
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    write_audit(s, user, "library_picture", row.id, "create", None, picture.sha256)
    return True


def add_picture(
    db: Database, data: bytes, media_type: str | None = None, *, user: str, caption: str = ""
) -> Picture:
    """Store an imported picture (PNG, JPEG or SVG, at most 2 MB and 4000 px a side). Refused
    with one line (nothing stored) when it is not such a picture, is too large, or is an SVG
    with scripts, event handlers, ``foreignObject`` or references outside the file. Storing the
    same bytes again returns the stored picture."""
    user = require_user(user)
    picture = checked_picture(data, media_type, caption)
    with db.writing() as s:
        _store_picture(s, picture, user)
    return picture


def get_pictures(db: Database, hashes: Iterable[str]) -> dict[str, Picture]:
    """The stored pictures among ``hashes`` (unknown hashes are left out)."""
    wanted = sorted(set(hashes))
    if not wanted:
        return {}
    with db.reading() as s:
        rows = s.scalars(select(m.LibraryPicture).where(m.LibraryPicture.sha256.in_(wanted)))
        return {row.sha256: _picture(row) for row in rows}


def program_pictures(db: Database, program: Program) -> dict[str, Picture]:
    """The stored pictures ``program``'s snapshots name (for ``core.program.resolve``)."""
    return get_pictures(
        db, (h for e in program.exercises if e.snapshot for h in e.snapshot.pictures)
    )


def keep_signed_pictures(s: Session, findings: Mapping[str, Any], user: str) -> int:
    """Inside the signing transaction: store the shipped drawings the record's programs name
    (any value shaped as a program with snapshots), so the signed handout never depends on the
    files of this release. Returns how many pictures were new; a malformed value is left to
    the findings checks (it cannot be signed anyway)."""
    values = findings.get("values") if isinstance(findings, Mapping) else None
    if not isinstance(values, Mapping):
        return 0
    hashes: set[str] = set()
    for value in values.values():
        if not isinstance(value, Mapping) or "exercises" not in value:
            continue
        try:
            program = parse_program(value)
        except ProgramError:
            continue
        hashes.update(h for e in program.exercises if e.snapshot for h in e.snapshot.pictures)
    if not hashes:
        return 0
    known = {p.sha256: p for ex in shipped_library().values() for p in ex.pictures}
    return sum(_store_picture(s, known[h], user) for h in sorted(hashes) if h in known)


def keep_pictures(db: Database, program: Program, library: Library, *, user: str) -> int:
    """Store every picture ``program``'s snapshots name that the library holds (the shipped
    drawings live in files a later release may redraw); returns how many were new."""
    user = require_user(user)
    known = {p.sha256: p for ex in library.values() for p in ex.pictures}
    wanted = [known[h] for e in program.exercises if e.snapshot for h in e.snapshot.pictures]
    wanted = [p for p in wanted if p.sha256 in known]
    if not wanted:
        return 0
    with db.writing() as s:
        return sum(_store_picture(s, p, user) for p in dict.fromkeys(wanted))


# ---------------------------------------------------------------------------------------------
# Exercises


def _latest_rows(s: Session) -> list[m.LibraryExercise]:
    newest = (
        select(m.LibraryExercise.exercise_id, func.max(m.LibraryExercise.version).label("v"))
        .group_by(m.LibraryExercise.exercise_id)
        .subquery()
    )
    query = (
        select(m.LibraryExercise)
        .join(
            newest,
            (m.LibraryExercise.exercise_id == newest.c.exercise_id)
            & (m.LibraryExercise.version == newest.c.v),
        )
        .order_by(m.LibraryExercise.id)
    )
    return list(s.scalars(query))


def _pictures_of(s: Session, rows: Iterable[m.LibraryExercise]) -> dict[str, Picture]:
    hashes = {
        str(p.get("sha256"))
        for row in rows
        for p in row.definition.get("pictures", [])
        if isinstance(p, Mapping)
    }
    if not hashes:
        return {}
    found = s.scalars(select(m.LibraryPicture).where(m.LibraryPicture.sha256.in_(hashes)))
    return {row.sha256: _picture(row) for row in found}


def _exercise(row: m.LibraryExercise, pictures: Mapping[str, Picture]) -> ExerciseDef:
    try:
        return parse_exercise(row.definition, pictures, "clinic", row.version, "stored exercise")
    except LibraryError as err:  # written by a newer release, or damaged outside the app
        raise StorageError(f"{err.problems[0]} (version {row.version})") from None


def clinic_exercises(db: Database) -> list[ExerciseDef]:
    """The newest version of each of the clinic's own exercises, in the order they were added."""
    with db.reading() as s:
        rows = _latest_rows(s)
        pictures = _pictures_of(s, rows)
        return [_exercise(row, pictures) for row in rows]


def load_library(db: Database, form: Form | None = None) -> Library:
    """The shipped exercises with the clinic's own (their newest versions) after them."""
    return shipped_library(form).merged(clinic_exercises(db))


def exercise_history(db: Database, exercise_id: str) -> list[ExerciseDef]:
    """Every stored version of a clinic exercise, oldest first (NotFoundError when none)."""
    with db.reading() as s:
        rows = list(
            s.scalars(
                select(m.LibraryExercise)
                .where(m.LibraryExercise.exercise_id == exercise_id)
                .order_by(m.LibraryExercise.version)
            )
        )
        if not rows:
            raise NotFoundError("library exercise", exercise_id)
        pictures = _pictures_of(s, rows)
        return [_exercise(row, pictures) for row in rows]


def _parse(s: Session, definition: Mapping[str, Any] | ExerciseDef) -> ExerciseDef:
    raw = definition.plain() if isinstance(definition, ExerciseDef) else definition
    hashes = [p.get("sha256") for p in raw.get("pictures", []) if isinstance(p, Mapping)]
    found = s.scalars(
        select(m.LibraryPicture).where(m.LibraryPicture.sha256.in_([str(h) for h in hashes]))
    )
    pictures = {row.sha256: _picture(row) for row in found}
    try:
        return parse_exercise(raw, pictures, "clinic", 1)
    except LibraryError as err:
        raise StorageError(err.problems[0]) from None


def _insert(s: Session, ex: ExerciseDef, version: int, user: str) -> ExerciseDef:
    plain = ex.plain()
    row = m.LibraryExercise(
        exercise_id=ex.id,
        version=version,
        definition=plain,
        created_by=user,
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    action = "create" if version == 1 else "version"
    write_audit(s, user, "library_exercise", row.id, action, None, digest(row_state(row)))
    return replace(ex, origin="clinic", version=version)


def _latest_version(s: Session, exercise_id: str) -> int:
    found = s.scalar(
        select(func.max(m.LibraryExercise.version)).where(
            m.LibraryExercise.exercise_id == exercise_id
        )
    )
    return int(found or 0)


def add_exercise(
    db: Database, definition: Mapping[str, Any] | ExerciseDef, *, user: str
) -> ExerciseDef:
    """Add one of the clinic's own exercises (version 1). Its pictures must be stored first
    (:func:`add_picture`); an id of a shipped or an existing clinic exercise is refused."""
    user = require_user(user)
    with db.writing() as s:
        ex = _parse(s, definition)
        if ex.id in shipped_library():
            raise StorageError(f"exercise {ex.id}: a shipped exercise has this id; choose another")
        if _latest_version(s, ex.id):
            raise StorageError(f"exercise {ex.id}: exists already; edit it instead")
        return _insert(s, ex, 1, user)


def update_exercise(
    db: Database,
    definition: Mapping[str, Any] | ExerciseDef,
    *,
    user: str,
    expected_version: int,
) -> ExerciseDef:
    """Save an edit of a clinic exercise as its next version; the stored versions stay.
    ``expected_version`` is the version the editor showed: someone else's newer one wins."""
    user = require_user(user)
    with db.writing() as s:
        ex = _parse(s, definition)
        latest = _latest_version(s, ex.id)
        if not latest:
            raise StorageError(f"exercise {ex.id}: not one of the clinic's exercises")
        if latest != expected_version:
            row = s.scalar(
                select(m.LibraryExercise).where(
                    m.LibraryExercise.exercise_id == ex.id, m.LibraryExercise.version == latest
                )
            )
            who, when = (row.created_by, row.created_at) if row is not None else (None, None)
            raise StaleRecordError("exercise", ex.id, expected_version, latest, who, when)  # type: ignore[arg-type]
        return _insert(s, ex, latest + 1, user)


# ---------------------------------------------------------------------------------------------
# Templates


def _template(row: m.ProgramTemplate) -> Template:
    return Template(row.id, row.name, parse_program(row.program), row.created_by, row.created_at)


def save_template(
    db: Database, name: str, program: Program | Mapping[str, Any], *, user: str
) -> Template:
    """Save ``program`` as the template ``name`` (a new row; the newest of a name is used)."""
    user = require_user(user)
    name = checked_text(m.ProgramTemplate.__table__.c.name, "template name", name)
    if not name:
        raise StorageError("template name: a template needs a name")
    try:
        parsed = parse_program(program.plain() if isinstance(program, Program) else program)
    except ProgramError as err:
        raise StorageError(err.problems[0]) from None
    with db.writing() as s:
        row = m.ProgramTemplate(
            name=name, program=parsed.plain(), created_by=user, created_at=utcnow()
        )
        s.add(row)
        s.flush()
        write_audit(s, user, "program_template", row.id, "create", None, digest(row_state(row)))
        return _template(row)


def list_templates(db: Database) -> list[Template]:
    """The newest template of each name, by name."""
    with db.reading() as s:
        newest = select(func.max(m.ProgramTemplate.id)).group_by(m.ProgramTemplate.name)
        rows = s.scalars(select(m.ProgramTemplate).where(m.ProgramTemplate.id.in_(newest)))
        return sorted((_template(r) for r in rows), key=lambda t: t.name.casefold())


def get_template(db: Database, name: str) -> Template:
    with db.reading() as s:
        row = s.scalars(
            select(m.ProgramTemplate)
            .where(m.ProgramTemplate.name == name)
            .order_by(m.ProgramTemplate.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise StorageError(f"no saved program is called {name[:100]!r}")
        return _template(row)


# ---------------------------------------------------------------------------------------------
# Zip exchange


def export_library(db: Database, path_zip: Path | str) -> int:
    """Write the clinic's exercises (newest versions) and their pictures to a zip (0600);
    returns how many exercises it holds."""
    exercises = clinic_exercises(db)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        doc = {
            "format": ZIP_FORMAT,
            "version": ZIP_VERSION,
            "exercises": [ex.plain() for ex in exercises],
        }
        zf.writestr("library.json", json.dumps(doc, ensure_ascii=False, indent=1))
        written: set[str] = set()
        for ex in exercises:
            for p in ex.pictures:
                if p.sha256 not in written:
                    written.add(p.sha256)
                    zf.writestr(f"pictures/{p.sha256}.{_EXTENSIONS[p.media_type]}", p.data)
    private.write_bytes(Path(path_zip), buffer.getvalue())
    log.info("exercise library exported: %d exercises, %d pictures", len(exercises), len(written))
    return len(exercises)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """At most ``limit`` bytes of a member, whatever its header claims (a zip bomb's header
    lies about the size)."""
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise StorageError(f"library zip: {info.filename[:80]} unpacks to more than {limit} bytes")
    return data


def _unpack(data: bytes) -> tuple[dict[str, Any], dict[str, Picture]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise StorageError("library zip: the file is not a zip archive") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise StorageError(f"library zip: {len(infos)} files; the limit is {MAX_ZIP_MEMBERS}")
        names = [i.filename for i in infos]
        bad = next(
            (
                n
                for n in names
                if n != "library.json" and not _MEMBER.match(n) and not n.endswith("/")
            ),
            None,
        )
        if bad is not None:
            raise StorageError(
                f"library zip: {bad[:80]!r} is not library.json or pictures/<sha256>.<ext>; refused"
            )
        if len(set(names)) != len(names):
            raise StorageError("library zip: a file name appears twice")
        if "library.json" not in names:
            raise StorageError("library zip: no library.json in the archive")
        total = 0
        doc_bytes = b""
        pictures: dict[str, Picture] = {}
        try:
            for info in infos:
                if info.filename.endswith("/"):
                    continue
                if info.flag_bits & 0x1:
                    raise StorageError(f"library zip: {info.filename[:80]} is encrypted")
                limit = MAX_JSON_BYTES if info.filename == "library.json" else MAX_PICTURE_BYTES
                body = _read_member(zf, info, limit)
                total += len(body)
                if total > MAX_UNPACKED_BYTES:
                    raise StorageError("library zip: unpacks to more than 256 MB; refused")
                if info.filename == "library.json":
                    doc_bytes = body
                    continue
                match = _MEMBER.match(info.filename)
                assert match is not None
                try:
                    picture = checked_picture(body)
                except StorageError as err:
                    raise StorageError(f"library zip: {info.filename[:80]}: {err}") from None
                if picture.sha256 != match.group(1):
                    raise StorageError(
                        f"library zip: {info.filename[:80]}: its content does not match its name"
                    )
                pictures[picture.sha256] = picture
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            OSError,
            EOFError,
            RuntimeError,
            NotImplementedError,  # a compression method zipfile does not know
            zlib.error,
        ) as exc:
            raise StorageError(f"library zip: damaged ({exc.__class__.__name__})") from None
    try:
        doc = json.loads(doc_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise StorageError(f"library zip: library.json is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != ZIP_FORMAT:
        raise StorageError(f"library zip: library.json is not a {ZIP_FORMAT} file")
    if doc.get("version") != ZIP_VERSION:
        raise StorageError(
            f"library zip: format version {str(doc.get('version'))[:10]} is not {ZIP_VERSION}"
        )
    return doc, pictures


def import_library(db: Database, path_zip: Path | str, *, user: str) -> ImportResult:
    """Import another clinic's exercises from a zip, in one transaction (all or nothing).

    Refused with one line, nothing stored: a file that is not a regular file or is over 64 MB,
    not a zip, a member outside ``library.json`` and ``pictures/<sha256>.<ext>`` (path
    traversal included), a member that unpacks beyond its limit (zip bomb), a bad picture, bad
    JSON or a bad exercise (named with its field), an id of a shipped exercise. An exercise the
    clinic has already gets a new version when it differs.
    """
    user = require_user(user)
    data = read_limited(path_zip, MAX_ZIP_BYTES, "library zip")
    doc, pictures = _unpack(data)
    raw = doc.get("exercises")
    if not isinstance(raw, list) or len(raw) > MAX_EXERCISES:
        raise StorageError(f"library zip: 'exercises' must be a list of at most {MAX_EXERCISES}")
    parsed: list[ExerciseDef] = []
    shipped = shipped_library()
    for n, item in enumerate(raw, 1):
        try:
            ex = parse_exercise(item, pictures, "clinic", 1, f"library zip exercise {n}")
        except LibraryError as err:
            raise StorageError(err.problems[0]) from None
        if ex.id in shipped:
            raise StorageError(
                f"library zip exercise {n} ({ex.id}): a shipped exercise has this id"
            )
        if any(p.id == ex.id for p in parsed):
            raise StorageError(f"library zip exercise {n} ({ex.id}): listed twice")
        parsed.append(ex)
    added: list[str] = []
    updated: list[str] = []
    same: list[str] = []
    with db.writing() as s:
        new_pictures = sum(
            _store_picture(s, p, user)
            for p in {q.sha256: q for ex in parsed for q in ex.pictures}.values()
        )
        for ex in parsed:
            latest = _latest_version(s, ex.id)
            if not latest:
                _insert(s, ex, 1, user)
                added.append(ex.id)
                continue
            row = s.scalar(
                select(m.LibraryExercise).where(
                    m.LibraryExercise.exercise_id == ex.id, m.LibraryExercise.version == latest
                )
            )
            if row is not None and row.definition == ex.plain():
                same.append(ex.id)
            else:
                _insert(s, ex, latest + 1, user)
                updated.append(ex.id)
    log.info("exercise library imported: %d added, %d updated", len(added), len(updated))
    return ImportResult(tuple(added), tuple(updated), tuple(same), new_pictures)


def valid_exercise_id(text: str) -> bool:
    return bool(EXERCISE_ID.match(text))
