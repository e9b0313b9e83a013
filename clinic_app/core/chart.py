"""Progress charts: one description and one geometry for the PDF and the screen.

Design. A chart is described once, here, as plain data (:class:`Chart`: title, unit, the date
range, the value range with its ticks, the series of dated points, the bands and the goal
lines), built from an episode's records by :func:`measure_chart` / :func:`gap_chart` or from
any dated scores by :func:`score_chart`. :func:`layout` then turns a chart into *primitives*
(lines, polylines, rectangles, markers, texts) in points for a given box. Every decision (the
scale, which ticks to keep, where a label goes, which title to shorten, how an off-scale value
is marked, what a hover shows) is taken in ``layout``; the two backends are painters only:
``reports/chart_pdf.py`` puts the primitives on a reportlab canvas (a Flowable, or a
``Drawing``) and ``ui/chart_widget.py`` paints them with QPainter. So the printed chart and the
one on screen cannot disagree, both are tested through the same numbers, and no chart library
is needed (QtCharts would add 160 MB of PySide6-Addons; reportlab rendered to SVG for a
QSvgWidget would need QtSvg, lose hover, and re-render the whole SVG at every widget size).

Coordinates: points (1/72 inch; one logical pixel on screen), origin at the top-left of the
box, **y grows downwards** (as in Qt). The PDF painter flips y (reportlab's y grows upwards).
Text positions are the text's baseline; ``anchor`` says which end of the text sits at ``x``.

Grey print: left and right differ by marker (filled circle / open square) and dash (solid /
dashed) besides their colour; bands are light fills, goal lines dash-dotted with their words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from clinic_app.core.chart_goals import painful_side_targets
from clinic_app.core.engine import format_value
from clinic_app.core.form import NUMERIC_TYPES, Form, Item, ItemType, Leaf
from clinic_app.core.symmetry import compare, lsi

Role = Literal["left", "right", "score", "gap"]
Anchor = Literal["start", "middle", "end"]
Shape = Literal["circle", "square", "diamond", "up", "down"]

EMPTY_TEXT = "Not measured yet in this episode"
FONT = "DejaVu Sans"  # both painters use the DejaVu Sans the reports embed

TEXT = "#1d2733"
MUTED = "#5b6673"
GRID = "#d5dae0"
AXIS = "#8a949e"
COLOURS: dict[str, str] = {
    "left": "#1f5f8b",
    "right": "#e0813a",
    "score": "#1f3b57",
    "gap": "#3d4854",
}
SHAPES: dict[str, Shape] = {
    "left": "circle",
    "right": "square",
    "score": "circle",
    "gap": "diamond",
}
FILLED: dict[str, bool] = {"left": True, "right": False, "score": True, "gap": True}
DASHES: dict[str, tuple[float, ...]] = {"left": (), "right": (5.0, 3.0), "score": (), "gap": ()}
BAND_FILL = {"threshold": "#e4e8ed", "mcid": "#dde7f0"}
GOAL_COLOUR = "#2f6b3a"
GOAL_DASH = (6.0, 2.0, 1.5, 2.0)


@dataclass(frozen=True)
class Point:
    on: date
    value: float
    note: str = ""  # e.g. the record kind ("visit", "re-evaluation")


@dataclass(frozen=True)
class Series:
    label: str
    role: Role
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Band:
    """A horizontal band of values, e.g. "within 15%" of the sides or baseline ± MCID."""

    low: float
    high: float
    label: str
    kind: Literal["threshold", "mcid"] = "threshold"


@dataclass(frozen=True)
class GoalLine:
    value: float
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    x_range: tuple[date, date] | None  # None when nothing is measured yet
    y_range: tuple[float, float]
    y_ticks: tuple[float, ...]
    series: tuple[Series, ...] = ()
    bands: tuple[Band, ...] = ()
    goals: tuple[GoalLine, ...] = ()
    value_format: str = "{:g}"  # how a value reads on the axis and in a hover ("{:g} N")

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)

    def value_text(self, value: float) -> str:
        return self.value_format.format(value)


# ---------------------------------------------------------------------------------------------
# scales


def nice_step(span: float, count: int = 5) -> float:
    """A 1-2-2.5-5 x 10^n step giving about ``count`` intervals over ``span``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= m * power * (1 + 1e-9):
            return m * power
    return 10 * power


