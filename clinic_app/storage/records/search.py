"""Patient lists and search: the reads that run on every scroll and keystroke."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql import column, table
from sqlalchemy.sql import text as sql_text

from clinic_app.storage import models as m
from clinic_app.storage import search as search_mod
from clinic_app.storage.errors import StorageError
from clinic_app.storage.values import Patient, PatientSort

if TYPE_CHECKING:
    from sqlalchemy import Select, Table, TextClause
    from sqlalchemy.engine import Connection

    from clinic_app.storage.database import Database


# Lists and search run on every scroll and keystroke: they read with SQLAlchemy Core on a plain
# connection and build Patient values straight from rows. A Session loading ORM entities cost a
# 100-patient search at 100,000 patients ~2 ms more than this, around four times the SQL (issue 6).
_PATIENT = cast("Table", m.Patient.__table__)
# The columns in the order of Patient's fields, so that ``Patient(*row)`` builds one.
_PATIENT_ROW = tuple(_PATIENT.c[f.name] for f in dataclass_fields(Patient))


def _patients(conn: Connection, stmt: Select[Any]) -> list[Patient]:
    return [Patient(*row) for row in conn.execute(stmt).all()]


def count_patients(db: Database, *, include_archived: bool = False) -> int:
    query = select(func.count()).select_from(_PATIENT)
    if not include_archived:
        query = query.where(_PATIENT.c.archived.is_(False))
    with db.connection() as conn:
        return int(conn.scalar(query) or 0)


_SORTS: dict[str, tuple[Any, ...]] = {
    "name": (_PATIENT.c.search_name, _PATIENT.c.id),
    "mrn": (_PATIENT.c.mrn, _PATIENT.c.id),
    "date_of_birth": (_PATIENT.c.date_of_birth, _PATIENT.c.search_name, _PATIENT.c.id),
    "created": (_PATIENT.c.id,),
    "updated": (_PATIENT.c.updated_at, _PATIENT.c.id),
}


def list_patients(
    db: Database,
    *,
    offset: int = 0,
    limit: int = 200,
    sort: PatientSort = "name",
    descending: bool = False,
    include_archived: bool = False,
) -> list[Patient]:
    """One page of patients, for a lazily filled list model (``count_patients`` gives the size).

    ``name`` sorts by family then given name, ignoring case and accents.
    """
    if sort not in _SORTS:
        raise StorageError(f"cannot sort patients by {sort!r}")
    # Patients without a date of birth come last either way, on both backends.
    columns = [(c.desc() if descending else c.asc()).nulls_last() for c in _SORTS[sort]]
    query = select(*_PATIENT_ROW).order_by(*columns).offset(max(offset, 0)).limit(max(limit, 0))
    if not include_archived:
        query = query.where(_PATIENT.c.archived.is_(False))
    with db.connection() as conn:
        return _patients(conn, query)


_FTS = table("patient_fts", column("rowid"))


def _fts_match() -> TextClause:
    return sql_text("patient_fts MATCH :match")


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Past this many FTS matches a search is not ranked: bm25 scores and sorts every match before the
# LIMIT, 0.1-0.3 s for a one-letter or MRN prefix among 100,000 patients (benchmarks/, docs/perf).
RANK_CAP = 2000
# How many FTS matches there are, up to RANK_CAP + 1: one row back, not the matches themselves.
_COUNT_UP_TO = sql_text(
    "SELECT count(*) FROM (SELECT 1 FROM patient_fts WHERE patient_fts MATCH :match LIMIT :n)"
)


def _too_many_to_rank(conn: Connection, match: str, dialect: str) -> bool:
    """Whether more than RANK_CAP patients match the FTS expression ``match`` (SQLite only)."""
    if dialect != "sqlite":
        return False
    return int(conn.scalar(_COUNT_UP_TO, {"match": match, "n": RANK_CAP + 1}) or 0) > RANK_CAP


def search_patients(
    db: Database, text_query: str, *, limit: int = 50, include_archived: bool = False
) -> list[Patient]:
    """Patients matching every word (name or MRN prefix, any case, any accents) and date.

    A word that reads as a date (``1984-03-07``, ``07.03.1984``, ``07/03/1984``) matches the date
    of birth. Best matches first: an exact MRN, then (SQLite) FTS5 rank, then name order. When more
    than ``RANK_CAP`` patients match (a first letter, a shared MRN prefix) ranking says little and
    costs much: the newest ``limit`` matches are returned instead, in name order.
    """
    query = search_mod.parse_query(text_query)
    if query.empty or limit <= 0:
        return []
    p = _PATIENT.c
    typed = text_query.strip()
    mrn_exact = func.lower(p.mrn) == typed.lower()
    stmt = select(*_PATIENT_ROW)
    if not include_archived:
        stmt = stmt.where(p.archived.is_(False))
    if query.dates:
        stmt = stmt.where(p.date_of_birth.in_(query.dates))
    order: list[Any] = [case((mrn_exact, 0), else_=1)]
    match = search_mod.fts_match(query.words)
    with db.connection() as conn:
        if query.words and not query.dates and _too_many_to_rank(conn, match, db.dialect):
            # An exact MRN through the unique index, then the newest 2 x limit matches (archived
            # ones among them are dropped by the filter above).
            newest = (
                select(_FTS.c.rowid)
                .where(_fts_match())
                .order_by(_FTS.c.rowid.desc())
                .limit(2 * limit)
                .scalar_subquery()
            )
            stmt = stmt.where(or_(p.mrn == typed, p.mrn == typed.upper(), p.id.in_(newest)))
        elif query.words and db.dialect == "sqlite":
            stmt = stmt.join(_FTS, _FTS.c.rowid == p.id).where(_fts_match())
            order.append(sql_text("bm25(patient_fts, 1.0, 2.0, 4.0, 1.0)"))
        elif query.words:
            words = [_like_escape(w) for w in query.words]
            per_word = [  # a word starting the name or any later part of it, or the MRN
                or_(
                    p.search_name.like(f"{w}%", escape="\\"),
                    p.search_name.like(f"% {w}%", escape="\\"),
                    func.lower(p.mrn).like(f"{w}%", escape="\\"),
                )
                for w in words
            ]
            whole_mrn = func.lower(p.mrn).like(_like_escape(typed.lower()) + "%", escape="\\")
            stmt = stmt.where(or_(and_(*per_word), whole_mrn))
            order.append(case((p.search_name.like(f"{words[0]}%", escape="\\"), 0), else_=1))
        order.extend([p.search_name, p.id])
        stmt = stmt.order_by(*order).limit(limit)
        if query.words and db.dialect == "sqlite":
            stmt = stmt.params(match=match)
        return _patients(conn, stmt)
