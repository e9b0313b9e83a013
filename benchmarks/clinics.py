"""Synthetic clinics for the benchmarks: N patients x 3 evaluations in a SQLite file, cached.

The files live in ``benchmarks/.cache/`` and are named by size, schema revision and generator, so a
new migration or a new generator makes new files and an old file is never benchmarked by mistake.

Two generators:

- ``clinic_app.storage.synthetic`` (the storage team's bulk generator) when it is installed and
  offers a ``generate``/``build`` style function (see :func:`_storage_generator`);
- otherwise our own: the schema is made by ``open_database`` (Alembic, so it is exactly the app's),
  one clinician, patient, form snapshot and evaluation go through the records API, and everything
  else is bulk-inserted with ``sqlite3.executemany`` in the formats the API just wrote (the FTS5
  triggers stay on, so search sees every row as the app would). Content hashes are computed with
  ``records.content_hash``, so ``verify_evaluation`` holds for every generated row.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import random
import shutil
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
EVALUATIONS_PER_PATIENT = 3
FALLBACK_VERSION = "b1"  # bump when the fallback generator changes what it writes
USER = "benchmark"

FAMILY = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernández",
    "López",
    "González",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Pérez",
    "Thompson",
    "White",
    "Harris",
    "Sánchez",
    "Clark",
    "Ramírez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Łukasiewicz",
    "Núñez",
    "Peña",
    "Ibáñez",
    "Ørsted",
    "Sørensen",
    "Åberg",
    "Ødegaard",
    "Jensen",
    "Nielsen",
    "Hansen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Kristiansen",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Girard",
    "Bonnet",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muñoz",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "DeLuca",
    "Costa",
    "Giordano",
    "Mancini",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "O'Brien",
    "O'Connor",
    "Murphy",
    "Kelly",
    "Walsh",
    "Byrne",
    "Ryan",
    "Doyle",
    "Ó_Súilleabháin",
    "Papadopoulos",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Öztürk",
    "Novák",
    "Svoboda",
    "Dvořák",
    "Černý",
    "Procházka",
    "Kučera",
    "Horváth",
    "Nagy",
    "Tóth",
    "Szabó",
    "Kovács",
    "Varga",
)
GIVEN = (
    "Anna",
    "Maria",
    "Emma",
    "Sophie",
    "Hannah",
    "Lena",
    "Laura",
    "Julia",
    "Lea",
    "Sarah",
    "Mia",
    "Lina",
    "Clara",
    "Léa",
    "Chloé",
    "Inès",
    "Zoë",
    "Noémie",
    "Agnieszka",
    "Małgorzata",
    "Katarzyna",
    "Łucja",
    "Zofia",
    "Ewa",
    "Ingrid",
    "Åsa",
    "Siobhán",
    "Aoife",
    "Sinéad",
    "Olivia",
    "Ava",
    "Isabella",
    "Emily",
    "Charlotte",
    "Amelia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Ella",
    "Grace",
    "Lily",
    "Chloe",
    "Jonas",
    "Leon",
    "Lukas",
    "Finn",
    "Paul",
    "Ben",
    "Elias",
    "Noah",
    "Felix",
    "Max",
    "Jürgen",
    "Björn",
    "Søren",
    "Łukasz",
    "Paweł",
    "Krzysztof",
    "Tomasz",
    "Michał",
    "Piotr",
    "José",
    "Jesús",
    "Iñigo",
    "Andrés",
    "Ramón",
    "François",
    "Jérôme",
    "Hervé",
    "Noël",
    "Liam",
    "Oliver",
    "Elijah",
    "James",
    "William",
    "Henry",
    "Lucas",
    "Benjamin",
    "Theodore",
    "Jack",
    "Daniel",
    "Michael",
    "Ahmet",
    "Mehmet",
    "Çağrı",
    "Gökhan",
    "Jiří",
    "Tomáš",
    "Zoltán",
    "Gábor",
    "Ciarán",
    "Seán",
    "Pádraig",
    "Niamh",
    "Oisín",
)
ACTIVITIES = (
    "running",
    "football",
    "sprinting",
    "office work",
    "cycling",
    "dance",
    "rugby",
    "tennis",
    "hiking",
    "",
)


def schema_revision() -> str:
    from clinic_app.storage import migrate

    return migrate.HEAD


def _storage_generator() -> tuple[Any, str] | None:
    """The storage team's generator function and a label, if it exists and we can call it."""
    try:
        from clinic_app.storage import synthetic
    except ImportError:
        return None
    for name in ("generate_clinic", "generate", "build_clinic", "build", "populate", "make_clinic"):
        fn = getattr(synthetic, name, None)
        if callable(fn):
            # Keyed by the generator's source: a changed generator makes new files.
            source = Path(inspect.getfile(synthetic)).read_bytes()
            return fn, f"synthetic-{hashlib.sha1(source).hexdigest()[:8]}"
    return None


def generator_label() -> str:
    if os.environ.get("CLINIC_BENCH_GENERATOR") == "fallback":
        return f"fallback-{FALLBACK_VERSION}"
    found = _storage_generator()
    return found[1] if found else f"fallback-{FALLBACK_VERSION}"


