"""Progress charts: the description built from a fixed episode, and the layout's edge cases."""

from __future__ import annotations

import math
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic_app.core import chart as ch
from clinic_app.core.form import Form
from clinic_app.core.progress import Record

START = date(2026, 3, 2)
NORDIC = [(190, 265), (205, 270), (228, 272), (241, 276), (252, 280), (268, 282)]
LEFS = [41, 47, 52, 58, 63, 66]
GOALS = (
    SimpleNamespace(
        target={"item": "nordic_force", "measure": "deficit", "op": "<", "threshold": 10}
    ),
    SimpleNamespace(
        target={"item": "nordic_force", "side": "involved", "op": ">=", "threshold": 256}
    ),
    SimpleNamespace(target={"item": "lefs_total", "op": ">=", "threshold": 70}),
    SimpleNamespace(target=None),  # a functional goal: no line
    SimpleNamespace(target={"item": "nordic_force", "op": "bogus"}),  # unreadable: no line
)


def episode() -> list[Record]:
    """Six weekly records of one episode: Nordic force per leg and the LEFS total."""
    return [
        Record(
            i + 1,
            "initial" if i == 0 else "visit",
            START + timedelta(days=7 * i),
            {"nordic_force": {"left": left, "right": right}, "lefs_total": lefs},
        )
        for i, ((left, right), lefs) in enumerate(zip(NORDIC, LEFS, strict=True))
    ]


def visits(n: int, *, left: Any = None, right: Any = None) -> list[Record]:
    return [
        Record(
            i + 1,
            "visit",
            START + timedelta(days=2 * i),
            {
                "nordic_force": {
                    "left": 200 + i if left is None else left,
                    "right": 260 + i % 5 if right is None else right,
                }
            },
        )
        for i in range(n)
    ]


def nordic_chart(form: Form) -> ch.Chart:
    return ch.measure_chart(form, "nordic_force", episode(), GOALS, "left")


def lefs_chart(form: Form) -> ch.Chart:
    return ch.measure_chart(form, "lefs_total", episode(), GOALS, mcid=9)


def kinds(prims: tuple[ch.Primitive, ...], kind: type) -> list[Any]:
    return [p for p in prims if isinstance(p, kind)]


def data_markers(prims: tuple[ch.Primitive, ...]) -> list[ch.Marker]:
    return [m for m in kinds(prims, ch.Marker) if m.tip]


def texts(prims: tuple[ch.Primitive, ...]) -> list[str]:
    return [t.text for t in kinds(prims, ch.Text)]


# ---------------------------------------------------------------------------------------------
# the description


def test_bilateral_description(shipped_form: Form) -> None:
    chart = nordic_chart(shipped_form)
    assert chart.title == "Nordic hamstring force"
    left, right = chart.series
    assert (left.role, left.label, right.role, right.label) == (
        "left",
        "Left (painful side)",
        "right",
        "Right",
    )
    assert [p.value for p in left.points] == [190, 205, 228, 241, 252, 268]
    assert [p.value for p in right.points] == [265, 270, 272, 276, 280, 282]
    assert [p.on for p in left.points][-1] == START + timedelta(days=35)
    assert left.points[0].note == "initial"
    assert left.points[1].note == "visit"
    # the goal on the item's own scale, and the deficit goal as what the painful side must reach
    # against the other side's latest value (282 N x 90%); the gap chart draws it on the gap
    assert chart.goals == (
        ch.GoalLine(256.0, "Goal (involved side): at least 256 N"),
        ch.GoalLine(
            pytest.approx(253.8), "Goal (left side): 254 N, deficit below 10% of the right's 282 N"
        ),
    )
    assert chart.bands == ()
    lo, hi = chart.y_range
    assert lo <= 190
    assert hi >= 282
    assert chart.y_ticks[0] >= lo
    assert chart.y_ticks[-1] <= hi
    assert chart.x_range == (START, START + timedelta(days=35))
    assert chart.value_text(210) == "210 N"


