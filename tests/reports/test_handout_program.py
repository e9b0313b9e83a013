"""The handout prints the therapist's program: its exercises in its order with its doses and
notes, none it left out, custom exercises with their own pictures; read back with pypdf.

Issue 17's "Done when": ``clinic-app report --findings ... --kind handout --program P.json``.
"""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from clinic_app.cli import main
from clinic_app.core.engine import assess
from clinic_app.core.form import Form
from clinic_app.core.library import ExerciseDef, Library, Picture, shipped_library
from clinic_app.core.program import parse_program, suggest_program
from clinic_app.reports import build_handout, content
from clinic_app.reports.handout import handout_cards
from tests.reports.conftest import EXAMPLES_DIR, MakeData, Pdf, build_pdf, need_tool, with_values

RUNNER = EXAMPLES_DIR / "runner_left_proximal.json"
EXAMPLE_PROGRAM = EXAMPLES_DIR / "program_isometrics.json"

PROGRAM: dict[str, Any] = {
    "exercises": [
        {
            "exercise": "glute_bridge",
            "sets": 5,
            "hold_seconds": 45,
            "frequency": "once a day",
            "instruction": "Keep the pain at 3 out of 10 or less while you hold.",
            "progression": "When this feels easy, try the one-leg bridge.",
        },
        {"exercise": "side_plank", "sets": 3, "hold_seconds": 20, "side": "left"},
        {"exercise": "calf_raise_straight", "sets": 4, "reps": 12, "load": "a 5 kg backpack"},
    ],
    "note": "Start with the holds only. We add the slow lowering work in two weeks.",
}


def _titles_in_order(flat: str, library: Library) -> list[str]:
    shown = [ex.title for ex in library.values() if f". {ex.title}" in flat]
    return sorted(shown, key=lambda t: flat.index(f". {t}"))


def _program_file(tmp_path: Path, program: dict[str, Any] | str) -> Path:
    path = tmp_path / "program.json"
    text = program if isinstance(program, str) else json.dumps(program)
    path.write_text(text, encoding="utf-8")
    return path


def _report(tmp_path: Path, *extra: str) -> tuple[int, Path]:
    out = tmp_path / "h.pdf"
    args = ["report", "--findings", str(RUNNER), "--kind", "handout", "-o", str(out)]
    return main([*args, "--date", "2026-11-20", *extra]), out


def test_cli_prints_the_program_in_its_order_with_its_doses(
    form: Form, example, tmp_path: Path
) -> None:
    lib = shipped_library(form)
    suggested = suggest_program(form, assess(form, example("runner_left_proximal")), lib)
    left_out = {e.exercise for e in suggested.exercises} - {
        e["exercise"] for e in PROGRAM["exercises"]
    }
    assert left_out, (
        "the program must leave out some suggested exercises for this test to mean much"
    )

    code, out = _report(tmp_path, "--program", str(_program_file(tmp_path, PROGRAM)))
    assert code == 0
    flat = Pdf(out.read_bytes()).flat
    assert _titles_in_order(flat, lib) == [lib[e["exercise"]].title for e in PROGRAM["exercises"]]
    for eid in left_out:
        assert lib[eid].title not in flat, eid
    assert "How much: Hold for 45 seconds, 5 times, once a day." in flat
    assert "Your note: Keep the pain at 3 out of 10 or less while you hold." in flat
    assert "Next step: When this feels easy, try the one-leg bridge." in flat
    assert "2. Side plank – left side only" in flat
    assert "How much: Hold for 20 seconds, 3 times." in flat
    assert "How much: 4 sets of 12." in flat
    assert "Use: a 5 kg backpack" in flat
    assert PROGRAM["note"] in flat
    # the traffic light, the tips and when to get help are still there
    assert "Running: your traffic light" in flat
    assert "When to contact us or get help" in flat


