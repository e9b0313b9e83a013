"""A signed program's handout, rebuilt a year later from the database, is the same document:
same pages, same text, same bytes, even after the clinic edited the exercise in between; and a
clinic exercise with an imported picture prints with that picture (issue 17)."""

from __future__ import annotations

import io
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from clinic_app.cli import main
from clinic_app.core.form import Form
from clinic_app.core.program import parse_program, with_snapshots
from tests.reports.conftest import Pdf

YEAR = 365 * 24 * 3600.0


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (123, 77), (200, 30, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def _exercise(sha: str, title: str, steps: list[str]) -> dict[str, Any]:
    return {
        "id": "wall_sit_hold",
        "title": title,
        "purpose": "Builds strength in the front of your thighs without moving the knee.",
        "steps": steps,
        "kind": "isometric",
        "tags": ["loading"],
        "pictures": [{"sha256": sha}],
        "dose_text": "Hold for 30 seconds, 5 times.",
        "safety": "Stop if your knee hurts.",
    }


def _image_sizes(pdf: Pdf) -> list[tuple[int, int]]:
    out = []
    for page in pdf.reader.pages:
        for ref in ((page.get("/Resources") or {}).get("/XObject") or {}).values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                out.append((int(obj["/Width"]), int(obj["/Height"])))
    return out


@pytest.fixture
def signed_program(form: Form, example, tmp_path: Path) -> tuple[str, int, str]:
    """A clinic database with a signed evaluation whose home program has a clinic exercise."""
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database
    from clinic_app.storage.records import programs

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    with open_database(url, backup=False) as db:
        records.save_clinic(
            db, records.ClinicInfo("Lakeside Physio", "1 Shore Rd", "555 0199"), user="admin"
        )
        who = records.save_clinician(db, records.ClinicianInfo("Zoë Kim", "PT"), user="admin")
        patient = records.create_patient(
            db, records.PatientFields("Łukasz", "Müller", "M-1", date(1990, 1, 2)), user="admin"
        )
        picture = programs.add_picture(db, _png(), user="admin")
        programs.add_exercise(
            db,
            _exercise(
                picture.sha256,
                "Wall sit hold",
                ["Lean your back on a wall.", "Slide down a little."],
            ),
            user="admin",
        )
        library = programs.load_library(db, form)
        program = with_snapshots(
            parse_program(
                {
                    "exercises": [
                        {
                            "exercise": "wall_sit_hold",
                            "sets": 5,
                            "hold_seconds": 30,
                            "instruction": "Left leg first.",
                        },
                        {"exercise": "glute_bridge", "sets": 3, "reps": 10, "side": "right"},
                    ],
                    "note": "Holds only for two weeks.",
                }
            ),
            library,
        )
        findings = example("runner_left_proximal").with_value(form, "home_program", program.plain())
        ev = records.start_evaluation(
            db, patient.id, form, user="admin", clinician_id=who.id, eval_date=date(2026, 11, 20)
        )
        saved = records.save_draft(db, ev.id, findings, ev.version, user="admin")
        records.sign_evaluation(db, ev.id, saved.version, user="Zoë Kim")
        programs.keep_pictures(db, program, library, user="admin")
    return url, ev.id, picture.sha256


def _handout(url: str, evaluation_id: int, out: Path, *extra: str) -> Pdf:
    code = main(
        [
            "--database",
            url,
            "report",
            str(evaluation_id),
            "--kind",
            "handout",
            "-o",
            str(out),
            *extra,
        ]
    )
    assert code == 0
    return Pdf(out.read_bytes())


def test_a_clinic_exercise_prints_with_its_imported_picture(
    signed_program: tuple[str, int, str], tmp_path: Path
) -> None:
    url, ev_id, _ = signed_program
    pdf = _handout(url, ev_id, tmp_path / "h.pdf")
    flat = pdf.flat
    assert "1. Wall sit hold" in flat
    assert "2. Bridge – right side only" in flat
    assert "Your note: Left leg first." in flat
    assert "Holds only for two weeks." in flat
    assert (123, 77) in _image_sizes(pdf)


@pytest.mark.parametrize("large", [False, True], ids=["regular", "large-print"])
def test_the_signed_handout_rebuilt_a_year_later_is_the_same(
    signed_program: tuple[str, int, str],
    form: Form,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    large: bool,
) -> None:
    from clinic_app.storage.database import open_database
    from clinic_app.storage.records import programs

    url, ev_id, sha = signed_program
    extra = ("--large-print",) if large else ()
    first = _handout(url, ev_id, tmp_path / "first.pdf", *extra)

    # a year on: the clinic reworded the exercise, and the clock has moved
    with open_database(url, backup=False) as db:
        programs.update_exercise(
            db,
            _exercise(sha, "Wall squat", ["Stand with your back to a wall."]),
            user="admin",
            expected_version=1,
        )
    later = time.time() + YEAR
    monkeypatch.setattr(time, "time", lambda: later)
    again = _handout(url, ev_id, tmp_path / "again.pdf", *extra)

    assert again.pages == first.pages  # same pages, same text on each
    assert again.data == first.data  # and the same bytes (reportlab invariant mode)
    assert "Wall sit hold" in first.flat
    assert "Wall squat" not in again.flat
    assert (123, 77) in _image_sizes(again)


def test_the_signed_handout_keeps_its_drawings_after_a_release_redraws_them(
    signed_program: tuple[str, int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The program was signed with today's bridge drawing; a later release ships another one
    (here: the bridge drawn in red). The signed handout still prints the one it was signed with
    (kept in the database by SHA-256), and a new handout would print the new one."""
    import shutil

    from clinic_app.core import library as library_mod

    url, ev_id, _ = signed_program
    first = _handout(url, ev_id, tmp_path / "first.pdf")

    redrawn = tmp_path / "drawings"
    shutil.copytree(library_mod.drawings_dir(), redrawn)
    bridge = redrawn / "glute_bridge.svg"
    bridge.write_text(bridge.read_text(encoding="utf-8").replace("#1f3b57", "#ff0000"), "utf-8")
    monkeypatch.setattr(library_mod, "drawings_dir", lambda: redrawn)
    library_mod._cached.cache_clear()
    try:
        assert b"#ff0000" in library_mod.shipped_library()["glute_bridge"].pictures[0].data
        again = _handout(url, ev_id, tmp_path / "again.pdf")
    finally:
        library_mod._cached.cache_clear()
    assert again.data == first.data