def test_gap_description(shipped_form: Form) -> None:
    chart = ch.gap_chart(shipped_form, "nordic_force", episode(), GOALS, "left")
    assert chart.title == "Nordic hamstring force: deficit of the weaker side"
    (gap,) = chart.series
    assert [p.value for p in gap.points] == [28.3, 24.1, 16.2, 12.7, 10.0, 5.0]
    assert chart.bands == (ch.Band(0.0, 15.0, "deficit below 15%"),)
    assert chart.goals == (ch.GoalLine(10.0, "Goal: below 10%"),)
    assert chart.y_range[0] == 0
    assert chart.value_text(15) == "15%"


def test_gap_as_lsi_when_a_goal_is_an_lsi(shipped_form: Form) -> None:
    goal = SimpleNamespace(
        target={
            "item": "nordic_force",
            "measure": "lsi",
            "side": "involved",
            "op": ">=",
            "threshold": 90,
        }
    )
    chart = ch.gap_chart(shipped_form, "nordic_force", episode(), [goal], "left")
    assert chart.title.endswith("LSI of the left side")
    assert chart.series[0].points[0].value == round(190 / 265 * 100, 1)
    assert chart.bands[0].low == 85
    assert chart.bands[0].high == 115
    assert chart.goals == (ch.GoalLine(90.0, "Goal: at least 90%"),)
    # without the painful side there is no LSI: back to the deficit
    assert "deficit" in ch.gap_chart(shipped_form, "nordic_force", episode(), [goal]).title


def test_score_with_mcid_band_from_baseline(shipped_form: Form) -> None:
    chart = lefs_chart(shipped_form)
    assert [p.value for p in chart.series[0].points] == LEFS
    (band,) = chart.bands
    assert (band.low, band.high, band.kind) == (32, 50, "mcid")
    assert "MCID 9" in band.label
    assert chart.goals == (ch.GoalLine(70.0, "Goal: at least 70 points"),)
    assert chart.y_range[0] >= 0
    assert chart.y_range[1] <= 80
    pain = ch.score_chart(
        "Pain", [(START, 6), (START + timedelta(days=7), 3)], unit="/10", mcid=2, better="lower"
    )
    assert pain.value_text(3) == "3/10"
    assert "lower is better" in pain.bands[0].label


def test_hostile_values_are_left_out(shipped_form: Form) -> None:
    records = [
        Record(1, "initial", START, {"nordic_force": {"left": "210", "right": True}}),
        Record(
            2,
            "visit",
            START + timedelta(days=1),
            {"nordic_force": {"left": math.nan, "right": math.inf}},
        ),
        Record(3, "visit", START + timedelta(days=2), {"nordic_force": 250, "lefs_total": "x"}),
        Record(4, "visit", START + timedelta(days=3), {"nordic_force": {"left": 230}}),
        Record(5, "visit", START + timedelta(days=4), {}),
    ]
    chart = ch.measure_chart(shipped_form, "nordic_force", records)
    assert [len(s.points) for s in chart.series] == [1, 0]
    assert ch.gap_chart(shipped_form, "nordic_force", records).empty
    assert ch.measure_chart(shipped_form, "lefs_total", records).empty
    with pytest.raises(ValueError, match="slump: only numeric"):
        ch.measure_chart(shipped_form, "slump", records)
    with pytest.raises(ValueError, match="lefs_total: only bilateral"):
        ch.gap_chart(shipped_form, "lefs_total", records)
    with pytest.raises(KeyError):
        ch.measure_chart(shipped_form, "no_such_item", records)


# ---------------------------------------------------------------------------------------------
# the layout


def test_layout_of_the_episode(shipped_form: Form) -> None:
    chart = nordic_chart(shipped_form)
    prims = ch.layout(chart, 480, 240)
    frame = ch.plot_frame(chart, 480, 240)
    markers = data_markers(prims)
    assert len(markers) == 12
    assert len(kinds(prims, ch.Polyline)) == 2
    left = [m for m in markers if m.shape == "circle"]
    right = [m for m in markers if m.shape == "square"]
    assert len(left) == len(right) == 6
    assert all(m.filled for m in left)
    assert not any(m.filled for m in right)
    dashes = {p.colour: p.dash for p in kinds(prims, ch.Polyline)}
    assert dashes[ch.COLOURS["left"]] == ()
    assert dashes[ch.COLOURS["right"]] != ()
    # older visits lie further left, stronger values higher up (y grows downwards)
    assert [m.x for m in left] == sorted(m.x for m in left)
    assert left[0].y > left[-1].y
    assert all(
        frame.left <= m.x <= frame.right and frame.top <= m.y <= frame.bottom for m in markers
    )
    assert left[0].tip == "Left (painful side): 190 N\n2 Mar 2026 (initial)"
    goal = [p for p in kinds(prims, ch.Line) if p.colour == ch.GOAL_COLOUR]
    assert len(goal) == 2
    assert all(g.y1 == g.y2 for g in goal)
    assert "Goal (involved side): at least 256 N" in texts(prims)
    assert {"2 Mar", "6 Apr", "Nordic hamstring force", "Left (painful side)", "Right"} <= set(
        texts(prims)
    )