def clinic_path(patients: int) -> Path:
    """Where the cached clinic of ``patients`` patients is (built or not)."""
    label = generator_label()
    return CACHE / f"clinic-{patients}-rev{schema_revision()}-{label}.db"


def ensure_clinic(patients: int, log: Any = print) -> tuple[Path, float | None]:
    """The cached clinic file, building it first if needed; (path, seconds spent building)."""
    path = clinic_path(patients)
    if path.exists():
        return path, None
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    for p in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
        p.unlink(missing_ok=True)
    log(f"  building {path.name} ({patients:,} patients x {EVALUATIONS_PER_PATIENT} evaluations)")
    started = time.perf_counter()
    found = None if os.environ.get("CLINIC_BENCH_GENERATOR") == "fallback" else _storage_generator()
    # A cached clinic is a plain SQLite file whatever the caller's environment says: every
    # benchmark (and an older tree's harness) reads it with sqlite3, and an encrypted clinic's
    # own cost is timed by benchmarks/encrypted_start.py.
    before = os.environ.get("CLINIC_APP_ENCRYPTION")
    os.environ["CLINIC_APP_ENCRYPTION"] = "off"
    try:
        if found is not None:
            _build_with_storage(found[0], tmp, patients)
        else:
            _build_fallback(tmp, patients)
    finally:
        if before is None:
            os.environ.pop("CLINIC_APP_ENCRYPTION", None)
        else:
            os.environ["CLINIC_APP_ENCRYPTION"] = before
    _checkpoint(tmp)
    tmp.replace(path)
    return path, time.perf_counter() - started


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the file so the cached clinic is one self-contained file."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _build_with_storage(fn: Any, path: Path, patients: int) -> None:
    """Call the storage team's generator with whatever keyword names it uses."""
    from clinic_app.storage.database import open_database

    params = inspect.signature(fn).parameters
    kwargs: dict[str, Any] = {}
    for name in ("patients", "n_patients", "patient_count", "n"):
        if name in params:
            kwargs[name] = patients
            break
    for name in ("evaluations", "evaluations_per_patient", "m", "n_evaluations"):
        if name in params:
            kwargs[name] = EVALUATIONS_PER_PATIENT
            break
    for name in ("seed",):
        if name in params:
            kwargs[name] = 1
    first = next(iter(params))
    if first in ("db", "database"):
        with open_database(f"sqlite:///{path}", backup=False) as db:
            fn(db, **kwargs)
    else:
        target = str(path) if first in ("path", "target", "file") else f"sqlite:///{path}"
        fn(target, **kwargs)
    _ensure_people(path)


def _ensure_people(path: Path) -> None:
    """A clinic and exactly one clinician, so the app starts without its first-run dialog."""
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database

    with open_database(f"sqlite:///{path}", backup=False) as db:
        if records.get_clinic(db) is None:
            records.save_clinic(db, records.ClinicInfo(name="Benchmark Physio"), user=USER)
        if not records.list_clinicians(db):
            records.save_clinician(
                db, records.ClinicianInfo(name="Alex Example", credentials="PT, DPT"), user=USER
            )


# --------------------------------------------------------------------------------------------
# Fallback bulk generator


def findings_templates() -> list[dict[str, Any]]:
    """Validated findings of every vignette and example (varied, realistic evaluations)."""
    from clinic_app.core import findings as findings_mod
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path

    form = load_form(default_form_path())
    files = sorted((ROOT / "tests" / "core" / "vignettes").glob("*.json"))
    files += sorted((ROOT / "examples").glob("*.json"))
    out = []
    for f in files:
        try:
            out.append(findings_mod.load(form, f).to_dict())
        except findings_mod.FindingsError:
            continue
    return [t for t in out if t["values"]] or out


def _dt(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _build_fallback(path: Path, patients: int) -> None:
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database

    form = load_form(default_form_path())
    url = f"sqlite:///{path}"
    with open_database(url, backup=False) as db:
        records.save_clinic(db, records.ClinicInfo(name="Benchmark Physio"), user=USER)
        clinician = records.save_clinician(
            db, records.ClinicianInfo(name="Alex Example", credentials="PT, DPT"), user=USER
        )
        seed = records.create_patient(
            db, records.PatientFields("Seed", "Patient", "SEED-0"), user=USER
        )
        first = records.start_evaluation(db, seed.id, form, user=USER, clinician_id=clinician.id)
        snapshot_id = first.form_snapshot_id
        clinician_id = clinician.id

    templates = findings_templates()
    rng = random.Random(20261121)
    now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    from clinic_app.storage.search import search_name

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    try:
        with conn:
            # The seed rows only gave us the formats; audit events are permanent (triggers).
            conn.execute("DELETE FROM evaluation")
            conn.execute("DELETE FROM patient")
            patient_rows = []
            for pid in range(1, patients + 1):
                family = rng.choice(FAMILY).replace("_", " ")
                given = rng.choice(GIVEN)
                born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 70))
                created = now - timedelta(days=rng.randrange(0, 3650), minutes=pid % 1440)
                patient_rows.append(
                    (
                        pid,
                        given,
                        family,
                        born.isoformat(),
                        rng.choice(("female", "male", "female", "male", "other", "unknown")),
                        f"M{pid:07d}",
                        f"+49 30 {rng.randrange(1000000, 9999999)}",
                        f"{given.lower()}.{pid}@example.org",
                        rng.choice(ACTIVITIES),
                        "",
                        0,
                        search_name(given, family),
                        _dt(created),
                        USER,
                        _dt(created),
                    )
                )
            conn.executemany(
                "INSERT INTO patient (id, given_name, family_name, date_of_birth, sex, mrn, phone,"
                " email, activity, referring_provider, archived, search_name, created_at,"
                " updated_by, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                patient_rows,
            )
            del patient_rows
            _insert_evaluations(conn, patients, templates, snapshot_id, clinician_id, rng, now)
    finally:
        conn.close()


