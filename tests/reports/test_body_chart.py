"""The shipped body chart: all regions on both sides, mirrored, inside the body outline."""

from __future__ import annotations

import pytest

from clinic_app.reports.body_chart import REGION_IDS, SIDES, load_body_chart


def test_all_regions_present_on_both_sides() -> None:
    chart = load_body_chart()
    assert set(chart.regions) == set(REGION_IDS)
    for region in chart.regions.values():
        assert region.label
        assert len(region.left.points) >= 3
        assert len(region.right.points) >= 3


@pytest.mark.parametrize("region_id", REGION_IDS)
def test_region_centre_hits_itself_and_sides_are_mirrored(region_id: str) -> None:
    chart = load_body_chart()
    region = chart.region(region_id)
    for side in SIDES:
        cx, cy = region.side(side).centroid()
        assert chart.hit_test(cx, cy) == (region_id, side)
    lx, ly = region.left.centroid()
    rx, ry = region.right.centroid()
    # posterior view: the patient's left is on the viewer's left
    assert lx < chart.width / 2 < rx
    assert abs((chart.width - lx) - rx) < 0.5
    assert abs(ly - ry) < 0.5


def test_regions_lie_inside_the_outline() -> None:
    chart = load_body_chart()
    outline = chart.outline[0]
    for region_id, side, polygon in chart.shapes():
        cx, cy = polygon.centroid()
        assert outline.contains(cx, cy), (region_id, side)


def test_outside_the_body_is_no_region() -> None:
    chart = load_body_chart()
    assert chart.hit_test(5, 5) is None
    assert chart.hit_test(chart.width / 2, chart.height - 10) is None