def test_layout_band(shipped_form: Form) -> None:
    chart = lefs_chart(shipped_form)
    prims = ch.layout(chart, 480, 240)
    band = [r for r in kinds(prims, ch.Rect) if r.fill == ch.BAND_FILL["mcid"] and r.h > 8]
    assert len(band) == 1
    first = data_markers(prims)[0]
    assert band[0].y < first.y < band[0].y + band[0].h  # the baseline sits inside its band


def test_no_points(shipped_form: Form) -> None:
    chart = ch.measure_chart(shipped_form, "nordic_force", [])
    prims = ch.layout(chart, 480, 240)
    assert chart.empty
    assert chart.x_range is None
    assert ch.EMPTY_TEXT in texts(prims)
    assert not data_markers(prims)
    assert not kinds(prims, ch.Polyline)
    assert not any(t.endswith(" N") for t in texts(prims))  # no value ticks for nothing


def test_one_point(shipped_form: Form) -> None:
    chart = ch.measure_chart(shipped_form, "nordic_force", visits(1, left=200, right=200))
    prims = ch.layout(chart, 480, 240)
    frame = ch.plot_frame(chart, 480, 240)
    markers = data_markers(prims)
    assert len(markers) == 2
    assert not kinds(prims, ch.Polyline)
    assert markers[0].x == markers[1].x == pytest.approx((frame.left + frame.right) / 2)
    assert markers[0].y == markers[1].y
    assert frame.top < markers[0].y < frame.bottom
    assert chart.y_range[0] < 200 < chart.y_range[1]


def test_equal_values_get_a_range() -> None:
    chart = ch.score_chart(
        "Flat", [(START + timedelta(days=i), 0) for i in range(4)], limits=(0, 80)
    )
    lo, hi = chart.y_range
    assert lo == 0 < hi
    assert len(chart.y_ticks) >= 2
    prims = ch.layout(chart, 480, 240)
    frame = ch.plot_frame(chart, 480, 240)
    ys = {m.y for m in data_markers(prims)}
    assert len(ys) == 1
    assert frame.top <= ys.pop() <= frame.bottom


def test_fifty_visits_thin_the_date_ticks(shipped_form: Form) -> None:
    chart = ch.measure_chart(shipped_form, "nordic_force", visits(55))
    prims = ch.layout(chart, 480, 240)
    frame = ch.plot_frame(chart, 480, 240)
    assert len(data_markers(prims)) == 110
    dates = [t for t in kinds(prims, ch.Text) if t.y > frame.bottom + 5]
    assert 4 <= len(dates) <= 12
    assert dates[0].text == "2 Mar"
    assert dates[-1].text == "18 Jun"
    for a, b in zip(dates, dates[1:], strict=False):
        gap = b.x - a.x
        assert gap >= (ch.text_width(a.text, a.size) + ch.text_width(b.text, b.size)) / 2 + 2


def test_values_outside_the_scale_are_marked_at_the_edge() -> None:
    chart = ch.score_chart(
        "Pain",
        [(START, 4), (START + timedelta(days=3), 3), (START + timedelta(days=9), 25)],
        unit="/10",
        limits=(0, 10),
    )
    prims = ch.layout(chart, 480, 240)
    frame = ch.plot_frame(chart, 480, 240)
    off = [m for m in data_markers(prims) if m.shape == "up"]
    assert len(off) == 1
    assert off[0].y == frame.top
    assert "25/10 (off the scale)" in off[0].tip
    below = ch.score_chart("Pain", [(START, -40), (START + timedelta(days=3), 3)], limits=(0, 10))
    assert [m.shape for m in data_markers(ch.layout(below, 480, 240))] == ["down", "circle"]


