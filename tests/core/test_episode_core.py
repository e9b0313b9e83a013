"""The pure parts of the episode of care: visit layout, rows values, goal targets, progress."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clinic_app.core import findings as fm
from clinic_app.core import goals, progress, visit
from clinic_app.core.form import Form, FormError, Leaf, load_form, parse_form
from clinic_app.paths import default_form_path


@pytest.fixture(scope="module")
def form() -> Form:
    return load_form(default_form_path())


def leaf(**kw: Any) -> Leaf:
    return Leaf.model_validate(kw)


def findings(form: Form, **values: Any) -> fm.Findings:
    return fm.validate(form, {"values": values})


# -- what a visit note shows -----------------------------------------------------------------


def test_evaluation_pages_leave_out_the_visit_pages(form: Form) -> None:
    ids = [s.id for s in visit.evaluation_sections(form)]
    assert "visit_subjective" not in ids
    assert ids[0] == "subjective"
    assert all(s.record != "visit" for s in visit.evaluation_sections(form))


def test_visit_pages_include_todays_pain_and_the_remeasured_page_second(form: Form) -> None:
    pages = visit.visit_sections(form, ["slr_deg", "nordic_force", "no_such_item"])
    assert [p.id for p in pages][:2] == ["visit_subjective", visit.REMEASURED_SECTION]
    assert pages[0].items[0].id == "pain_now"  # included, shown first
    assert [i.id for i in pages[1].items] == ["nordic_force", "slr_deg"]  # in form order
    assert visit.REMEASURED_SECTION not in [p.id for p in visit.visit_sections(form)]


def test_remeasurable_items_exclude_the_plan_and_what_visits_ask(form: Form) -> None:
    ids = {i.id for i in visit.remeasurable_items(form)}
    assert "nordic_force" in ids
    assert "pain_now" not in ids  # the visit's subjective page asks it
    assert not ids & {i.id for i in form.sections[-5].items}  # the assessment and plan page
    assert visit.remeasured_in(form, {"nordic_force": {"left": 200}, "hep_days": 3}) == (
        "nordic_force",
    )


def test_search_finds_items_by_every_word(form: Form) -> None:
    assert [i.id for i in visit.search_items(form, "nordic")] == ["nordic_force"]
    assert "slr_deg" in [i.id for i in visit.search_items(form, "straight leg")]
    assert visit.search_items(form, "   ") == ()
    assert visit.search_items(form, "zzz no match") == ()


# -- the rows type -----------------------------------------------------------------------------


def test_rows_are_stored_as_typed_with_blank_cells_left_out(form: Form) -> None:
    rows = [{"kind": "exercise", "name": " Nordic curl ", "sets": 3, "reps": 6, "load": ""}]
    got = findings(form, interventions=rows).to_dict()["values"]["interventions"]
    assert got == [{"kind": "exercise", "name": "Nordic curl", "sets": 3, "reps": 6}]


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([{}], "row 1: the row is empty"),
        ([{"kind": "exercise"}], "row 1: What is required"),
        ([{"kind": "yoga", "name": "x"}], "'yoga' is not one of"),
        ([{"kind": "manual", "name": "x", "sets": 0}], "outside 1-20"),
        ([{"kind": "manual", "name": "x", "sets": 2.5}], "must be a whole number"),
        ([{"kind": "manual", "name": "x", "sets": True}], "is not a number"),
        ([{"kind": "manual", "name": "a\nb"}], "control character"),
        ([{"kind": "manual", "name": "x" * 121}], "the limit is 120"),
        ([{"kind": "manual", "name": "x", "colour": "red"}], "is not a column"),
        ([{"kind": "manual", "name": "x"}] * 31, "31 rows, the limit is 30"),
        ({"kind": "manual"}, "expected a list of rows"),
        ("Nordic", "expected a list of rows"),
    ],
)
def test_bad_rows_are_refused_naming_the_row(form: Form, rows: Any, problem: str) -> None:
    with pytest.raises(fm.FindingsError) as err:
        findings(form, interventions=rows)
    assert problem in str(err.value)
    assert str(err.value).startswith("interventions")


def test_rows_read_as_one_line_each(form: Form) -> None:
    from clinic_app.core.engine import format_value

    f = findings(
        form,
        interventions=[
            {"kind": "exercise", "name": "Nordic curl", "sets": 3, "reps": 6, "minutes": 10},
            {"kind": "education", "name": "Load advice"},
        ],
    )
    shown = format_value(form.item("interventions"), f.values["interventions"])
    assert shown == "Exercise, Nordic curl, sets 3, reps 6, 10 min; Education, Load advice"


def _form_with(section_extra: dict[str, Any], item_extra: dict[str, Any]) -> dict[str, Any]:
    item = {"id": "x", "label": "X", "type": "number", "range": {"min": 0, "max": 9}}
    item.update(item_extra)
    item.setdefault("source", "S0")
    section = {
        "id": "s",
        "title": "S",
        "items": [
            item,
            {
                "id": "side",
                "label": "Side",
                "type": "choice",
                "source": "S0",
                "choices": [{"id": "left", "label": "L"}, {"id": "right", "label": "R"}],
            },
        ],
    }
    section.update(section_extra)
    return {
        "id": "f",
        "version": 1,
        "title": "F",
        "involved_side_item": "side",
        "sections": [section],
    }


@pytest.mark.parametrize(
    ("section", "item", "problem"),
    [
        ({}, {"type": "rows", "range": None}, "a rows item needs columns"),
        ({}, {"columns": [{"id": "a", "label": "A", "type": "text"}]}, "other types take none"),
        ({}, {"mcid": 2, "bilateral": True}, "mcid is only for one-sided"),
        ({"include": ["nope"]}, {}, "unknown item 'nope'"),
        ({"include": ["x"]}, {}, "already in this section"),
        ({"record": "sometimes"}, {}, "record"),
    ],
)
def test_form_refuses_bad_visit_layout(
    section: dict[str, Any], item: dict[str, Any], problem: str
) -> None:
    data = _form_with(section, {k: v for k, v in item.items() if v is not None})
    if item.get("range", 1) is None:
        data["sections"][0]["items"][0].pop("range")
    with pytest.raises(FormError) as err:
        parse_form(data, "f.yaml")
    assert problem in str(err.value)


# -- goal targets ------------------------------------------------------------------------------


def test_a_deficit_goal_is_met_by_equal_sides(form: Form) -> None:
    target = leaf(item="nordic_force", measure="deficit", op="<", threshold=10)
    got = goals.read(form, findings(form, nordic_force={"left": 280, "right": 280}), target)
    assert got.met is True
    assert got.quantity == 0
    assert got.text == "L 280 N / R 280 N (0% deficit)"


def test_a_deficit_goal_at_exactly_the_threshold_is_not_met(form: Form) -> None:
    target = leaf(item="nordic_force", measure="deficit", op="<", threshold=25)
    got = goals.read(form, findings(form, nordic_force={"left": 210, "right": 280}), target)
    assert (got.quantity, got.met) == (25.0, False)


def test_lsi_needs_the_painful_side(form: Form) -> None:
    target = leaf(item="heel_raise_reps", measure="lsi", side="involved", op=">=", threshold=90)
    f = findings(form, heel_raise_reps={"left": 18, "right": 25})
    assert goals.read(form, f, target).met is None  # painful side unknown
    left = goals.read(form, f, target, involved="left")
    assert (round(left.quantity or 0), left.met) == (72, False)
    assert goals.read(form, f, target, involved="right").met is True


def test_a_category_goal_reads_the_painful_side(form: Form) -> None:
    target = leaf(item="slump", side="involved", **{"in": ["negative"]})
    f = findings(form, involved_side="left", slump={"left": "positive", "right": "negative"})
    assert goals.read(form, f, target).met is False
    assert goals.read(form, f, target, involved="right").met is True


def test_mmt_goals_are_read_in_grades(form: Form) -> None:
    target = leaf(item="knee_flex_mmt_90", measure="difference", op="<", threshold=1)
    f = findings(form, knee_flex_mmt_90={"left": 4, "right": 5})
    got = goals.read(form, f, target)
    assert got.text == "L 4/5 / R 5/5 (1 grade difference)"
    assert got.met is False


@pytest.mark.parametrize(
    ("baseline", "latest", "day", "status"),
    [
        (210, 275, date(2026, 10, 1), "met"),
        (210, 240, date(2026, 10, 1), "progressing"),
        (240, 210, date(2026, 10, 1), "not_started"),
        (210, 240, date(2026, 12, 1), "not_met"),  # past the target date
        (None, None, date(2026, 10, 1), "not_started"),
    ],
)
def test_status_suggestions(
    form: Form, baseline: int | None, latest: int | None, day: date, status: str
) -> None:
    target = leaf(item="nordic_force", measure="deficit", op="<", threshold=10)

    def f(left: int | None) -> fm.Findings:
        return findings(form, **({"nordic_force": {"left": left, "right": 280}} if left else {}))

    got = goals.suggest(
        form, target, f(baseline), f(latest), target_date=date(2026, 11, 1), today=day
    )
    assert got.status == status, got.reason


def test_a_functional_goal_is_the_clinicians_to_judge(form: Form) -> None:
    got = goals.suggest(
        form, None, None, None, target_date=date(2026, 1, 1), today=date(2026, 2, 1)
    )
    assert got.status == "not_met"
    assert "your judgement" in got.reason


def test_suggested_goals_follow_the_fired_factors(form: Form) -> None:
    drafts = goals.suggested_goals(form, ["F6", "F999"], date(2026, 9, 1))
    assert [d.factor_id for d in drafts] == ["F6", "F6"]
    assert drafts[0].target_date == date(2026, 10, 13)  # 6 weeks
    assert drafts[0].target is not None
    assert Leaf.model_validate(drafts[0].target).item == "nordic_force"


# -- progress over an episode -------------------------------------------------------------------


def test_progress_keeps_each_sides_first_and_last_value(form: Form) -> None:
    recs = [
        progress.Record(1, "initial", date(2026, 9, 1), {"nordic_force": {"left": 210}}),
        progress.Record(2, "visit", date(2026, 9, 8), {"nordic_force": {"right": 280}}),
        progress.Record(3, "visit", date(2026, 9, 15), {"nordic_force": {"left": 260}}),
    ]
    (nordic,) = progress.item_progress(form, recs)
    assert nordic.baseline == {"left": 210, "right": 280}
    assert nordic.latest == {"left": 260, "right": 280}
    assert nordic.times == 3
    assert nordic.change() == "L +50 N · R no change"
    assert nordic.latest_text() == "L 260 N / R 280 N (7% deficit)"


def test_goal_progress_reads_the_merged_latest_values(form: Form) -> None:
    class G:
        id, term, text, status = 1, "short", "Nordic gap", "progressing"
        target = {"item": "nordic_force", "measure": "deficit", "op": "<", "threshold": 10}
        target_date = None

    recs = [
        progress.Record(
            1, "initial", date(2026, 9, 1), {"nordic_force": {"left": 210, "right": 280}}
        ),
        progress.Record(2, "visit", date(2026, 9, 8), {"nordic_force": {"left": 270}}),
    ]
    (got,) = progress.goal_progress(form, [G()], recs, involved="left", today=date(2026, 9, 9))
    assert got.suggested == "met"
    assert got.target_words == "Nordic hamstring force deficit below 10%"
    assert got.suggestion.baseline is not None
    assert got.suggestion.baseline.quantity == 25.0
