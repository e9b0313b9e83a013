"""Issue 17's done-when line for the library: a custom exercise with an imported picture prints
with that picture, in the signed program's order, from the database alone (SQLite, through
``clinic-app report ID --kind handout``, the PDF read back with pypdf)."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from PIL import Image, ImageDraw

from clinic_app.cli import main
from clinic_app.core.form import load_form
from clinic_app.core.program import parse_program, with_snapshots
from clinic_app.paths import default_form_path
from clinic_app.storage import records as r
from clinic_app.storage.database import open_database


def drawing() -> bytes:
    img = Image.new("RGB", (400, 200), "white")
    pen = ImageDraw.Draw(img)
    pen.rectangle((40, 40, 360, 160), outline="black", width=6)
    pen.line((40, 160, 360, 40), fill="red", width=8)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def test_a_custom_exercise_prints_with_its_imported_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLINIC_APP_ENCRYPTION", "off")
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    form = load_form(default_form_path())
    db = open_database(url, backup=False)
    try:
        pic = r.add_picture(db, drawing(), user="dana")
        r.add_exercise(
            db,
            {
                "id": "clinic:wall_sit",
                "title": "Wall sit",
                "purpose": "Builds thigh strength without moving the knee.",
                "steps": ["Lean your back on a wall.", "Slide down a little.", "Hold still."],
                "kind": "isometric",
                "tags": ["loading"],
                "pictures": [{"sha256": pic.sha256, "media_type": "image/png"}],
            },
            user="dana",
        )
        library = r.load_library(db, form)
        program = with_snapshots(
            parse_program(
                {
                    "exercises": [
                        {"exercise": "clinic:wall_sit", "sets": 4, "hold_seconds": 30},
                        {"exercise": "glute_bridge", "sets": 5, "hold_seconds": 45},
                    ]
                }
            ),
            library,
        )
        patient = r.create_patient(db, r.PatientFields("Ada", "Runner", mrn="P-1"), user="dana")
        ev = r.start_evaluation(db, patient.id, form, user="dana", copy_forward=False)
        values = {"involved_side": "left", "pain_now": 3, "home_program": program.plain()}
        saved = r.save_draft(db, ev.id, {"values": values}, ev.version, user="dana")
        r.sign_evaluation(db, ev.id, saved.version, user="dana")
    finally:
        db.close()
    out = tmp_path / "h.pdf"
    code = main(["--database", url, "report", str(ev.id), "--kind", "handout", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    reader = pypdf.PdfReader(out)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert text.index("1. Wall sit") < text.index("2. Bridge")
    assert "Hold for 30 seconds, 4 times" in text
    assert "Nordic" not in text
    images = [im for page in reader.pages for im in page.images]
    assert any(im.image.size == (400, 200) for im in images)
