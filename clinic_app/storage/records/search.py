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


def _born(period: search_mod.Period) -> Any:
    p = _PATIENT.c
    return and_(p.date_of_birth >= period.start, p.date_of_birth < period.end)


def _mrn_range(prefix: str) -> tuple[Any, ...]:
    """MRNs starting with the digits ``prefix``. Digits compare alike in every collation:
    [1991, 1992) is an index range; LIKE keeps it exact where a linguistic collation
    (PostgreSQL) would let "19-91x" into the range."""
    p = _PATIENT.c
    after = str(int(prefix) + 1).zfill(len(prefix))
    return (p.mrn >= prefix, p.mrn < after, p.mrn.like(f"{prefix}%"))


def _born_in(period: search_mod.Period) -> Any:
    """Born in the period; for a bare year also an MRN starting with it. Both are index ranges
    (date of birth, MRN): no scan of the patient table on either backend."""
    prefix = period.mrn_prefix
    if not prefix.isdigit():
        return _born(period)
    return or_(_born(period), and_(*_mrn_range(prefix)))


def search_patients(
    db: Database, text_query: str, *, limit: int = 50, include_archived: bool = False
) -> list[Patient]:
    """Patients matching every word (name or MRN prefix, any case, any accents) and date.

    A word that reads as a date (``1984-03-07``, ``07.03.1984``, ``07/03/1984``) matches the date
    of birth; a year (``1991``) or a month (``1991-04``, ``04.1991``) matches a date of birth in
    it (a bare year also an MRN starting with it). Best matches first: an exact MRN, then
    (SQLite) FTS5 rank, then name order. When more than ``RANK_CAP`` patients match (a first
    letter, a shared MRN prefix) ranking says little and costs much: the newest ``limit``
    matches are returned instead, in name order.
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
    for period in query.periods:
        stmt = stmt.where(_born_in(period))
    order: list[Any] = [case((mrn_exact, 0), else_=1)]
    match = search_mod.fts_match(query.words)
    narrowed = bool(query.dates or query.periods)
    with db.connection() as conn:
        if query.periods and not query.words:
            base = select(*_PATIENT_ROW)
            if not include_archived:
                base = base.where(p.archived.is_(False))
            if query.dates:
                base = base.where(p.date_of_birth.in_(query.dates))
            if len(query.periods) != 1 or not query.periods[0].mrn_prefix or query.dates:
                base = base.where(*[_born_in(period) for period in query.periods])
            return list(_by_birth(conn, base, query, limit))
        if narrowed and query.words and db.dialect == "sqlite":
            stmt = _narrowed_words(conn, stmt, query, match)
            match = ""  # the words are matched: no FTS join below
        if query.words and not narrowed and _too_many_to_rank(conn, match, db.dialect):
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
        elif query.words and db.dialect == "sqlite" and match:
            stmt = stmt.join(_FTS, _FTS.c.rowid == p.id).where(_fts_match())
            order.append(sql_text("bm25(patient_fts, 1.0, 2.0, 4.0, 1.0)"))
        elif query.words and match:
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
        if query.words and db.dialect == "sqlite" and match:
            stmt = stmt.params(match=match)
        return _patients(conn, stmt)


def _by_birth(conn: Connection, stmt: Select[Any], query: search_mod.Query, limit: int) -> Any:
    """A year or a month alone: oldest first, read along the date-of-birth index and stopped
    after ``limit`` rows (ordering ~1,900 patients of a year by name cost ~15 ms at 100,000
    patients; this well under 1 ms). A bare year's MRN matches come first (the MRN index)."""
    p = _PATIENT.c
    prefix = query.periods[0].mrn_prefix if len(query.periods) == 1 else ""
    first: list[Patient] = []
    if prefix and not query.dates:
        by_mrn = stmt.where(*_mrn_range(prefix)).order_by(p.mrn, p.id).limit(limit)
        first = _patients(conn, by_mrn)
        born = [_born(period) for period in query.periods]
        stmt = stmt.where(*born)
    seen = {patient.id for patient in first}
    rest = stmt.order_by(p.date_of_birth, p.search_name, p.id).limit(limit + len(first))
    return (first + [x for x in _patients(conn, rest) if x.id not in seen])[:limit]


def _narrowed_words(
    conn: Connection, stmt: Select[Any], query: search_mod.Query, match: str
) -> Select[Any]:
    """Words with a date or period of birth (SQLite): the patients born then (a covering index
    read) intersected with the FTS matches (rowids only), not a join that reads every patient
    the words match (4,000 "müller" rows, ~20 ms at 100,000 patients; this ~2 ms)."""
    p = _PATIENT.c
    born = select(p.id)
    if query.dates:
        born = born.where(p.date_of_birth.in_(query.dates))
    for period in query.periods:
        born = born.where(_born_in(period))
    born_ids = set(conn.scalars(born).all())  # all(): one fetchall, not a fetchone per row
    words = conn.scalars(select(_FTS.c.rowid).where(_fts_match()), {"match": match}).all()
    return stmt.where(p.id.in_(born_ids.intersection(words)))