def _insert_evaluations(
    conn: sqlite3.Connection,
    patients: int,
    templates: list[dict[str, Any]],
    snapshot_id: int,
    clinician_id: int,
    rng: random.Random,
    now: datetime,
) -> None:
    from clinic_app.storage import records

    kinds = ("initial", "re_evaluation", "discharge")
    # JSON text as SQLAlchemy's JSON type writes it (json.dumps with default separators).
    template_json = [json.dumps(t) for t in templates]
    sides = [t["values"].get("involved_side") for t in templates]
    batch: list[tuple[Any, ...]] = []
    audit: list[tuple[Any, ...]] = []
    eid = 0
    for pid in range(1, patients + 1):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 600))
        for n in range(EVALUATIONS_PER_PATIENT):
            eid += 1
            t = rng.randrange(len(templates))
            kind = kinds[min(n, 2)]
            eval_date = start + timedelta(days=21 * n)
            last = n == EVALUATIONS_PER_PATIENT - 1
            status = "draft" if last else "signed"
            at = datetime.combine(eval_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
            signed_at = None if last else at + timedelta(hours=1)
            signed_by = None if last else USER
            carried = {"items": [], "from_evaluation": None}
            side = sides[t] if sides[t] in ("left", "right", "both") else None
            digest = records.content_hash(
                {
                    "patient_id": pid,
                    "clinician_id": clinician_id,
                    "kind": kind,
                    "eval_date": eval_date,
                    "form_id": templates[t]["form"],
                    "form_version": templates[t]["form_version"],
                    "form_snapshot_id": snapshot_id,
                    "involved_side": side,
                    "findings": templates[t],
                    "carried_forward": carried,
                    "status": status,
                    "signed_by": signed_by,
                    "signed_at": signed_at,
                }
            )
            batch.append(
                (
                    eid,
                    pid,
                    clinician_id,
                    kind,
                    eval_date.isoformat(),
                    snapshot_id,
                    templates[t]["form"],
                    templates[t]["form_version"],
                    side,
                    template_json[t],
                    json.dumps(carried),
                    status,
                    signed_by,
                    None if signed_at is None else _dt(signed_at),
                    digest,
                    2 if status == "signed" else 1,
                    USER,
                    _dt(at),
                    USER,
                    _dt(signed_at or at),
                )
            )
            audit.append((_dt(at), USER, "evaluation", eid, "create", None, digest))
        audit.append((_dt(now), USER, "patient", pid, "create", None, _fake_digest(pid)))
        if len(batch) >= 30000:
            _flush(conn, batch, audit)
    _flush(conn, batch, audit)


def _fake_digest(pid: int) -> str:
    return hashlib.sha256(str(pid).encode()).hexdigest()


def _flush(conn: sqlite3.Connection, batch: list[Any], audit: list[Any]) -> None:
    conn.executemany(
        "INSERT INTO evaluation (id, patient_id, clinician_id, kind, eval_date, form_snapshot_id,"
        " form_id, form_version, involved_side, findings, carried_forward, status, signed_by,"
        " signed_at, content_hash, version, created_by, created_at, updated_by, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        batch,
    )
    conn.executemany(
        "INSERT INTO audit_event (at, actor, entity, entity_id, action, before_digest,"
        " after_digest) VALUES (?,?,?,?,?,?,?)",
        audit,
    )
    batch.clear()
    audit.clear()


def working_copy(source: Path, dest: Path) -> Path:
    """A private copy of a cached clinic for a probe that writes (autosave), so the cache stays."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return dest


def draft_evaluation_ids(path: Path, count: int, seed: int = 7) -> list[int]:
    """``count`` draft evaluation ids spread over the clinic (read-only query)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        total = conn.execute("SELECT max(id) FROM evaluation").fetchone()[0] or 0
        rng = random.Random(seed)
        ids: list[int] = []
        tries = 0
        while len(ids) < count and tries < count * 50:
            tries += 1
            eid = rng.randrange(1, total + 1)
            row = conn.execute("SELECT status FROM evaluation WHERE id = ?", (eid,)).fetchone()
            if row and row[0] == "draft" and eid not in ids:
                ids.append(eid)
        return ids
    finally:
        conn.close()