def nice_range(
    values: Iterable[float], *, limits: tuple[float, float] | None = None, count: int = 5
) -> tuple[tuple[float, float], tuple[float, ...]]:
    """A value range covering ``values`` on nice ticks, kept within ``limits`` (the item's
    expected range) when given; equal values get a range around them."""
    edge = limits if limits is not None else (-1e9, 1e9)  # no chart needs more than a billion
    finite = [min(max(v, edge[0]), edge[1]) for v in values if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (limits or (0.0, 1.0))
    if hi - lo < max(1e-9, abs(hi) * 1e-9):
        pad = max(abs(lo) * 0.1, 1.0)
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, count)
    low, high = lo, hi
    lo, hi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    # a value on the edge would hide in the frame: one more step of room, within the limits
    lo -= step if low - lo < step * 0.05 and low != 0 else 0
    hi += step if hi - high < step * 0.05 else 0
    if limits is not None:
        lo, hi = max(lo, limits[0]), min(hi, limits[1])
    first = math.ceil(lo / step - 1e-9) * step
    n = min(int((hi - first) / step + 1e-6) + 1, 50)
    return (lo, hi), tuple(round(first + i * step, 10) for i in range(n))


# ---------------------------------------------------------------------------------------------
# chart descriptions


def score_chart(
    title: str,
    points: Sequence[tuple[date, float]] | Sequence[Point],
    *,
    unit: str = "points",
    mcid: float | None = None,
    better: Literal["higher", "lower"] = "higher",
    limits: tuple[float, float] | None = None,
    goals: Sequence[GoalLine] = (),
    label: str = "Score",
) -> Chart:
    """A score over time (a questionnaire, pain, a one-sided number), with the band of
    baseline ± MCID when ``mcid`` is given: a later score outside it is a real change.
    ``better`` names which way is improvement (it only words the band)."""
    pts = tuple(
        sorted(
            (p if isinstance(p, Point) else Point(p[0], float(p[1])) for p in points),
            key=lambda p: p.on,
        )
    )
    bands: tuple[Band, ...] = ()
    if mcid is not None and mcid > 0 and pts:
        base = pts[0].value
        way = "higher" if better == "higher" else "lower"
        bands = (
            Band(base - mcid, base + mcid, f"baseline ± MCID {mcid:g} ({way} is better)", "mcid"),
        )
    fmt = _unit_format(unit)
    return _chart(title, unit, (Series(label, "score", pts),), bands, tuple(goals), limits, fmt)


def measure_chart(
    form: Form,
    item_id: str,
    records: Sequence[Any],
    goals: Sequence[Any] = (),
    involved: str | None = None,
    *,
    mcid: float | None = None,
    better: Literal["higher", "lower"] = "higher",
) -> Chart:
    """A numeric item over an episode's records (``core.progress.Record``, oldest first): left
    and right for a bilateral item, else the value (with baseline ± ``mcid`` when given, the
    ``better`` way worded). Goal targets on this item's own value become labelled lines."""
    item = form.items[item_id]
    if item.type not in NUMERIC_TYPES:
        raise ValueError(f"{item_id}: only numeric items can be charted")
    fmt = _value_format(item)
    lines = tuple(_goal_lines(form, item, goals, ("value",), involved))
    limits = _limits(item)
    if not item.bilateral:
        pts = tuple(
            Point(r.on, float(v), r.kind.replace("_", "-"))
            for r in records
            if _number(v := r.values.get(item_id)) is not None
        )
        one = score_chart(
            item.label, pts, unit=item.unit, mcid=mcid, better=better, label=item.label
        )
        return _chart(item.label, item.unit, one.series, one.bands, lines, limits, fmt)
    series = []
    sides: tuple[Role, Role] = ("left", "right")
    for side in sides:
        pts = tuple(
            Point(r.on, float(v), r.kind.replace("_", "-"))
            for r in records
            if isinstance(pair := r.values.get(item_id), Mapping)
            and _number(v := pair.get(side)) is not None
        )
        label = side.capitalize() + (" (painful side)" if involved == side else "")
        series.append(Series(label, side, pts))
    # A side-to-side goal, as the value the painful side must reach (core/chart_goals.py).
    targets = painful_side_targets(item, _leaves(goals), records, involved)
    lines += tuple(GoalLine(v, words) for v, words in targets)
    chart = _chart(item.label, item.unit, tuple(series), (), lines, limits, fmt)
    if item.type is ItemType.MMT:  # whole grades on the axis, 0-5
        chart = replace(chart, y_range=(0.0, 5.25), y_ticks=(0.0, 1.0, 2.0, 3.0, 4.0, 5.0))
    return chart


