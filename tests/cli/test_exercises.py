"""``clinic-app exercises list|export|import|add-picture``: the library in columns and as JSON,
the clinic's own exercises after the shipped ones, a zip carried to another clinic, a picture
added as a new version, and one line with a non-zero exit for every refused file."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from clinic_app.cli import main
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database

WALL_SIT = {
    "id": "clinic:wall_sit",
    "title": "Wall sit",
    "purpose": "Builds thigh strength without moving the knee.",
    "steps": ["Lean your back on a wall.", "Slide down a little.", "Hold still."],
    "region": "Whole leg",
    "kind": "isometric",
    "tags": ["loading"],
    "defaults": {"sets": 4, "hold_seconds": 30},
}


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(folder))
    monkeypatch.setenv("CLINIC_APP_ENCRYPTION", "off")
    monkeypatch.delenv("CLINIC_APP_DATABASE_URL", raising=False)
    return folder


@pytest.fixture
def clinic(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    db = open_database(url, backup=False)
    try:
        r.add_exercise(db, WALL_SIT, user="dana")
    finally:
        db.close()
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "green").save(out, "PNG")
    return out.getvalue()


def test_list_without_a_database_shows_the_shipped_library(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, out, err = run(capsys, "exercises", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 12
    assert lines[0].split()[:4] == ["romanian_deadlift", "shipped", "v1", "strength"]
    assert any(
        line.startswith("dynamic_hamstring_warmup ") and " stretch " in line for line in lines
    )
    assert not (data_dir / "clinic.db").exists()  # listing creates no database


def test_list_json_has_the_clinic_exercises_after_the_shipped(
    capsys: pytest.CaptureFixture[str], clinic: str
) -> None:
    code, out, err = run(capsys, "--database", clinic, "exercises", "list", "--json")
    assert code == 0, err
    items = json.loads(out)
    assert [i["id"] for i in items][-1] == "clinic:wall_sit"
    assert items[-1]["origin"] == "clinic"
    assert items[-1]["version"] == 1
    bridge = next(i for i in items if i["id"] == "glute_bridge")
    assert bridge["tags"] == ["loading"]
    assert "F3" in bridge["factors"]
    assert bridge["pictures"][0]["media_type"] == "image/svg+xml"
    assert len(bridge["pictures"][0]["sha256"]) == 64
    code, out, _ = run(capsys, "--database", clinic, "exercises", "list", "--shipped", "--json")
    assert code == 0
    assert "clinic:wall_sit" not in out


def test_export_import_and_add_picture(
    capsys: pytest.CaptureFixture[str], clinic: str, tmp_path: Path
) -> None:
    picture = tmp_path / "wall.png"
    picture.write_bytes(png())
    code, out, err = run(
        capsys, "--database", clinic, "exercises", "add-picture", "clinic:wall_sit", str(picture)
    )
    assert code == 0, err
    assert out.strip().endswith("added to clinic:wall_sit (version 2)")
    archive = tmp_path / "lib.zip"
    code, out, err = run(capsys, "--database", clinic, "exercises", "export", "-o", str(archive))
    assert code == 0, err
    assert out.strip() == f"1 exercise written to {archive}"
    other = f"sqlite:///{tmp_path / 'other.db'}"
    code, out, err = run(capsys, "--database", other, "exercises", "import", str(archive))
    assert code == 0, err
    assert "1 added, 0 new versions, 0 unchanged, 1 picture" in out
    db: Database = open_database(other, backup=False)
    try:
        assert r.load_library(db)["clinic:wall_sit"].pictures[0].data == png()
    finally:
        db.close()


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("/dev/zero", "character device"),
        ("fifo", "FIFO"),
        ("folder", "folder"),
        ("link", "FIFO"),
        ("missing.png", "not found"),
        ("script.svg", "<script>"),
        ("text.png", "not a PNG, JPEG or SVG"),
    ],
)
def test_bad_pictures_and_special_files_are_one_line(
    capsys: pytest.CaptureFixture[str], clinic: str, tmp_path: Path, target: str, words: str
) -> None:
    path = Path(target) if target.startswith("/") else tmp_path / target
    if target in ("fifo", "link"):
        os.mkfifo(tmp_path / "fifo")
        if target == "link":
            path.symlink_to(tmp_path / "fifo")
    elif target == "folder":
        path.mkdir()
    elif target == "script.svg":
        path.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>')
    elif target == "text.png":
        path.write_text("hello")
    for argv in (
        ("exercises", "add-picture", "clinic:wall_sit", str(path)),
        ("exercises", "import", str(path)),
    ):
        code, out, err = run(capsys, "--database", clinic, *argv)
        assert code != 0
        assert out == ""
        assert len(err.strip().splitlines()) == 1
        if argv[1] == "add-picture" or target not in ("script.svg", "text.png"):
            assert words in err
    db = open_database(clinic, backup=False)
    try:
        assert r.load_library(db)["clinic:wall_sit"].version == 1  # nothing stored
    finally:
        db.close()


def test_add_picture_to_a_shipped_exercise_is_refused(
    capsys: pytest.CaptureFixture[str], clinic: str, tmp_path: Path
) -> None:
    picture = tmp_path / "p.png"
    picture.write_bytes(png())
    code, _, err = run(
        capsys, "--database", clinic, "exercises", "add-picture", "glute_bridge", str(picture)
    )
    assert code == 2
    assert "'glute_bridge': not one of the clinic's exercises" in err


def test_exercises_list_as_a_process(data_dir: Path) -> None:
    exe = shutil.which("clinic-app", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run(
        [exe, "exercises", "list", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "CLINIC_APP_DATA_DIR": str(data_dir)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 12


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("fifo", "is not a regular file"),
        ("link.zip", "symbolic link"),
        ("folder", "is not a regular file"),
        ("/dev/null", "is not a regular file"),
        ("missing/x.zip", "No such file or directory"),
    ],
)
def test_export_refuses_special_targets(
    capsys: pytest.CaptureFixture[str], clinic: str, tmp_path: Path, target: str, words: str
) -> None:
    real = tmp_path / "real.zip"
    real.write_text("keep me")
    path = Path(target) if target.startswith("/") else tmp_path / target
    if target == "fifo":
        os.mkfifo(path)
    elif target == "link.zip":
        path.symlink_to(real)
    elif target == "folder":
        path.mkdir()
    code, out, err = run(capsys, "--database", clinic, "exercises", "export", "-o", str(path))
    assert code == 2
    assert out == ""
    assert words in err
    assert len(err.strip().splitlines()) == 1
    assert real.read_text() == "keep me"
