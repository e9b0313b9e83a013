"""The body chart: geometry from resources/body_chart.json, region ids only there and in the form.

The shipped chart has every region on both sides, mirrored, inside the outline; a form whose
``regions`` item and the chart disagree is refused at load time with one located line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clinic_app.cli import main
from clinic_app.core.body_chart import (
    SIDES,
    BodyChartError,
    default_body_chart_path,
    load_body_chart,
    parse_body_chart,
)
from clinic_app.core.form import FormError, check_body_chart, load_form
from clinic_app.paths import default_form_path

SHIPPED_REGIONS = tuple(load_form(default_form_path()).body_chart_item.allowed)  # type: ignore[union-attr]


def chart_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(default_body_chart_path().read_text(encoding="utf-8"))
    return data


def test_shipped_chart_draws_exactly_the_forms_regions_on_both_sides() -> None:
    chart = load_body_chart()
    assert set(chart.regions) == set(SHIPPED_REGIONS)
    assert chart.path == default_body_chart_path()
    for region in chart.regions.values():
        assert region.label
        assert len(region.left.points) >= 3
        assert len(region.right.points) >= 3


@pytest.mark.parametrize("region_id", SHIPPED_REGIONS)
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


def test_core_body_chart_needs_no_qt_and_no_reportlab() -> None:
    import subprocess
    import sys

    code = (
        "import sys, clinic_app.core.body_chart as b; b.load_body_chart();"
        "assert 'reportlab' not in sys.modules and 'PySide6' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(regions={}), "regions: the chart has no regions"),
        (lambda d: d.update(region_order=["calf", "elbow"]), "region_order: elbow not among"),
        (lambda d: d["regions"].update({"Bad-Id": d["regions"]["calf"]}), "'Bad-Id' is not"),
        (lambda d: d["regions"]["calf"].update(left=[[1, 2]]), "regions.calf.left: expected"),
    ],
)
def test_malformed_chart_is_refused_with_its_place(mutate: Any, expected: str) -> None:
    data = chart_data()
    mutate(data)
    with pytest.raises(BodyChartError, match=expected.replace("(", r"\(")):
        parse_body_chart(data)


def _write_chart(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "chart.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _pain_choices(data: dict[str, Any]) -> list[dict[str, str]]:
    for section in data["sections"]:
        for item in section["items"]:
            if item["type"] == "regions":
                choices: list[dict[str, str]] = item["choices"]
                return choices
    raise AssertionError("the shipped form has no regions item")


def test_form_offering_a_region_the_chart_lacks_is_refused(
    write_form, shipped_data, tmp_path
) -> None:
    chart = chart_data()
    del chart["regions"]["calf"]
    chart["region_order"] = [r for r in chart.get("region_order", []) if r != "calf"]
    chart_path = _write_chart(tmp_path, chart)
    form_path = write_form(shipped_data)
    with pytest.raises(FormError) as err:
        load_form(form_path, body_chart=chart_path)
    [line] = err.value.problems
    assert line.startswith(f"{form_path}: sections[0].items[")
    assert ".choices: item 'pain_location' and " in line
    assert str(chart_path) in line
    assert "not on the chart: calf" in line
    assert "on the chart but not offered" not in line


def test_chart_region_missing_from_the_form_is_refused_by_check_form(
    write_form, shipped_data, capsys
) -> None:
    data = shipped_data
    choices = _pain_choices(data)
    choices[:] = [c for c in choices if c["id"] not in ("thigh_upper", "si_joint")]
    choices.append({"id": "elbow", "label": "Elbow"})
    path = write_form(data)
    assert main(["check-form", str(path)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"{path}: sections[0].items[")
    assert "not on the chart: elbow" in line
    assert "on the chart but not offered: thigh_upper, si_joint" in line


def test_unreadable_chart_is_one_form_error_line(write_form, shipped_data, tmp_path) -> None:
    path = write_form(shipped_data)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(FormError) as err:
        load_form(path, body_chart=broken)
    [line] = err.value.problems
    assert line.startswith(f"{path}: (body chart): {broken}: ")


def test_agreeing_form_and_chart_have_no_problems(shipped_form) -> None:
    assert check_body_chart(shipped_form, load_body_chart()) == []
