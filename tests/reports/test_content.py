"""Handout content: every id the form names exists, drawings are current, the choice rules hold."""

from __future__ import annotations

import dataclasses

import pytest

from clinic_app.core.form import Form
from clinic_app.reports import content, figures
from tests.reports.conftest import EXAMPLES

EXERCISE_IDS = {
    "romanian_deadlift",
    "glute_bridge",
    "hip_thrust",
    "single_leg_bridge",
    "nordic_curl",
    "weighted_squat",
    "dead_bug",
    "side_plank",
    "hip_flexor_march",
    "calf_raise_straight",
    "calf_raise_bent",
    "dynamic_hamstring_warmup",
}
ADVICE_IDS = {
    "bend_with_comfortable_back",
    "break_up_sitting",
    "build_base_first",
    "no_stretch_irritated",
    "tendon_modify_not_stop",
    "follow_referral",
    "running_traffic_light",
}


def test_exercise_and_advice_libraries_are_complete() -> None:
    assert set(content.exercises()) == EXERCISE_IDS
    assert set(content.advice()) == ADVICE_IDS
    for ex in content.exercises().values():
        assert all((ex.name, ex.purpose, ex.dose, ex.safety))
        assert ex.figure in figures.FIGURE_IDS, ex.id
        assert 3 <= len(ex.steps) <= 6


def test_every_id_the_form_names_has_content(form: Form) -> None:
    rules = (*form.factors, *form.patterns)
    for rule in rules:
        for eid in rule.exercises:
            assert eid in content.exercises(), f"{rule.id}: exercise {eid}"
        for aid in rule.advice:
            assert aid in content.advice(), f"{rule.id}: advice {aid}"
    for flag in form.red_flags:
        for aid in flag.advice:
            assert aid in content.advice(), f"{flag.id}: advice {aid}"


@pytest.mark.parametrize("exercise_id", sorted(EXERCISE_IDS))
def test_every_exercise_has_a_current_svg(exercise_id: str) -> None:
    path = figures.exercises_dir() / f"{exercise_id}.svg"
    assert path.is_file()
    assert path.read_text(encoding="utf-8") == figures.to_svg(figures.figure(exercise_id)), (
        "regenerate with: python -m clinic_app.reports.figures"
    )


def test_svgs_parse_as_xml() -> None:
    import xml.etree.ElementTree as ET

    for path in figures.exercises_dir().glob("*.svg"):
        root = ET.fromstring(path.read_text(encoding="utf-8"))
        assert root.tag.endswith("svg")


def test_choice_keeps_factor_order_and_caps_at_six() -> None:
    suggested = [
        "nordic_curl",
        "glute_bridge",
        "hip_thrust",
        "dead_bug",
        "side_plank",
        "calf_raise_bent",
        "weighted_squat",
        "nordic_curl",
    ]
    chosen = [e.id for e in content.choose_exercises(suggested)]
    assert chosen == suggested[:6]


def test_short_program_is_filled_with_safe_general_exercises() -> None:
    chosen = [e.id for e in content.choose_exercises(["side_plank"])]
    assert chosen == ["side_plank", "glute_bridge", "dead_bug"]
    assert [e.id for e in content.choose_exercises([])] == [
        "glute_bridge",
        "dead_bug",
        "calf_raise_straight",
    ]


def test_unknown_ids_are_skipped() -> None:
    chosen = [e.id for e in content.choose_exercises(["no_such_thing", "hip_thrust"])]
    assert chosen[0] == "hip_thrust"
    assert len(chosen) == 3


def test_no_stretch_when_irritated() -> None:
    suggested = ["dynamic_hamstring_warmup", "romanian_deadlift"]
    allowed = content.choose_exercises(suggested)
    assert "dynamic_hamstring_warmup" in [e.id for e in allowed]
    irritated = content.choose_exercises(suggested, ["no_stretch_irritated"])
    assert all(not e.stretch for e in irritated)
    assert [e.id for e in irritated][0] == "romanian_deadlift"
    assert len(irritated) == 3


def _advice(**changes: object) -> dict[str, content.Advice]:
    """The shipped advice library with some entries' fields replaced."""
    lib = dict(content.advice())
    for aid, fields in changes.items():
        lib[aid] = dataclasses.replace(lib[aid], **fields)  # type: ignore[arg-type]
    return lib


def test_the_no_stretch_rule_follows_the_advice_data() -> None:
    suggested = ["dynamic_hamstring_warmup", "romanian_deadlift"]
    flagless = _advice(no_stretch_irritated={"no_stretches": False})
    kept = content.choose_exercises(suggested, ["no_stretch_irritated"], advice_library=flagless)
    assert "dynamic_hamstring_warmup" in [e.id for e in kept]
    flagged = _advice(build_base_first={"no_stretches": True})
    dropped = content.choose_exercises(suggested, ["build_base_first"], advice_library=flagged)
    assert "dynamic_hamstring_warmup" not in [e.id for e in dropped]
    assert [a.id for a in content.advice().values() if a.no_stretches] == ["no_stretch_irritated"]


def test_general_exercises_fill_in_their_data_order() -> None:
    lib = dict(content.exercises())
    assert [e.id for e in content.general_exercises(lib)] == [
        "glute_bridge",
        "dead_bug",
        "calf_raise_straight",
        "hip_flexor_march",
    ]
    lib["side_plank"] = dataclasses.replace(lib["side_plank"], general=True, order=1)
    lib["glute_bridge"] = dataclasses.replace(lib["glute_bridge"], general=False, order=None)
    chosen = [e.id for e in content.choose_exercises(["hip_thrust"], library=lib)]
    assert chosen == ["hip_thrust", "side_plank", "dead_bug"]