def gap_chart(
    form: Form,
    item_id: str,
    records: Sequence[Any],
    goals: Sequence[Any] = (),
    involved: str | None = None,
) -> Chart:
    """The side-to-side gap of a bilateral number over the records: the deficit % of the weaker
    side (the absolute difference for degrees, grades for MMT), or the LSI of the painful side
    when a goal on this item is written as an LSI and the painful side is known. The band is the
    item's symmetry threshold (the gap that counts); goal targets on the gap are lines."""
    item = form.items[item_id]
    if not item.bilateral or item.type not in NUMERIC_TYPES:
        raise ValueError(f"{item_id}: only bilateral numbers have a side-to-side gap")
    side = involved if involved in ("left", "right") else None
    leaves = [leaf for leaf in _leaves(goals) if leaf.item == item_id]
    use_lsi = (
        side is not None
        and item.type is not ItemType.MMT
        and any(leaf.measure == "lsi" for leaf in leaves)
    )
    method = item.symmetry.method if item.symmetry else "deficit"
    if item.type is ItemType.MMT:
        method = "difference"
    threshold = item.symmetry.threshold if item.symmetry else None
    pts = []
    for r in records:
        pair = r.values.get(item_id)
        if not isinstance(pair, Mapping):
            continue
        left, right = _number(pair.get("left")), _number(pair.get("right"))
        if left is None or right is None:
            continue
        if use_lsi:
            assert side is not None
            mine, theirs = (left, right) if side == "left" else (right, left)
            value = lsi(mine, theirs)
        else:
            asym = compare(item, left, right, None)
            value = asym.difference if method == "difference" else asym.deficit_pct
        if value is not None:
            pts.append(Point(r.on, round(value, 1), r.kind.replace("_", "-")))
    bands: tuple[Band, ...] = ()
    limits: tuple[float, float] | None
    unit, fmt = "%", "{:g}%"
    if use_lsi:
        title, limits = f"{item.label}: LSI of the {side} side", (0.0, 200.0)
        if threshold is not None and method == "deficit":
            bands = (
                Band(100 - threshold, 100 + threshold, f"within {threshold:g}% of the other side"),
            )
        measures: tuple[str, ...] = ("lsi",)
    elif method == "difference":
        unit = "grades" if item.type is ItemType.MMT else item.unit
        title, fmt = f"{item.label}: side-to-side difference", _unit_format(unit)
        rng = item.value_range
        limits = (0.0, float(rng.max - rng.min)) if rng is not None else None
        if threshold is not None:
            bands = (Band(0.0, threshold, f"below {fmt.format(threshold)} (measurement noise)"),)
        measures = ("difference",)
    else:
        title, limits = f"{item.label}: deficit of the weaker side", (0.0, 100.0)
        if threshold is not None:
            bands = (Band(0.0, threshold, f"deficit below {threshold:g}%"),)
        measures = ("deficit",)
    lines = tuple(_goal_lines(form, item, goals, measures, involved))
    series = (Series("LSI" if use_lsi else "Gap", "gap", tuple(pts)),)
    return _chart(title, unit, series, bands, lines, limits, fmt)


def _chart(
    title: str,
    unit: str,
    series: tuple[Series, ...],
    bands: tuple[Band, ...],
    goals: tuple[GoalLine, ...],
    limits: tuple[float, float] | None,
    fmt: str,
) -> Chart:
    series = tuple(replace(s, points=tuple(sorted(s.points, key=lambda p: p.on))) for s in series)
    points = [p for s in series for p in s.points]
    values = [p.value for p in points]
    values += [g.value for g in goals] + [v for b in bands for v in (b.low, b.high)]
    y_range, ticks = nice_range(values, limits=limits)
    x_range = (min(p.on for p in points), max(p.on for p in points)) if points else None
    return Chart(title, unit, x_range, y_range, ticks, series, bands, goals, fmt)