def test_the_example_program_file_prints(form: Form, tmp_path: Path) -> None:
    """examples/program_isometrics.json (documented in the README) prints as written."""
    if not EXAMPLE_PROGRAM.exists():
        pytest.skip("examples/program_isometrics.json is not there yet")
    program = parse_program(json.loads(EXAMPLE_PROGRAM.read_text(encoding="utf-8")))
    code, out = _report(tmp_path, "--program", str(EXAMPLE_PROGRAM))
    assert code == 0
    lib = shipped_library(form)
    flat = Pdf(out.read_bytes()).flat
    assert _titles_in_order(flat, lib) == [lib[e.exercise].title for e in program.exercises]
    for entry in program.exercises:
        if entry.instruction:
            assert " ".join(entry.instruction.split()) in flat
        assert content.dose_words(entry, lib[entry.exercise].dose_text) in flat


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        ({"exercises": [{"exercise": "glute_bridge", "sets": 0}]}, "(glute_bridge) sets: 0"),
        (
            {"exercises": [{"exercise": "glute_bridge"}, {"exercise": "dead_bug", "reps": 10000}]},
            "exercise 2 (dead_bug) reps: 10000",
        ),
        ({"exercises": [{"exercise": "moon_walk", "reps": 8}]}, "(moon_walk): not in the"),
        ({"exercises": [{"exercise": "dead_bug", "hold_seconds": 1e300}]}, "hold_seconds"),
        ({"exercises": [{"exercise": "dead_bug", "colour": "red"}]}, "'colour' is not a field"),
        ({"exercises": [{"exercise": "dead_bug", "side": "middle"}]}, "(dead_bug) side"),
        ("{not json", "not a JSON program (line 1)"),
        ("[" * 100_000, "not a JSON program"),
    ],
)
def test_a_bad_program_is_one_line_and_no_pdf(
    program: dict[str, Any] | str, expected: str, tmp_path: Path, capsys
) -> None:
    code, out = _report(tmp_path, "--program", str(_program_file(tmp_path, program)))
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert expected in err
    assert not out.exists()
    assert not list(tmp_path.glob(".report-*"))


def test_program_and_large_print_are_for_the_handout_only(tmp_path: Path, capsys) -> None:
    out = tmp_path / "c.pdf"
    args = ["report", "--findings", str(RUNNER), "--kind", "clinician", "-o", str(out)]
    assert main([*args, "--program", str(_program_file(tmp_path, PROGRAM))]) == 2
    assert "--program is for the handout" in capsys.readouterr().err
    assert main([*args, "--large-print"]) == 2
    assert not out.exists()


def test_a_program_file_that_is_a_folder_or_missing(tmp_path: Path, capsys) -> None:
    for path in (tmp_path, tmp_path / "missing.json"):
        code, out = _report(tmp_path, "--program", str(path))
        assert code == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
        assert not out.exists()


def test_without_a_program_the_suggestion_prints(form: Form, example, make_data: MakeData) -> None:
    findings = example("runner_left_proximal")
    data = make_data(findings)
    suggested = suggest_program(form, assess(form, findings), shipped_library(form))
    assert [c.exercise_id for c in handout_cards(data)] == [e.exercise for e in suggested.exercises]


def test_a_stored_program_in_the_findings_is_printed(
    form: Form, example, make_data: MakeData
) -> None:
    findings = with_values(form, example("runner_left_proximal"), home_program=PROGRAM)
    pdf = build_pdf(build_handout, make_data(findings))
    lib = shipped_library(form)
    assert _titles_in_order(pdf.flat, lib) == [
        lib[e["exercise"]].title for e in PROGRAM["exercises"]
    ]


def test_an_emergency_keeps_the_emergency_message_only_even_with_a_program(
    form: Form, example, make_data: MakeData
) -> None:
    findings = with_values(
        form,
        example("runner_left_proximal"),
        home_program=PROGRAM,
        rf_saddle_numbness="yes",
    )
    assert assess(form, findings).emergency
    pdf = build_pdf(build_handout, make_data(findings))
    flat = pdf.flat
    assert content.handout_text().text("emergency_heading") in flat
    for ex in shipped_library().values():
        assert f". {ex.title}" not in flat
    assert PROGRAM["note"] not in flat
    assert "How much:" not in flat
    assert len(pdf.pages) == 1


# ---------------------------------------------------------------------------------------------
# custom exercises with imported pictures


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def _custom(picture: Picture) -> ExerciseDef:
    return ExerciseDef(
        id="wall_sit_hold",
        title="Wall sit hold",
        purpose="Builds strength in the front of your thighs without moving the knee.",
        steps=("Lean your back on a wall.", "Slide down until your knees are bent a little."),
        kind="isometric",
        tags=("loading",),
        pictures=(picture,),
        origin="clinic",
        dose_text="Hold for 30 seconds, 5 times.",
        safety="Stop if your knee hurts.",
    )


def _image_sizes(pdf: Pdf) -> list[tuple[int, int]]:
    sizes = []
    for page in pdf.reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        for ref in xobjects.values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                sizes.append((int(obj["/Width"]), int(obj["/Height"])))
    return sizes


def _program_with(eid: str) -> dict[str, Any]:
    return {
        "exercises": [{"exercise": eid, "sets": 5, "hold_seconds": 30}, PROGRAM["exercises"][0]]
    }


