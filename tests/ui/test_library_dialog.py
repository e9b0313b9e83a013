"""The clinic's exercise library dialog (issue 17): own exercises with pictures, zips, templates.

Real dialog offscreen, real SQLite files, the work through the real operation runner; what the
dialog saved is read back from the database.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.ui.context import AppContext
from clinic_app.ui.library_dialog import LibraryDialog, exercise_id_for

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 60">'
    b'<rect x="10" y="10" width="80" height="40" fill="none" stroke="black"/></svg>'
)
SVG_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script></svg>'
)


def png_bytes(size: tuple[int, int] = (120, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def context(qapp: object, db: Any, mini_form: Any, clinician: Any) -> Iterator[AppContext]:
    ctx = AppContext(clinician)
    ctx.attach(db, mini_form)
    yield ctx
    ctx.runner.stop()


@pytest.fixture
def dialog(qtbot: Any, context: AppContext) -> LibraryDialog:
    d = LibraryDialog(context)
    qtbot.addWidget(d)
    d.show()
    return d


def picture_count(db: Any) -> int:
    from sqlalchemy import func, select

    from clinic_app.storage import models as m

    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(m.LibraryPicture)) or 0)


def fill(d: LibraryDialog, title: str = "Wall sit") -> None:
    d.new_exercise()
    d.title.setText(title)
    d.purpose.setText("Builds the front of the thigh without moving the knee.")
    d.steps.setPlainText("Lean your back on a wall.\nSlide down until the knees bend.\n\nHold.")
    d.region.setText("Whole leg")
    d.kind.setCurrentIndex(d.kind.findData("isometric"))
    d.tags["loading"].setChecked(True)
    d.factors.setText("f6, F3")
    d.sets.setText("3")
    d.hold.setText("30")
    d.frequency.setText("daily")


def test_a_clinic_exercise_with_pictures_is_saved_and_versioned(
    qtbot: Any, dialog: LibraryDialog, db: Any, tmp_path: Path
) -> None:
    fill(dialog)
    png = tmp_path / "wall.png"
    png.write_bytes(png_bytes())
    svg = tmp_path / "wall.svg"
    svg.write_bytes(SVG)
    dialog.add_picture(png)
    qtbot.waitUntil(lambda: len(dialog.pictures) == 1)
    dialog.add_picture(svg)
    qtbot.waitUntil(lambda: len(dialog.pictures) == 2)
    assert not dialog.add_picture_button.isEnabled()  # two at most
    dialog.on_save_clicked()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Saved"))
    (ex,) = records.clinic_exercises(db)
    assert ex.id == "clinic:wall_sit"
    assert ex.steps == ("Lean your back on a wall.", "Slide down until the knees bend.", "Hold.")
    assert ex.kind == "isometric"
    assert ex.tags == ("loading",)
    assert ex.factors == ("F6", "F3")
    assert (ex.defaults.sets, ex.defaults.hold_seconds, ex.defaults.frequency) == (3, 30, "daily")
    assert [p.media_type for p in ex.pictures] == ["image/png", "image/svg+xml"]
    assert ex.pictures[1].data == SVG
    assert dialog.list.count() == 1
    Path("/tmp/h8").mkdir(exist_ok=True)
    dialog.grab().save("/tmp/h8/library.png")

    dialog.safety.setText("Stop if the knee hurts.")
    dialog.on_save_clicked()
    qtbot.waitUntil(lambda: "version 2" in dialog.status.text())
    assert [e.version for e in records.exercise_history(db, ex.id)] == [1, 2]
    assert records.clinic_exercises(db)[0].safety == "Stop if the knee hurts."


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("notes.png", b"just some text, not a picture", "picture refused"),
        ("evil.svg", SVG_SCRIPT, "script"),
        (
            "big.png",
            b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * 1024 * 1024),
            "the limit for a picture is 2 MiB",
        ),
        ("huge.png", None, "4000"),
    ],
)
def test_a_bad_picture_is_refused_in_one_line_and_nothing_is_stored(
    qtbot: Any, dialog: LibraryDialog, db: Any, tmp_path: Path, name: str, data: Any, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(png_bytes((4100, 10)) if data is None else data)
    fill(dialog)
    dialog.add_picture(path)
    qtbot.waitUntil(lambda: bool(dialog.picture_problem.text()), timeout=10_000)
    text = dialog.picture_problem.text()
    assert "\n" not in text
    assert name in text
    assert says in text
    assert dialog.pictures == []
    assert picture_count(db) == 0


def test_a_folder_or_missing_file_as_a_picture_is_refused(
    qtbot: Any, dialog: LibraryDialog, db: Any, tmp_path: Path
) -> None:
    dialog.add_picture(tmp_path)
    qtbot.waitUntil(lambda: bool(dialog.picture_problem.text()))
    assert "not a picture" in dialog.picture_problem.text() or "directory" in (
        dialog.picture_problem.text()
    )
    assert picture_count(db) == 0


def test_an_exercise_the_storage_refuses_says_why_and_stores_nothing(
    qtbot: Any, dialog: LibraryDialog, db: Any
) -> None:
    fill(dialog)
    dialog.steps.setPlainText("")
    dialog.on_save_clicked()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Not saved"))
    assert "steps" in dialog.status.text()
    fill(dialog)
    dialog.sets.setText("0")
    dialog.on_save_clicked()
    qtbot.waitUntil(lambda: "sets" in dialog.status.text())
    assert records.clinic_exercises(db) == []


def test_export_then_import_into_another_clinic(
    qtbot: Any, dialog: LibraryDialog, db: Any, tmp_path: Path, mini_form: Any, clinician: Any
) -> None:
    fill(dialog)
    png = tmp_path / "wall.png"
    png.write_bytes(png_bytes())
    dialog.add_picture(png)
    qtbot.waitUntil(lambda: len(dialog.pictures) == 1)
    dialog.on_save_clicked()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Saved"))
    out = tmp_path / "lib.zip"
    dialog.export_to(out)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Exported 1 exercises"))

    other_path = tmp_path / "other.db"
    other = open_database(f"sqlite:///{other_path}", backup=False)
    ctx = AppContext(clinician)
    ctx.attach(other, mini_form)
    try:
        second = LibraryDialog(ctx)
        qtbot.addWidget(second)
        bad = tmp_path / "bad.zip"
        bad.write_bytes(b"PK not really a zip")
        second.import_from(bad)
        qtbot.waitUntil(lambda: second.status.text().startswith("Nothing imported"))
        assert records.clinic_exercises(other) == []
        second.import_from(out)
        qtbot.waitUntil(lambda: second.status.text().startswith("Imported lib.zip"))
        assert "1 added" in second.status.text()
        (ex,) = records.clinic_exercises(other)
        assert ex.title == "Wall sit"
        assert ex.pictures[0].data == png.read_bytes()
        assert second.list.count() == 1
    finally:
        ctx.runner.stop()
        other.close()


def test_saved_programs_are_listed(qtbot: Any, context: AppContext, db: Any) -> None:
    program = {
        "exercises": [{"exercise": "glute_bridge", "sets": 3, "reps": 10}],
        "note": "Stage 1",
    }
    records.save_template(db, "proximal tendinopathy, stage 1", program, user="Dana")
    d = LibraryDialog(context)
    qtbot.addWidget(d)
    assert d.templates.count() == 1
    assert (
        d.templates.item(0)
        .text()
        .startswith("proximal tendinopathy, stage 1 — 1 exercise: Bridge; saved by Dana")
    )


def test_new_ids_come_from_the_title() -> None:
    assert exercise_id_for("Wall sit, 30 s", set()) == "clinic:wall_sit_30_s"
    assert exercise_id_for("Wall sit", {"clinic:wall_sit"}) == "clinic:wall_sit_2"
    from clinic_app.core.library import EXERCISE_ID

    assert EXERCISE_ID.match(exercise_id_for("Übung für Müller " * 9, set()))
    assert exercise_id_for("!!!", set()) == "clinic:exercise"