def _unit_format(unit: str) -> str:
    return "{:g}" + (unit if unit[:1] in ("/", "%", "°") else f" {unit}" if unit else "")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _limits(item: Item) -> tuple[float, float] | None:
    rng = item.value_range
    return (float(rng.min), float(rng.max)) if rng is not None else None


def _value_format(item: Item) -> str:
    if item.type is ItemType.MMT:
        return "{:g}/5"
    sample = format_value(item, 7.0)  # "7 N", "7°", "7/10", "7 reps"
    return sample.replace("7", "{:g}", 1) if "7" in sample else "{:g}"


def _leaves(goals: Sequence[Any]) -> Iterable[Leaf]:
    for goal in goals:
        target = getattr(goal, "target", None)
        if not target:
            continue
        try:
            yield target if isinstance(target, Leaf) else Leaf.model_validate(dict(target))
        except ValueError:
            continue


_OP_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "exactly"}


def _goal_lines(
    form: Form, item: Item, goals: Sequence[Any], measures: tuple[str, ...], involved: str | None
) -> Iterable[GoalLine]:
    """Goal targets on ``item`` measured in ``measures`` with a number: lines with their words."""
    for leaf in _leaves(goals):
        if leaf.item != item.id or leaf.measure not in measures or leaf.op is None or leaf.per:
            continue
        threshold = leaf.threshold
        if (
            threshold is None
            and item.symmetry is not None
            and leaf.measure in ("deficit", "difference")
        ):
            threshold = item.symmetry.threshold
        if threshold is None:
            continue
        if leaf.measure == "value":
            shown = format_value(item, threshold)
            side = (
                f" ({leaf.side} side)"
                if leaf.side in ("involved", "opposite", "left", "right")
                else ""
            )
        else:
            shown = (
                f"{threshold:g}%"
                if leaf.measure in ("deficit", "lsi")
                else format_value(item, threshold)
            )
            side = ""
        yield GoalLine(float(threshold), f"Goal{side}: {_OP_WORDS[leaf.op]} {shown}")


# ---------------------------------------------------------------------------------------------
# geometry


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str
    width: float = 1.0
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    colour: str
    width: float = 1.5
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str | None
    stroke: str | None = None
    width: float = 0.0


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    shape: Shape
    size: float  # width of the marker
    colour: str
    filled: bool
    tip: str = ""  # what hovering shows: value and date


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    colour: str = TEXT
    anchor: Anchor = "start"
    bold: bool = False


Primitive = Line | Polyline | Rect | Marker | Text


@dataclass(frozen=True)
class Frame:
    """Where the plot area of a layout lies (for tests and hover)."""

    left: float
    top: float
    right: float
    bottom: float


# advance widths of DejaVu Sans / Bold for " " to "~" (both painters use these faces), packed as
# chr(48 + em / 0.02); other characters count 0.7 em (the ellipsis 1 em)
_WIDTHS = (
    "@DGZP`W>DDIZ@B@APPPPPPPPPPAAZZZKbRRSWPMWV??QL[UW"
    "NWSPOURaRORDADZIIOPKPOBPP>>M>aPOPPEJDPNYNNJPAPZ",
    "AGJZSb\\?GGJZCECBSSSSSSSSSSDDZZZMbWVUZRRYZCCWPbZ["
    "U[WTRYWgWTTGBGZIIRTNTRFTTAAQAdTRTTINHTQ^PQMTBTZ",
)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width of ``text`` in DejaVu Sans (Bold) at ``size``."""
    table = _WIDTHS[bold]
    em = 0.0
    for ch in text:
        code = ord(ch) - 32
        if 0 <= code < len(table):
            em += (ord(table[code]) - 48) * 0.02
        else:
            em += 1.0 if ch == "…" else 0.7
    return em * size


def elide(text: str, size: float, width: float, bold: bool = False) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` (by the estimate)."""
    if text_width(text, size, bold) <= width:
        return text
    cut = len(text)
    while cut > 1 and text_width(text[:cut].rstrip() + "…", size, bold) > width:
        cut -= 1
    return text[:cut].rstrip() + "…"


