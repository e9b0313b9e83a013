"""The home program and the exercise library in the database, on SQLite and PostgreSQL.

A program round-trips as the ``home_program`` finding and is locked once signed (UPDATE, INSERT
OR REPLACE / ON CONFLICT, DELETE then INSERT: refused); the library's tables refuse every SQL
route that would change or remove a row; bad pictures store nothing; exercise edits are
versions; templates are kept by name.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace as changed_copy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from clinic_app.core.form import Form, load_form
from clinic_app.core.library import Picture, shipped_library
from clinic_app.core.program import parse_program, resolve, with_snapshots
from clinic_app.paths import default_form_path
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import StaleRecordError, StorageError
from tests.storage.test_pg_roles import _as_workstation, clinic  # noqa: F401  (fixture)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "program_isometrics.json"
LOCKED = "never changed"
TABLES = ("library_exercise", "library_picture", "program_template")


@pytest.fixture(scope="module")
def shipped() -> Form:
    return load_form(default_form_path())


def png(colour: str = "navy", size: tuple[int, int] = (16, 12)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def wall_sit(sha: str | None = None) -> dict[str, object]:
    pictures = [{"sha256": sha, "media_type": "image/png", "caption": "Hold here"}] if sha else []
    return {
        "id": "clinic:wall_sit",
        "title": "Wall sit",
        "purpose": "Builds thigh strength without moving the knee.",
        "steps": ["Lean your back on a wall.", "Slide down a little.", "Hold still."],
        "region": "Whole leg",
        "kind": "isometric",
        "tags": ["loading"],
        "defaults": {"sets": 4, "hold_seconds": 30, "frequency": "once a day"},
        "pictures": pictures,
    }


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            t: int(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()) for t in TABLES
        }


def test_a_program_round_trips_as_a_signed_sealed_finding(db: Database, shipped: Form) -> None:
    lib = shipped_library(shipped)
    program = with_snapshots(parse_program(json.loads(EXAMPLE.read_text())), lib)
    patient = r.create_patient(db, r.PatientFields("Ada", "Runner", mrn="P-1"), user="dana")
    ev = r.start_evaluation(db, patient.id, shipped, user="dana", copy_forward=False)
    values = {"involved_side": "left", "pain_now": 3, "home_program": program.plain()}
    saved = r.save_draft(db, ev.id, {"values": values}, ev.version, user="dana")
    assert counts(db)["library_picture"] == 0
    r.sign_evaluation(db, ev.id, saved.version, user="dana")
    # signing stored the five shipped drawings the snapshots name, once
    assert counts(db)["library_picture"] == 5
    assert r.keep_pictures(db, program, lib, user="dana") == 0
    stored = r.get_evaluation(db, ev.id)
    assert stored.status == "signed"
    back = parse_program(stored.findings["values"]["home_program"])
    assert back == program
    assert back.plain() == program.plain()
    hashes = [h for e in back.exercises if e.snapshot for h in e.snapshot.pictures]
    assert set(r.get_pictures(db, hashes)) == set(hashes)  # the handout needs no files
    # a later release redraws and rewords the bridge: the signed program still prints its own
    redrawn = Picture.of(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml")
    later = lib.merged([changed_copy(lib["glute_bridge"], title="Hip lift", pictures=(redrawn,))])
    shown = resolve(back.exercises[0], later, r.program_pictures(db, back))
    assert shown is not None
    assert shown.title == "Bridge"
    assert shown.pictures == lib["glute_bridge"].pictures
    assert r.verify_database(db) == []

    changed = json.dumps({"values": {**values, "home_program": {"exercises": []}}})
    for sql in (
        f"UPDATE evaluation SET findings = '{changed}' WHERE id = {ev.id}",
        f"DELETE FROM evaluation WHERE id = {ev.id}",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="signed"), db.engine.begin() as conn:
            conn.exec_driver_sql(sql)
    if db.dialect == "sqlite":
        replace = "INSERT OR REPLACE INTO evaluation SELECT * FROM t"
    else:
        replace = (
            "INSERT INTO evaluation SELECT * FROM t ON CONFLICT (id) DO UPDATE SET "
            "findings = EXCLUDED.findings, status = 'draft'"
        )
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE TEMP TABLE t AS SELECT * FROM evaluation WHERE id = {ev.id}")
        cast = "::jsonb" if db.dialect == "postgresql" else ""
        conn.exec_driver_sql(f"UPDATE t SET findings = '{changed}'{cast}")
        with pytest.raises(sa.exc.DBAPIError, match="signed"):
            conn.exec_driver_sql(replace)
        conn.rollback()
    # DELETE then INSERT in one transaction: the DELETE is refused, so no new row can follow
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE TEMP TABLE t2 AS SELECT * FROM evaluation WHERE id = {ev.id}")
        with pytest.raises(sa.exc.DBAPIError, match="signed"):
            conn.exec_driver_sql(f"DELETE FROM evaluation WHERE id = {ev.id}")
        conn.rollback()
    assert parse_program(r.get_evaluation(db, ev.id).findings["values"]["home_program"]) == program


def test_library_rows_refuse_every_sql_route(db: Database) -> None:
    pic = r.add_picture(db, png(), user="dana")
    r.add_exercise(db, wall_sit(pic.sha256), user="dana")
    r.save_template(db, "Stage 1", {"exercises": [{"exercise": "glute_bridge"}]}, user="dana")
    before = counts(db)
    assert before == {"library_exercise": 1, "library_picture": 1, "program_template": 1}
    pg = db.dialect == "postgresql"
    attacks = [
        "UPDATE library_exercise SET version = 9",
        "DELETE FROM library_exercise",
        "UPDATE library_picture SET media_type = 'image/jpeg'",
        "DELETE FROM library_picture",
        "UPDATE program_template SET name = 'x'",
        "DELETE FROM program_template",
    ]
    if pg:
        attacks += [f"TRUNCATE {t}" for t in TABLES]
        attacks += [
            "INSERT INTO library_picture SELECT * FROM library_picture "
            "ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data",
            "INSERT INTO library_exercise SELECT * FROM library_exercise "
            "ON CONFLICT (id) DO UPDATE SET definition = EXCLUDED.definition",
        ]
    else:
        attacks += [
            "INSERT OR REPLACE INTO library_picture SELECT * FROM library_picture",
            "REPLACE INTO library_exercise SELECT * FROM library_exercise",
            "INSERT OR REPLACE INTO program_template SELECT * FROM program_template",
            # a new id with the same hash or exercise version: REPLACE would delete the old row
            "INSERT OR REPLACE INTO library_picture (id, sha256, media_type, size, data, "
            "created_by, created_at) SELECT 99, sha256, media_type, 1, x'00', created_by, "
            "created_at FROM library_picture",
            "INSERT OR REPLACE INTO library_exercise (id, exercise_id, version, definition, "
            "created_by, created_at) SELECT 99, exercise_id, version, '{}', created_by, "
            "created_at FROM library_exercise",
            "INSERT INTO library_picture SELECT * FROM library_picture "
            "ON CONFLICT (id) DO UPDATE SET data = x'00'",
        ]
    for sql in attacks:
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
            conn.exec_driver_sql(sql)
    assert counts(db) == before
    assert r.get_pictures(db, [pic.sha256])[pic.sha256].data == png()
    assert r.load_library(db)["clinic:wall_sit"].version == 1


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"%PDF-1.4 not a picture", "not a PNG, JPEG or SVG"),
        (b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024), "3.0 MB"),
        (png()[:-20], "cut short"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>', "<script>"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://x/y.png"/></svg>', "http"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>', "onload"),
        (
            b'<!DOCTYPE svg [<!ENTITY a "a">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
            "DOCTYPE",
        ),
    ],
)
def test_a_bad_picture_stores_nothing(db: Database, data: bytes, words: str) -> None:
    with pytest.raises(StorageError) as err:
        r.add_picture(db, data, user="dana")
    assert words in str(err.value)
    assert str(err.value).startswith("picture refused: ")
    assert "\n" not in str(err.value)
    assert counts(db)["library_picture"] == 0


def test_exercise_edits_are_versions_and_the_library_merges_them(db: Database) -> None:
    pic = r.add_picture(db, png(), user="dana")
    assert r.add_picture(db, png(), user="eve") == pic  # the same bytes: the same picture
    first = r.add_exercise(db, wall_sit(pic.sha256), user="dana")
    assert (first.origin, first.version) == ("clinic", 1)
    edited = {**wall_sit(pic.sha256), "title": "Wall sit (hold)"}
    second = r.update_exercise(db, edited, user="dana", expected_version=1)
    assert second.version == 2
    with pytest.raises(StaleRecordError):
        r.update_exercise(db, edited, user="eve", expected_version=1)
    lib = r.load_library(db)
    assert len(lib) == 13
    assert lib["clinic:wall_sit"].title == "Wall sit (hold)"
    assert lib["clinic:wall_sit"].pictures[0].data == png()
    assert [e.title for e in r.exercise_history(db, "clinic:wall_sit")] == [
        "Wall sit",
        "Wall sit (hold)",
    ]
    with pytest.raises(StorageError, match="shipped exercise"):
        r.add_exercise(db, {**wall_sit(), "id": "glute_bridge"}, user="dana")
    with pytest.raises(StorageError, match="exists already"):
        r.add_exercise(db, wall_sit(), user="dana")
    with pytest.raises(StorageError, match="clinic:wall_sit picture 1"):
        r.add_exercise(db, {**wall_sit("ab" * 32), "id": "clinic:wall_sit"}, user="dana")
    with pytest.raises(StorageError, match=r"clinic:bad title"):
        r.add_exercise(db, {**wall_sit(), "id": "clinic:bad", "title": ""}, user="dana")
    assert counts(db)["library_exercise"] == 2


def test_templates_are_kept_by_name(db: Database) -> None:
    r.save_template(db, "Stage 1", {"exercises": [{"exercise": "glute_bridge"}]}, user="dana")
    r.save_template(
        db, "Stage 1", {"exercises": [{"exercise": "side_plank", "hold_seconds": 30}]}, user="dana"
    )
    r.save_template(db, "after surgery", {"exercises": [], "note": "Walk daily."}, user="dana")
    names = [t.name for t in r.list_templates(db)]
    assert names == ["after surgery", "Stage 1"]
    assert r.get_template(db, "Stage 1").program.exercises[0].exercise == "side_plank"
    with pytest.raises(StorageError, match="no saved program"):
        r.get_template(db, "nothing")
    with pytest.raises(StorageError, match=r"\(glute_bridge\) sets: 0"):
        r.save_template(db, "x", {"exercises": [{"exercise": "glute_bridge", "sets": 0}]}, user="d")
    with pytest.raises(StorageError, match="template name"):
        r.save_template(db, "  ", {"exercises": []}, user="dana")
    assert counts(db)["program_template"] == 3


@pytest.mark.postgres
def test_a_workstation_role_can_add_but_not_remove_library_rows(clinic: Any) -> None:  # noqa: F811
    """As the workstation role (INSERT only on the library's tables): the app's writes work,
    and DELETE, TRUNCATE, UPDATE are refused by the grants before any trigger."""
    db = open_database(clinic.workstation_url)
    try:
        pic = r.add_picture(db, png("red"), user="ws")
        r.add_exercise(db, wall_sit(pic.sha256), user="ws")
        r.update_exercise(db, wall_sit(pic.sha256), user="ws", expected_version=1)
        r.save_template(db, "Stage 1", {"exercises": [{"exercise": "dead_bug"}]}, user="ws")
        assert r.load_library(db)["clinic:wall_sit"].version == 2
    finally:
        db.close()
    for table in TABLES:
        for sql in (f"DELETE FROM {table}", f"TRUNCATE {table}", f"UPDATE {table} SET id = id"):
            assert "permission denied" in _as_workstation(clinic, sql)


def test_a_therapist_signature_keeps_the_drawings_too(
    db: Database, shipped: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher

    from clinic_app.storage import accounts
    from tests.storage.test_signing import PASSWORD, people

    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    team = people(db)
    lib = shipped_library(shipped)
    program = with_snapshots(parse_program({"exercises": [{"exercise": "dead_bug"}]}), lib)
    patient = r.create_patient(db, r.PatientFields("Tom", "Signed", mrn="P-2"), user="dana")
    ev = r.start_evaluation(
        db, patient.id, shipped, user="dana", copy_forward=False, clinician_id=team.admin.id
    )
    values = {"pain_now": 2, "home_program": program.plain()}
    saved = r.save_draft(db, ev.id, {"values": values}, ev.version, user="dana")
    r.sign_evaluation(db, ev.id, saved.version, signer_id=team.admin.id, password=PASSWORD)
    sha = lib["dead_bug"].pictures[0].sha256
    assert list(r.get_pictures(db, [sha])) == [sha]
    assert r.verify_database(db) == []
