"""Exchanging exercise libraries as zips: export then import into another clinic, and every
hostile zip refused with one line and nothing half-imported (path traversal, a zip bomb, bad
JSON, a bad exercise, a picture that is not what its name says, special files)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import StorageError
from tests.storage.test_programs import counts, png, wall_sit


def exported(db: Database, tmp_path: Path) -> Path:
    pic = r.add_picture(db, png(), user="dana")
    r.add_exercise(db, wall_sit(pic.sha256), user="dana")
    r.add_exercise(db, {**wall_sit(), "id": "clinic:step_down", "title": "Step down"}, user="dana")
    path = tmp_path / "library.zip"
    assert r.export_library(db, path) == 2
    assert (path.stat().st_mode & 0o777) == 0o600
    return path


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def doc(*exercises: dict[str, Any]) -> bytes:
    return json.dumps(
        {"format": "clinic_app-exercises", "version": 1, "exercises": list(exercises)}
    ).encode()


def test_export_then_import_into_another_clinic(db: Database, tmp_path: Path) -> None:
    path = exported(db, tmp_path)
    other = open_database(f"sqlite:///{tmp_path / 'other.db'}", backup=False)
    try:
        result = r.import_library(other, path, user="eve")
        assert result.added == ("clinic:wall_sit", "clinic:step_down")
        assert result.pictures == 1
        lib = r.load_library(other)
        assert lib["clinic:wall_sit"].pictures[0].data == png()
        assert lib["clinic:wall_sit"].plain() == r.load_library(db)["clinic:wall_sit"].plain()
        again = r.import_library(other, path, user="eve")
        assert again.unchanged == ("clinic:wall_sit", "clinic:step_down")
        assert again.added == ()
        assert counts(other)["library_exercise"] == 2
    finally:
        other.close()
    # the origin clinic edits one exercise; importing it again gives a new version, not a change
    r.update_exercise(
        db,
        {**wall_sit(), "id": "clinic:step_down", "title": "Step down slowly"},
        user="dana",
        expected_version=1,
    )
    r.export_library(db, path)
    other = open_database(f"sqlite:///{tmp_path / 'other.db'}", backup=False)
    try:
        result = r.import_library(other, path, user="eve")
        assert result.updated == ("clinic:step_down",)
        assert [e.version for e in r.exercise_history(other, "clinic:step_down")] == [1, 2]
    finally:
        other.close()


def bomb() -> dict[str, bytes]:
    data = png()
    sha = __import__("hashlib").sha256(data).hexdigest()
    return {"library.json": doc(), f"pictures/{sha}.png": b"\0" * (50 * 1024 * 1024)}


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ({"library.json": doc(), "../evil.json": b"{}"}, "'../evil.json' is not library.json"),
        ({"library.json": doc(), "/etc/cron.d/x": b"x"}, "'/etc/cron.d/x'"),
        ({"library.json": doc(), "pictures/../../x.png": b"x"}, "pictures/../../x.png"),
        ({"library.json": doc(), "pictures\\..\\x.png": b"x"}, "is not library.json"),
        ({"notes.txt": b"hello"}, "'notes.txt'"),
        ({"pictures/" + "a" * 64 + ".png": png()}, "no library.json"),
        ({"library.json": b"{not json"}, "library.json is not valid JSON"),
        ({"library.json": b"[" * 100_000 + b"]" * 100_000}, "not valid JSON"),
        ({"library.json": json.dumps({"format": "other"}).encode()}, "not a clinic_app-exercises"),
        ({"library.json": doc({"id": "clinic:x", "title": "", "steps": ["a"]})}, "clinic:x title"),
        ({"library.json": doc({**wall_sit(), "id": "nordic_curl"})}, "(nordic_curl): a shipped"),
        ({"library.json": doc(wall_sit(), wall_sit())}, "listed twice"),
        ({"library.json": doc(wall_sit("cd" * 32))}, "picture 1: 'cdcdcdcdcdcdcdcd'"),
        (
            {"library.json": doc(), "pictures/" + "a" * 64 + ".png": png()},
            "does not match its name",
        ),
        (
            {
                "library.json": doc(),
                "pictures/"
                + "b" * 64
                + ".svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>',
            },
            "event handler",
        ),
        (bomb(), "unpacks to more than"),
    ],
)
def test_a_bad_zip_is_refused_and_nothing_is_imported(
    db: Database, tmp_path: Path, members: dict[str, bytes], words: str
) -> None:
    # one good exercise beside the bad part: it must not be stored either
    good = wall_sit()
    if "library.json" in members and members["library.json"] == doc():
        members = {**members, "library.json": doc({**good, "id": "clinic:good"})}
    before = counts(db)
    path = make_zip(tmp_path / "bad.zip", members)
    with pytest.raises(StorageError) as err:
        r.import_library(db, path, user="dana")
    assert words in str(err.value)
    assert "\n" not in str(err.value)
    assert counts(db) == before
    assert "clinic:good" not in r.load_library(db)


def test_a_bad_exercise_after_good_ones_imports_nothing(db: Database, tmp_path: Path) -> None:
    data = png("red")
    sha = __import__("hashlib").sha256(data).hexdigest()
    exercises = [{**wall_sit(sha), "id": f"clinic:ok{n}"} for n in range(5)]
    exercises.append({**wall_sit(), "id": "clinic:bad", "defaults": {"reps": 10_000}})
    path = make_zip(
        tmp_path / "half.zip", {"library.json": doc(*exercises), f"pictures/{sha}.png": data}
    )
    with pytest.raises(StorageError, match=r"clinic:bad defaults reps"):
        r.import_library(db, path, user="dana")
    assert counts(db) == {"library_exercise": 0, "library_picture": 0, "program_template": 0}


def test_an_unknown_compression_method_is_one_line(db: Database, tmp_path: Path) -> None:
    path = make_zip(tmp_path / "d64.zip", {"library.json": doc(wall_sit())})
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
    # the method field of the local header (offset 8) and of the central directory entry
    raw[info.header_offset + 8 : info.header_offset + 10] = (9).to_bytes(2, "little")
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 10 : central + 12] = (9).to_bytes(2, "little")  # 9: Deflate64
    path.write_bytes(bytes(raw))
    with pytest.raises(StorageError, match="library zip: damaged"):
        r.import_library(db, path, user="dana")
    assert counts(db)["library_exercise"] == 0


@pytest.mark.parametrize("kind", ["not a zip", "dev zero", "fifo", "folder", "symlink to fifo"])
def test_files_that_are_not_zips_are_refused(db: Database, tmp_path: Path, kind: str) -> None:
    if kind == "not a zip":
        path = tmp_path / "x.zip"
        path.write_bytes(b"PK\x03\x04 but nothing more")
        words = "not a zip archive"
    elif kind == "dev zero":
        path, words = Path("/dev/zero"), "character device"
    elif kind == "folder":
        path, words = tmp_path, "folder"
    else:
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        path, words = fifo, "FIFO"
        if kind == "symlink to fifo":
            path = tmp_path / "link.zip"
            path.symlink_to(fifo)
    with pytest.raises(StorageError, match=words):
        r.import_library(db, path, user="dana")


def test_a_jpeg_picture_survives_the_round_trip(db: Database, tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(out, "JPEG")
    pic = r.add_picture(db, out.getvalue(), "image/jpeg", user="dana")
    r.add_exercise(db, {**wall_sit(pic.sha256)}, user="dana")
    path = tmp_path / "j.zip"
    r.export_library(db, path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["library.json", f"pictures/{pic.sha256}.jpg"]