def date_text(on: date, with_year: bool = False) -> str:
    return f"{on.day} {on:%b}" + (f" {on.year}" if with_year else "")


TITLE_SIZE = 10.5
SMALL = 7.5
MARKER = 6.0


def layout(chart: Chart, width: float, height: float) -> tuple[Primitive, ...]:
    """The chart as primitives in a ``width`` x ``height`` box (points, y down)."""
    return _layout(chart, width, height)[0]


def plot_frame(chart: Chart, width: float, height: float) -> Frame:
    return _layout(chart, width, height)[1]


def _layout(chart: Chart, width: float, height: float) -> tuple[tuple[Primitive, ...], Frame]:
    out: list[Primitive] = []
    add = out.append
    pad = 6.0
    add(
        Text(
            pad,
            pad + TITLE_SIZE,
            elide(chart.title, TITLE_SIZE, width - 2 * pad, True),
            TITLE_SIZE,
            TEXT,
            "start",
            True,
        )
    )
    legend_y = pad + TITLE_SIZE + 13
    _legend(add, chart, pad, legend_y, width - pad)
    tick_labels = [chart.value_text(t) for t in chart.y_ticks]
    label_w = max((text_width(t, SMALL) for t in tick_labels), default=20.0)
    frame = Frame(
        left=min(pad + label_w + 5, width * 0.4),
        top=legend_y + 9,
        right=width - pad - 4,
        bottom=height - pad - SMALL - 6,
    )
    if frame.bottom - frame.top < 20 or frame.right - frame.left < 40:
        return tuple(out), frame  # too small to plot: title only
    lo, hi = chart.y_range

    def y_of(v: float) -> float:
        v = min(max(v, lo), hi)
        return frame.bottom - (v - lo) / (hi - lo) * (frame.bottom - frame.top)

    add(
        Rect(
            frame.left,
            frame.top,
            frame.right - frame.left,
            frame.bottom - frame.top,
            "#ffffff",
            AXIS,
            0.75,
        )
    )
    for band in chart.bands:
        b_lo, b_hi = max(band.low, lo), min(band.high, hi)
        if b_hi > b_lo:
            top, bottom = y_of(b_hi), y_of(b_lo)
            add(Rect(frame.left, top, frame.right - frame.left, bottom - top, BAND_FILL[band.kind]))
    for t, label in zip(chart.y_ticks if not chart.empty else (), tick_labels, strict=False):
        y = y_of(t)
        if frame.top + 0.5 < y < frame.bottom - 0.5:
            add(Line(frame.left, y, frame.right, y, GRID, 0.5))
        add(Text(frame.left - 4, y + SMALL * 0.35, label, SMALL, MUTED, "end"))
    if chart.empty or chart.x_range is None:
        mid = (frame.top + frame.bottom) / 2
        add(Text((frame.left + frame.right) / 2, mid, EMPTY_TEXT, 9.0, MUTED, "middle"))
        return tuple(out), frame
    first, last = chart.x_range
    inner_l, inner_r = frame.left + 10, frame.right - 10
    span = (last - first).days

    def x_of(d: date) -> float:
        if span == 0:
            return (inner_l + inner_r) / 2
        return inner_l + (d - first).days / span * (inner_r - inner_l)

    _x_ticks(add, chart, frame, x_of)
    drawn = [[(x_of(p.on), y_of(p.value)) for p in s.points] for s in chart.series]
    for goal in chart.goals:
        if lo <= goal.value <= hi:
            y = y_of(goal.value)
            add(Line(frame.left, y, frame.right, y, GOAL_COLOUR, 1.0, GOAL_DASH))
            text = elide(goal.label, SMALL, frame.right - frame.left - 8)
            add(_goal_text(text, y, frame, [p for pts in drawn for p in pts]))
    for s, pts in zip(chart.series, drawn, strict=True):
        if not s.points:
            continue
        colour = COLOURS[s.role]
        if len(pts) > 1:
            add(Polyline(tuple(pts), colour, 1.5, DASHES[s.role]))
        size = MARKER if len(pts) <= 30 else 4.0
        for p, (x, y) in zip(s.points, pts, strict=True):
            shape: Shape = SHAPES[s.role]
            filled = FILLED[s.role]
            if p.value > hi:
                shape, filled = "up", True
            elif p.value < lo:
                shape, filled = "down", True
            off = " (off the scale)" if shape in ("up", "down") else ""
            tip = f"{s.label}: {chart.value_text(p.value)}{off}"
            when = date_text(p.on, True) + (f" ({p.note})" if p.note else "")
            add(Marker(x, y, shape, size, colour, filled, f"{tip}\n{when}"))
    return tuple(out), frame