def test_a_custom_exercise_prints_with_its_png_picture(
    form: Form, example, make_data: MakeData
) -> None:
    picture = Picture.of(_png((123, 77), (200, 30, 160)), "image/png")
    library = shipped_library(form).merged([_custom(picture)])
    findings = with_values(
        form, example("runner_left_proximal"), home_program=_program_with("wall_sit_hold")
    )
    pdf = build_pdf(build_handout, replace(make_data(findings), library=library))
    assert "1. Wall sit hold" in pdf.flat
    assert (123, 77) in _image_sizes(pdf)


def test_a_custom_exercise_prints_with_its_jpeg_picture(
    form: Form, example, make_data: MakeData
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (91, 45), (20, 120, 40)).save(buffer, "JPEG")
    picture = Picture.of(buffer.getvalue(), "image/jpeg")
    library = shipped_library(form).merged([_custom(picture)])
    findings = with_values(
        form, example("runner_left_proximal"), home_program=_program_with("wall_sit_hold")
    )
    pdf = build_pdf(build_handout, replace(make_data(findings), library=library))
    assert (91, 45) in _image_sizes(pdf)


GREEN_SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100" '
    b'width="200" height="100"><g transform="translate(10,10)" style="fill:#00ff00">'
    b'<rect width="180" height="80" rx="8"/></g>'
    b'<path d="M20 50 Q100 0 180 50" fill="none" stroke="#0000ff" stroke-width="6"/></svg>'
)


def test_a_custom_svg_picture_prints_as_drawn(
    form: Form, example, make_data: MakeData, tmp_path: Path
) -> None:
    tool = need_tool("pdftoppm")
    library = shipped_library(form).merged([_custom(Picture.of(GREEN_SVG, "image/svg+xml"))])
    findings = with_values(
        form, example("runner_left_proximal"), home_program=_program_with("wall_sit_hold")
    )
    pdf = build_pdf(build_handout, replace(make_data(findings), library=library))
    assert _image_sizes(pdf) == []  # vector, like the shipped drawings
    path = tmp_path / "h.pdf"
    path.write_bytes(pdf.data)
    page = next(n for n, text in enumerate(pdf.pages, 1) if "Wall sit hold" in text)
    subprocess.run(
        [
            tool,
            "-png",
            "-r",
            "60",
            "-f",
            str(page),
            "-l",
            str(page),
            str(path),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    image = Image.open(next(tmp_path.glob("p-*.png"))).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    green = sum(n for n, (r, g, b) in colours if g > 230 and r < 30 and b < 30)
    blue = sum(n for n, (r, g, b) in colours if b > 230 and r < 30 and g < 30)
    assert green > 300, green
    assert blue > 20, blue


def test_a_picture_that_cannot_be_drawn_leaves_the_card(
    form: Form, example, make_data: MakeData
) -> None:
    broken = Picture("image/svg+xml", b"<svg><rect", "0" * 64)
    library = shipped_library(form).merged([_custom(broken)])
    findings = with_values(
        form, example("runner_left_proximal"), home_program=_program_with("wall_sit_hold")
    )
    pdf = build_pdf(build_handout, replace(make_data(findings), library=library))
    assert "1. Wall sit hold" in pdf.flat
    assert "Lean your back on a wall." in pdf.flat


def test_the_therapists_words_print_as_typed(form: Form, example, make_data: MakeData) -> None:
    """Markup-like text, ampersands, CJK and line breaks in the notes print literally."""
    program = {
        "exercises": [
            {
                "exercise": "dead_bug",
                "sets": 2,
                "reps": 6,
                "instruction": "Keep <b>slow</b> & steady: 5 < 6.\nSecond line 王芳.",
                "load": "band <red>",
            }
        ],
        "note": "<script>alert(1)</script> & more",
    }
    findings = with_values(form, example("runner_left_proximal"), home_program=program)
    flat = build_pdf(build_handout, make_data(findings)).flat
    assert "Your note: Keep <b>slow</b> & steady: 5 < 6. Second line 王芳." in flat
    assert "Use: band <red>" in flat
    assert "<script>alert(1)</script> & more" in flat


def test_a_damaged_png_is_left_out_not_the_handout(
    form: Form, example, make_data: MakeData
) -> None:
    png = _png((64, 64), (10, 200, 10))
    damaged = Picture.of(png[: len(png) // 2], "image/png")  # the header says 64 x 64
    library = shipped_library(form).merged([_custom(damaged)])
    findings = with_values(
        form, example("runner_left_proximal"), home_program=_program_with("wall_sit_hold")
    )
    pdf = build_pdf(build_handout, replace(make_data(findings), library=library))
    assert "1. Wall sit hold" in pdf.flat
    assert (64, 64) not in _image_sizes(pdf)