def test_tips_come_from_the_advice_data() -> None:
    shown = [a.id for a in content.tips(["tendon_modify_not_stop", "follow_referral"])]
    # the active advice first, then every `always` tip; the referral goes in the red-flag box
    assert shown == ["tendon_modify_not_stop", "bend_with_comfortable_back", "break_up_sitting"]
    assert [a.id for a in content.tips(["running_traffic_light", "no_such_advice"])] == [
        "bend_with_comfortable_back",
        "break_up_sitting",
    ]
    assert [a.id for a in content.referral_advice()] == ["follow_referral"]
    lib = _advice(break_up_sitting={"always": False})
    assert [a.id for a in content.tips([], lib)] == ["bend_with_comfortable_back"]


@pytest.mark.parametrize(
    ("name", "entry", "expected"),
    [
        ("advice.yaml", {"title": "T", "group": "nowhere", "paragraphs": ["p"]}, "group 'nowhere'"),
        (
            "advice.yaml",
            {"title": "T", "group": "daily", "paragraphs": [], "always": "yes"},
            "'always'",
        ),
        (
            "exercises.yaml",
            {
                "name": "N",
                "kind": "strength",
                "stretch": False,
                "general": False,
                "order": 2,
                "purpose": "P",
                "steps": ["s"],
                "dose": "d",
                "safety": "s",
            },
            "only for general",
        ),
        (
            "exercises.yaml",
            {
                "name": "N",
                "kind": "strength",
                "figure": "moonwalk",
                "stretch": False,
                "purpose": "P",
                "steps": ["s"],
                "dose": "d",
                "safety": "s",
            },
            "figure 'moonwalk': no such drawing",
        ),
    ],
)
def test_bad_content_flags_are_refused(monkeypatch, tmp_path, name, entry, expected) -> None:
    import shutil

    import yaml

    for f in content.handout_dir().iterdir():
        shutil.copy(f, tmp_path / f.name)
    data = yaml.safe_load((tmp_path / name).read_text(encoding="utf-8"))
    data["broken_entry"] = entry
    (tmp_path / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setattr(content, "handout_dir", lambda: tmp_path)
    loader = content.advice if name == "advice.yaml" else content.exercises
    loader.cache_clear()
    try:
        with pytest.raises(content.ContentError, match=f"{name}: broken_entry: .*{expected}"):
            loader()
    finally:
        loader.cache_clear()


def test_drawings_scale_to_the_requested_width() -> None:
    from clinic_app.reports import pictures

    svg = (figures.exercises_dir() / "glute_bridge.svg").read_bytes()
    d = pictures.svg_drawing(svg, 150)
    assert d.width == 150
    assert 0 < d.height < 150
    tall = pictures.svg_drawing(
        (figures.exercises_dir() / "calf_raise_bent.svg").read_bytes(), 150, 40
    )
    assert tall.height == pytest.approx(40)
    assert tall.width < 150


GRADE = 8.0
"""School grade the handout's words must read at, or easier (Flesch-Kincaid, textstat)."""


def _grade(text: str) -> float:
    import textstat

    return float(textstat.flesch_kincaid_grade(text))


def _sentences(fixed: content.HandoutText) -> dict[str, str]:
    """Every fixed text of the handout long enough to grade (headings are left out: a two-word
    heading's grade says nothing)."""
    out: dict[str, str] = {}
    for key, value in fixed.raw.items():
        if isinstance(value, str | list):
            text = " ".join(value) if isinstance(value, list) else value
            if len(text.split()) >= 8:
                out[key] = text
    for level, lamp in fixed.run_levels().items():
        out[f"running_levels.{level}"] = lamp.text
    return out


def test_handout_texts_read_at_grade_eight_or_easier() -> None:
    from clinic_app.core.library import shipped_library

    for ex in shipped_library().values():
        assert _grade(" ".join([ex.purpose, *ex.steps, ex.dose_text, ex.safety])) <= GRADE, ex.id
        for part in (ex.purpose, ex.safety, *ex.steps):
            assert _grade(part) <= GRADE + 2, (ex.id, part)  # no single sentence far above it
    for adv in content.advice().values():
        assert _grade(" ".join(adv.paragraphs)) <= GRADE, adv.id
    for key, text in _sentences(content.handout_text()).items():
        assert _grade(text) <= GRADE, (key, _grade(text))


def test_the_grader_tells_hard_from_plain() -> None:
    hard = (
        "Proximal hamstring tendinopathy necessitates progressive isometric loading, "
        "subsequently advancing toward eccentric contractions contingent upon symptomatic "
        "irritability classification."
    )
    assert _grade(hard) > GRADE + 4
    assert _grade("Lie on your back. Lift your hips. Hold for two seconds.") < 4


@pytest.mark.parametrize("large", [False, True], ids=["regular", "large-print"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_the_printed_handout_reads_at_grade_eight_or_easier(
    name: str, large: bool, form, example, make_data
) -> None:
    """The handout as the patient gets it, read back from the PDF: every page, and the whole."""
    import io
    import re

    from pypdf import PdfReader

    from clinic_app.reports import build_handout

    stream = io.BytesIO()
    build_handout(make_data(example(name)), stream, large_print=large)
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(stream.getvalue())).pages]
    flat = [re.sub(r"\s+", " ", page) for page in pages]
    assert _grade(" ".join(flat)) <= GRADE
    for n, page in enumerate(flat, 1):
        if len(page.split()) >= 40:
            assert _grade(page) <= GRADE, (name, n, _grade(page))