def _goal_text(text: str, y: float, frame: Frame, points: list[tuple[float, float]]) -> Text:
    """A goal line's words where the fewest data points are near: left or right, above or
    below the line (points are sampled along the series so lines count too)."""
    w = text_width(text, SMALL)
    samples = [
        (a[0] + (b[0] - a[0]) * t / 8, a[1] + (b[1] - a[1]) * t / 8)
        for a, b in zip(points, points[1:], strict=False)
        for t in range(9)
        if a[0] <= b[0]
    ] + points
    best: tuple[int, Text] | None = None
    for left in (True, False):
        x0 = frame.left + 4 if left else frame.right - 4 - w
        for base in (y - 3, y + SMALL + 2):
            if base - SMALL < frame.top or base > frame.bottom:
                continue
            hits = sum(
                x0 - 4 <= px <= x0 + w + 4 and base - SMALL - 5 <= py <= base + 4
                for px, py in samples
            )
            if best is None or hits < best[0]:
                best = (hits, Text(x0, base, text, SMALL, GOAL_COLOUR))
    return best[1] if best is not None else Text(frame.left + 4, y - 3, text, SMALL, GOAL_COLOUR)


def _x_ticks(add: Callable[[Primitive], None], chart: Chart, frame: Frame, x_of: Any) -> None:
    """Date labels under the plot at visit dates, thinned so they never overlap."""
    assert chart.x_range is not None
    first, last = chart.x_range
    dates = sorted({p.on for s in chart.series for p in s.points})
    with_year = first.year != last.year
    label_w = max(text_width(date_text(d, with_year), SMALL) for d in dates) + 8
    room = max(1, int((frame.right - frame.left) // label_w))
    if len(dates) > room:
        step = math.ceil((len(dates) - 1) / max(room - 1, 1))
        keep = dates[::step]
        if keep[-1] != dates[-1]:
            if x_of(dates[-1]) - x_of(keep[-1]) < label_w:
                keep = keep[:-1]
            keep.append(dates[-1])
        dates = keep
    for d in dates:
        x = x_of(d)
        add(Line(x, frame.bottom, x, frame.bottom + 3, AXIS, 0.75))
        add(Text(x, frame.bottom + 3 + SMALL, date_text(d, with_year), SMALL, MUTED, "middle"))


def _legend(
    add: Callable[[Primitive], None], chart: Chart, x: float, y: float, right: float
) -> None:
    """Markers and bands named in one row under the title (cut off when the row is full)."""
    entries: list[tuple[str, str]] = []
    for s in chart.series:
        if len(chart.series) > 1 or s.role != "score":
            entries.append((s.label, s.role))
    for band in chart.bands:
        entries.append((band.label, band.kind))
    for label, what in entries:
        swatch = 16.0 if what else 0.0
        need = swatch + 3 + text_width(label, SMALL)
        if x + need > right:
            label = elide(label, SMALL, right - x - swatch - 3)
            need = swatch + 3 + text_width(label, SMALL)
            if need > right - x or label == "…":
                break
        mid = y - SMALL * 0.35
        if what in COLOURS:
            colour = COLOURS[what]
            add(Line(x, mid, x + swatch, mid, colour, 1.5, DASHES[what]))
            add(Marker(x + swatch / 2, mid, SHAPES[what], MARKER, colour, FILLED[what]))
        elif what in BAND_FILL:
            add(Rect(x, mid - 4, swatch, 8, BAND_FILL[what], AXIS, 0.5))
        add(Text(x + swatch + (3 if swatch else 0), y, label, SMALL, MUTED if not what else TEXT))
        x += need + 10
