"""The posterior body chart: typed geometry shared by the Qt widget and the PDF drawing.

The chart lives in ``resources/body_chart.json`` (drawn for this project). Coordinates are in a
``viewbox`` of ``width`` × ``height`` units with y growing *downwards* (screen convention); the PDF
drawing flips it. The view is from behind, so the patient's left side is on the viewer's left.

Pure Python on purpose (core): no Qt and no reportlab here, so the GUI and the reports read one
file and cannot disagree about where a region is. The region ids live only in that file and in the
choices of the form's ``regions`` item; :func:`clinic_app.core.form.load_form` refuses a form whose
choices and the chart's regions disagree.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from clinic_app.paths import resources_dir

Side = Literal["left", "right"]
Point = tuple[float, float]

SIDES: tuple[Side, Side] = ("left", "right")
_REGION_ID = re.compile(r"^[a-z][a-z0-9_]*$")

logger = logging.getLogger(__name__)


class BodyChartError(ValueError):
    """The body chart file is missing a part or is malformed."""


@dataclass(frozen=True)
class Polygon:
    points: tuple[Point, ...]

    def contains(self, x: float, y: float) -> bool:
        """Even-odd ray casting; points on an edge may fall either way."""
        inside = False
        pts = self.points
        j = len(pts) - 1
        for i in range(len(pts)):
            xi, yi = pts[i]
            xj, yj = pts[j]
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                inside = not inside
            j = i
        return inside

    def bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y)."""
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)

    def centroid(self) -> Point:
        """Area centroid (falls back to the vertex mean for degenerate shapes)."""
        area = cx = cy = 0.0
        pts = self.points
        for i, (x0, y0) in enumerate(pts):
            x1, y1 = pts[(i + 1) % len(pts)]
            cross = x0 * y1 - x1 * y0
            area += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        if abs(area) < 1e-9:
            n = len(pts)
            return sum(p[0] for p in pts) / n, sum(p[1] for p in pts) / n
        return cx / (3 * area), cy / (3 * area)


@dataclass(frozen=True)
class Region:
    id: str
    label: str
    left: Polygon
    right: Polygon

    def side(self, side: Side) -> Polygon:
        return self.left if side == "left" else self.right


@dataclass(frozen=True)
class BodyChart:
    width: float
    height: float
    outline: tuple[Polygon, ...]
    details: tuple[tuple[Point, ...], ...]
    """Open polylines (spine, gluteal folds, knee creases): drawing aids, not clickable."""
    regions: Mapping[str, Region]
    """Regions in drawing order; small regions (sit bone, SI joint) never overlap larger ones."""
    path: Path | None = None
    """The file the chart was read from (None when built from data in memory)."""

    def region(self, region_id: str) -> Region:
        return self.regions[region_id]

    def shapes(self) -> Iterator[tuple[str, Side, Polygon]]:
        """Every (region id, side, polygon), in drawing order."""
        for region in self.regions.values():
            for side in SIDES:
                yield region.id, side, region.side(side)

    def hit_test(self, x: float, y: float) -> tuple[str, Side] | None:
        """The region and side under a point in chart coordinates, or None."""
        found: tuple[str, Side] | None = None
        for region_id, side, polygon in self.shapes():
            if polygon.contains(x, y):
                found = (region_id, side)  # later (drawn on top) wins
        return found


def default_body_chart_path() -> Path:
    return resources_dir() / "body_chart.json"


def _points(raw: object, where: str) -> Polygon:
    if not isinstance(raw, list) or len(raw) < 3:
        raise BodyChartError(f"{where}: expected a list of at least 3 points")
    pts: list[Point] = []
    for p in raw:
        if not (isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) for v in p)):
            raise BodyChartError(f"{where}: a point must be [x, y]")
        pts.append((float(p[0]), float(p[1])))
    return Polygon(tuple(pts))


def parse_body_chart(data: Mapping[str, object], path: Path | None = None) -> BodyChart:
    viewbox = data.get("viewbox")
    if not (isinstance(viewbox, list) and len(viewbox) == 2):
        raise BodyChartError("viewbox: expected [width, height]")
    width, height = float(viewbox[0]), float(viewbox[1])
    raw_outline = data.get("outline")
    if not isinstance(raw_outline, list) or not raw_outline:
        raise BodyChartError("outline: expected a list of polygons")
    outline = tuple(_points(p, f"outline[{i}]") for i, p in enumerate(raw_outline))
    raw_details = data.get("details", {})
    details: list[tuple[Point, ...]] = []
    if isinstance(raw_details, dict):
        for name, line in raw_details.items():
            if isinstance(line, list) and len(line) == 2:
                details.append(tuple((float(p[0]), float(p[1])) for p in line))
            else:
                details.append(_points(line, f"details.{name}").points)
    raw_regions = data.get("regions")
    if not isinstance(raw_regions, dict):
        raise BodyChartError("regions: expected a mapping of region id to region")
    if not raw_regions:
        raise BodyChartError("regions: the chart has no regions")
    bad = [str(r) for r in raw_regions if not _REGION_ID.match(str(r))]
    if bad:
        raise BodyChartError(f"regions: {bad[0]!r} is not a region id (lower case, digits, _)")
    order = data.get("region_order", list(raw_regions))
    if not isinstance(order, list):
        raise BodyChartError("region_order: expected a list")
    unknown = [str(r) for r in order if r not in raw_regions]
    if unknown:
        raise BodyChartError(f"region_order: {', '.join(unknown)} not among the regions")
    regions: dict[str, Region] = {}
    for rid in [*order, *(r for r in raw_regions if r not in order)]:
        raw = raw_regions[rid]
        if not isinstance(raw, dict):
            raise BodyChartError(f"regions.{rid}: expected a mapping")
        regions[rid] = Region(
            id=rid,
            label=str(raw.get("label", rid)),
            left=_points(raw.get("left"), f"regions.{rid}.left"),
            right=_points(raw.get("right"), f"regions.{rid}.right"),
        )
    return BodyChart(width, height, outline, tuple(details), regions, path)


@lru_cache(maxsize=4)
def load_body_chart(path: Path | None = None) -> BodyChart:
    """Load (and cache) the body chart; the default is the shipped ``resources/body_chart.json``."""
    source = path or default_body_chart_path()
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BodyChartError(f"{source}: {exc}") from exc
    if not isinstance(data, dict):
        raise BodyChartError(f"{source}: expected a JSON object")
    try:
        chart = parse_body_chart(data, source)
    except BodyChartError as exc:
        raise BodyChartError(f"{source}: {exc}") from None
    logger.debug("body chart %s: %d regions", source, len(chart.regions))
    return chart