def test_long_title_is_elided(shipped_form: Form) -> None:
    chart = ch.score_chart("Lower extremity functional scale " * 8, [(START, 40)])
    title = kinds(ch.layout(chart, 300, 200), ch.Text)[0]
    assert title.text.endswith("…")
    assert title.bold
    assert title.x + ch.text_width(title.text, title.size, True) <= 300 - 6


@pytest.mark.parametrize("size", [(480, 240), (1200, 500), (281, 161), (60, 40), (0, 0)])
def test_everything_stays_in_the_box(shipped_form: Form, size: tuple[int, int]) -> None:
    w, h = size
    for chart in (
        nordic_chart(shipped_form),
        lefs_chart(shipped_form),
        ch.measure_chart(shipped_form, "nordic_force", visits(60)),
    ):
        for p in ch.layout(chart, w, h):
            if isinstance(p, ch.Text):
                assert (
                    p.x - (ch.text_width(p.text, p.size, p.bold) if p.anchor == "end" else 0) >= -1
                )
            elif isinstance(p, ch.Marker | ch.Rect):
                assert -1 <= p.x <= w + 1
                assert -1 <= p.y <= h + 1


@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=30))
def test_nice_range_covers_the_values(values: list[float]) -> None:
    (lo, hi), ticks = ch.nice_range(values)
    slack = (hi - lo) * 1e-6
    assert lo < hi
    assert lo <= min(values) + slack
    assert hi >= max(values) - slack
    assert 2 <= len(ticks) <= 12
    assert list(ticks) == sorted(ticks)
    assert lo - slack <= ticks[0]
    assert ticks[-1] <= hi + slack


def test_other_item_types(shipped_form: Form) -> None:
    records = [
        Record(
            i,
            "visit",
            START + timedelta(days=10 * i),
            {
                "knee_flex_mmt_90": {"left": 3 + i / 2, "right": 5},
                "slr_deg": {"left": 55 + 5 * i, "right": 80},
                "pain_now": 7 - i,
            },
        )
        for i in reversed(range(5))  # newest first: the chart puts them in date order
    ]
    mmt = ch.measure_chart(shipped_form, "knee_flex_mmt_90", records)
    assert mmt.y_ticks == (0, 1, 2, 3, 4, 5)
    assert mmt.value_text(4) == "4/5"
    assert [p.value for p in mmt.series[0].points] == [3, 3.5, 4, 4.5, 5]
    grades = ch.gap_chart(shipped_form, "knee_flex_mmt_90", records)
    assert grades.value_text(2) == "2 grades"
    assert [p.value for p in grades.series[0].points] == [2, 1.5, 1, 0.5, 0]
    slr = ch.gap_chart(shipped_form, "slr_deg", records)
    assert slr.value_text(7) == "7°"
    assert slr.bands[0].label.startswith("below ")
    assert "measurement noise" in slr.bands[0].label
    pain = ch.measure_chart(shipped_form, "pain_now", records, mcid=2, better="lower")
    assert pain.value_text(3) == "3/10"
    assert [p.value for p in pain.series[0].points] == [7, 6, 5, 4, 3]
    assert (pain.bands[0].low, pain.bands[0].high) == (5, 9)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=10))
def test_nice_range_of_anything_is_finite_and_short(values: list[float]) -> None:
    (lo, hi), ticks = ch.nice_range(values)
    assert math.isfinite(lo)
    assert math.isfinite(hi)
    assert lo < hi
    assert 1 <= len(ticks) <= 50


def test_hostile_numbers_draw_quickly() -> None:
    for values in ([1e308, -1e308], [1e15, 1e15 + 0.001], [5e-324, 1e-300], [-0.0, 0.0]):
        chart = ch.score_chart(
            "Hostile", [(START + timedelta(days=i), v) for i, v in enumerate(values)]
        )
        prims = ch.layout(chart, 480, 240)
        assert len(data_markers(prims)) == 2
