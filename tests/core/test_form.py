"""The form schema: valid forms load, broken ones give one located line per problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from clinic_app.core.form import (
    FormError,
    ItemType,
    citations,
    cited_sources,
    load_form,
    mmt_grade,
    parse_form,
)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(FormError) as info:
        load_form(path)
    return info.value.problems


def test_mini_form_loads(mini_form) -> None:
    assert mini_form.id == "mini"
    assert list(mini_form.items)[:2] == ["involved_side", "pain_now"]
    assert mini_form.item("nordic").symmetry is not None
    assert mini_form.section_of("slr").id == "tests"


def test_fixed_ranges_for_scales_and_mmt(mini_form) -> None:
    scale = mini_form.item("pain_now").value_range
    mmt = mini_form.item("hip_flex").value_range
    assert (scale.min, scale.max) == (0, 10)
    assert (mmt.min, mmt.max) == (0, 5)
    assert mini_form.item("slump").allowed == ("positive", "negative")
    assert mini_form.item("pop").type is ItemType.YESNO


def test_missing_label_names_file_and_place(mini_data, write_form) -> None:
    del mini_data["sections"][1]["items"][2]["label"]
    path = write_form(mini_data)
    assert problems_of(path) == [f"{path}: sections[1].items[2].label: required key is missing"]


def test_inverted_range_names_file_and_place(mini_data, write_form) -> None:
    mini_data["sections"][1]["items"][0]["range"] = {"min": 90, "max": 0}
    path = write_form(mini_data)
    assert problems_of(path) == [f"{path}: sections[1].items[0].range: min 90 is above max 0"]


def test_unknown_key_is_rejected(mini_data, write_form) -> None:
    mini_data["sections"][0]["items"][1]["colour"] = "red"
    path = write_form(mini_data)
    assert problems_of(path) == [f"{path}: sections[0].items[1].colour: unknown key"]


def test_yaml_syntax_error_gives_line_and_column(mini_data, write_form) -> None:
    path = write_form("id: mini\nversion: 1\nsections:\n  - id: [unclosed\n")
    [line] = problems_of(path)
    assert line.startswith(f"{path}: line 5, column 1: YAML syntax error:")


def test_duplicate_key_is_refused_not_silently_replaced(write_form) -> None:
    text = "id: mini\nversion: 1\nsections:\n  - id: a\n    title: A\n    title: B\n"
    path = write_form(text)
    assert problems_of(path) == [f"{path}: line 6, column 5: key 'title' appears twice"]


def test_same_key_in_different_mappings_is_fine(mini_data, write_form) -> None:
    path = write_form(mini_data)  # every item has 'id' and 'label': one per mapping
    assert load_form(path).id == "mini"


def test_nesting_past_the_forms_limit_is_refused(write_form) -> None:
    path = write_form("a: " + "[" * 100 + "]" * 100 + "\n")
    [line] = problems_of(path)
    assert line == f"{path}: line 1, column 67: nested more than 64 levels deep"


def test_deep_nesting_is_refused_without_crashing(write_form) -> None:
    # Thousands of levels: whichever refuses first (libyaml's own depth limit, or ours), the
    # result is one line naming the file, a place and nesting: never a crash or a traceback.
    path = write_form("a: " + "[" * 5000 + "]" * 5000 + "\n")
    [line] = problems_of(path)
    assert line.startswith(f"{path}: line 1, column ")
    assert "nest" in line.lower()


def test_top_level_must_be_a_mapping(write_form) -> None:
    path = write_form("- just\n- a list\n")
    assert problems_of(path) == [f"{path}: (top level): expected a mapping of keys, got list"]


def test_missing_file() -> None:
    assert problems_of(Path("/nonexistent/form.yaml")) == ["/nonexistent/form.yaml: file not found"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["factors"][0]["indicators"][0]["when"].update(item="nope"),
            "factors[0].indicators[0].when.item: unknown item 'nope'",
        ),
        (
            lambda d: d["factors"][3]["indicators"][0]["when"].update({"in": ["maybe"]}),
            "factors[3].indicators[0].when.in: 'maybe' is not a value of item 'slump'",
        ),
        (
            lambda d: d["red_flags"][0]["when"]["all"][0].update(side="left"),
            "red_flags[0].when.all[0].side: item 'pop' is not bilateral",
        ),
        (
            lambda d: d["sections"][1]["items"].append(copy.deepcopy(d["sections"][1]["items"][0])),
            "sections[1].items[5].id: item id 'nordic' already used at sections[1].items[0].id",
        ),
        (
            lambda d: d.update(involved_side_item="pain_now"),
            "involved_side_item: must be a choice offering 'left' and 'right'",
        ),
        (
            lambda d: d["running"][0]["when"].update(item="quality"),
            "running[0].when.op: item 'quality' is a multi; use 'in'",
        ),
    ],
)
def test_cross_reference_problems(mini_data: dict[str, Any], mutate, expected: str) -> None:
    mutate(mini_data)
    with pytest.raises(FormError) as info:
        parse_form(mini_data, "f.yaml")
    assert info.value.problems == [f"f.yaml: {expected}"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["sections"][0]["items"][1].update(range={"min": 0, "max": 3}),
            "sections[0].items[1]: type scale has a fixed range; remove 'range'",
        ),
        (
            lambda d: d["sections"][0]["items"][2].update(choices=[]),
            "sections[0].items[2]: type multi needs a list of choices",
        ),
        (
            lambda d: d["factors"][0].update(min_indicators=3),
            "factors[0]: min_indicators 3 is more than the 1 indicators listed",
        ),
        (
            lambda d: d["factors"][3]["indicators"][0].update(supporting_only=True),
            "factors[3]: every indicator is supporting_only, so the rule can never fire",
        ),
        (
            lambda d: d["factors"][0].update(id="X1"),
            "factors[0].id: String should match pattern '^F[0-9]+$'",
        ),
        (
            lambda d: d["sections"][0]["items"][1].update(type="slider"),
            "sections[0].items[1].type: Input should be 'number', 'scale', 'mmt', 'choice',"
            " 'multi', 'yesno', 'posneg', 'regions', 'text', 'rows', 'questionnaire' or 'program'",
        ),
    ],
)
def test_schema_problems_are_located(mini_data: dict[str, Any], mutate, expected: str) -> None:
    mutate(mini_data)
    with pytest.raises(FormError) as info:
        parse_form(mini_data, "f.yaml")
    assert info.value.problems == [f"f.yaml: {expected}"]


def test_shipped_form_is_valid_and_complete(shipped_form) -> None:
    section_ids = [s.id for s in shipped_form.sections]
    assert section_ids == [
        "subjective",
        "red_flags",
        "hips",
        "pelvis",
        "core",
        "feet_calves",
        "gait",
        "shoulder_girdle",
        "sciatic_nerve",
        "eccentric_strength",
        "flexibility",
        "tendon_local",
        "outcome_measures",
        "assessment_plan",
        "visit_subjective",
        "visit_treatment",
        "visit_assessment",
        "visit_plan",
        "home_program",
    ]
    assert [s.id for s in shipped_form.record_sections("visit")] == section_ids[-5:]
    assert [f.id for f in shipped_form.factors] == [f"F{n}" for n in range(1, 19)]
    assert all(item.source for item in shipped_form.items.values())
    assert all(item.help for item in shipped_form.items.values())


def test_every_threshold_has_a_source(shipped_form) -> None:
    for factor in (*shipped_form.factors, *shipped_form.patterns):
        assert all(ind.source for ind in factor.indicators), factor.id
    for item in shipped_form.items.values():
        if item.symmetry is not None:
            assert item.symmetry.source, item.id


def _with_sources(data: dict[str, Any]) -> dict[str, Any]:
    """The mini form with a sources table describing everything it cites."""
    form = parse_form(data, "f.yaml")
    cited = {sid for _, text in citations(form) for sid in cited_sources(text)}
    data["sources"] = [{"id": sid, "description": f"source {sid}"} for sid in sorted(cited)]
    return data


@pytest.mark.parametrize(
    ("citation", "ids"),
    [
        ("S1", ("S1",)),
        ("S0, S1", ("S0", "S1")),
        ("S3; domain §6 (steady mild pain read as green, clinic default)", ("S3", "domain")),
        ("S1, S3 (20%: clinic default; no seed number)", ("S1", "S3")),
        ("domain §1 (about equal); 10% clinic default", ("domain", "")),
        ("(no id)", ("",)),
    ],
)
def test_citations_name_their_sources(citation: str, ids: tuple[str, ...]) -> None:
    assert cited_sources(citation) == ids


def test_sources_table_describes_what_is_cited(mini_data: dict[str, Any]) -> None:
    form = parse_form(_with_sources(mini_data), "f.yaml")
    assert form.source("S0") is not None
    assert form.source("S0").description == "source S0"  # type: ignore[union-attr]
    assert form.source("S9") is None


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["sections"][0]["items"][1].update(source="S9 (a typo)"),
            "sections[0].items[1].source: unknown source 'S9' (not in the sources table)",
        ),
        (
            lambda d: d["factors"][0].update(sources=["S0", "Z1"]),
            "factors[0].sources[1]: unknown source 'Z1' (not in the sources table)",
        ),
        (
            lambda d: d["factors"][0]["indicators"][0].update(source="S0, §2"),
            "factors[0].indicators[0].source: 'S0, §2' has a reference without a source id",
        ),
        (
            lambda d: d["red_flags"][0].update(sources=["nobody"]),
            "red_flags[0].sources[0]: unknown source 'nobody' (not in the sources table)",
        ),
        (
            lambda d: d["sources"].append(dict(d["sources"][0])),
            "sources[{last}].id: source 'S0' appears twice",
        ),
        (
            lambda d: d.update(plan_section="nowhere"),
            "plan_section: unknown section 'nowhere'",
        ),
    ],
)
def test_unknown_sources_are_refused_in_one_line(mini_data, mutate, expected: str) -> None:
    data = _with_sources(mini_data)
    mutate(data)
    with pytest.raises(FormError) as info:
        parse_form(data, "f.yaml")
    assert info.value.problems == [f"f.yaml: {expected.format(last=len(data['sources']) - 1)}"]


def test_unknown_source_in_a_form_file_fails_check_form(write_form, shipped_data, capsys) -> None:
    from clinic_app.cli import main

    shipped_data["factors"][2]["sources"].append("S7")
    path = write_form(shipped_data)
    assert main(["check-form", str(path)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == f"{path}: factors[2].sources[2]: unknown source 'S7' (not in the sources table)"


def test_a_form_without_a_sources_table_cites_freely(mini_data: dict[str, Any]) -> None:
    """Snapshots stored before the table existed must still open."""
    mini_data["sections"][0]["items"][1]["source"] = "anything at all"
    assert parse_form(mini_data, "f.yaml").sources == ()


def test_shipped_form_describes_every_source_it_cites(shipped_form) -> None:
    ids = [s.id for s in shipped_form.sources]
    assert ids[:4] == ["S0", "S1", "S2", "S3"]
    cited = {sid for _, text in citations(shipped_form) for sid in cited_sources(text)}
    assert cited == set(ids)
    assert all(s.description for s in shipped_form.sources)
    assert shipped_form.plan_section == "assessment_plan"
    assert shipped_form.body_chart_item is not None
    assert shipped_form.body_chart_item.id == "pain_location"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (3, "3"), (3.5, "3+"), (4.5, "4+"), (5, "5"), (5.0, "5")],
)
def test_mmt_grades_are_written_as_clinicians_write_them(value: float, text: str) -> None:
    assert mmt_grade(value) == text
