"""Line drawings of the home exercises, described once in pure Python.

Each exercise is a *pose* (joint angles of a side-view stick person, as in a physio handout) plus a
few props (floor, bench, step, weight) and arrows for the movement. The same primitive shapes are
written to ``resources/exercises/<id>.svg`` (``python -m clinic_app.reports.figures``) and drawn
into the PDF with reportlab, so the handout and the shipped SVG files cannot drift apart; a test
checks the files are current.

Coordinates: poses are computed with y up from the floor (y = 0) and converted to the SVG
convention (y down) in a ``VIEW_W`` × ``VIEW_H`` box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from clinic_app.paths import resources_dir

if TYPE_CHECKING:
    from reportlab.graphics.shapes import Drawing

Point = tuple[float, float]

VIEW_W = 240.0
VIEW_H = 170.0
FLOOR_Y = 160.0  # SVG y of the floor line

NEAR = "#1f3b57"
FAR = "#9aabbd"
ARROW = "#d9480f"
PROP_FILL = "#e3e8ee"
PROP_LINE = "#5f6b78"
WEIGHT = "#47525e"
LIMB_W = 7.0

# segment lengths of the stick person (units of the view box)
TORSO, NECK, HEAD_R = 40.0, 5.0, 9.0
THIGH, SHIN, FOOT = 34.0, 33.0, 11.0
UPPER_ARM, FOREARM = 23.0, 21.0


# ---------------------------------------------------------------------------------------------
# primitives (SVG coordinates: y down)


@dataclass(frozen=True)
class Stroke:
    points: tuple[Point, ...]
    color: str
    width: float
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Disc:
    center: Point
    r: float
    fill: str
    stroke: str | None = None
    width: float = 0.0


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str
    width: float = 1.5
    radius: float = 0.0


@dataclass(frozen=True)
class Fill:
    """A closed filled polygon without outline (arrowheads)."""

    points: tuple[Point, ...]
    color: str


Shape = Stroke | Disc | Box | Fill


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    shapes: tuple[Shape, ...]
    width: float = VIEW_W
    height: float = VIEW_H


# ---------------------------------------------------------------------------------------------
# the pose model (y up from the floor)


def _dir(deg: float) -> Point:
    rad = math.radians(deg)
    return math.cos(rad), math.sin(rad)


def _add(p: Point, length: float, deg: float) -> Point:
    dx, dy = _dir(deg)
    return p[0] + length * dx, p[1] + length * dy


@dataclass(frozen=True)
class Leg:
    thigh: float
    shin: float
    foot: float = 0.0


@dataclass(frozen=True)
class Arm:
    upper: float
    fore: float


@dataclass(frozen=True)
class Pose:
    """Absolute segment angles in degrees (0 = facing direction, 90 = up)."""

    torso: float
    near_leg: Leg
    near_arm: Arm | None
    far_leg: Leg | None = None
    far_arm: Arm | None = None
    head: float | None = None  # defaults to the torso angle
    anchor: str = "hip"  # joint placed at ``at``: hip, shoulder, near_ankle, far_ankle, near_toe…
    at: Point = (120.0, 70.0)

    def joints(self) -> dict[str, Point]:
        j: dict[str, Point] = {"hip": (0.0, 0.0)}
        j["shoulder"] = _add(j["hip"], TORSO, self.torso)
        j["head"] = _add(
            j["shoulder"], NECK + HEAD_R, self.torso if self.head is None else self.head
        )
        for side, leg in (("near", self.near_leg), ("far", self.far_leg)):
            if leg is not None:
                j[f"{side}_knee"] = _add(j["hip"], THIGH, leg.thigh)
                j[f"{side}_ankle"] = _add(j[f"{side}_knee"], SHIN, leg.shin)
                j[f"{side}_toe"] = _add(j[f"{side}_ankle"], FOOT, leg.foot)
        for side, arm in (("near", self.near_arm), ("far", self.far_arm)):
            if arm is not None:
                j[f"{side}_elbow"] = _add(j["shoulder"], UPPER_ARM, arm.upper)
                j[f"{side}_hand"] = _add(j[f"{side}_elbow"], FOREARM, arm.fore)
        ax, ay = j[self.anchor]
        tx, ty = self.at[0] - ax, self.at[1] - ay
        return {k: (x + tx, y + ty) for k, (x, y) in j.items()}


def _svg(p: Point) -> Point:
    """World (y up from the floor) to view (y down)."""
    return round(p[0], 1), round(FLOOR_Y - p[1], 1)


def _person(pose: Pose) -> tuple[list[Shape], list[Shape], dict[str, Point]]:
    """(far-side shapes, near-side shapes, joints in world coordinates)."""
    j = pose.joints()

    def limb(names: tuple[str, ...], color: str) -> Stroke:
        return Stroke(tuple(_svg(j[n]) for n in names), color, LIMB_W)

    far: list[Shape] = []
    near: list[Shape] = []
    if pose.far_leg is not None:
        far.append(limb(("hip", "far_knee", "far_ankle", "far_toe"), FAR))
    if pose.far_arm is not None:
        far.append(limb(("shoulder", "far_elbow", "far_hand"), FAR))
    near.append(limb(("hip", "shoulder"), NEAR))
    near.append(limb(("hip", "near_knee", "near_ankle", "near_toe"), NEAR))
    if pose.near_arm is not None:
        near.append(limb(("shoulder", "near_elbow", "near_hand"), NEAR))
    neck_end = _add(j["shoulder"], NECK, pose.torso if pose.head is None else pose.head)
    near.append(Stroke((_svg(j["shoulder"]), _svg(neck_end)), NEAR, LIMB_W))
    near.append(Disc(_svg(j["head"]), HEAD_R, NEAR))
    return far, near, j


def floor() -> Stroke:
    return Stroke(((8.0, FLOOR_Y + 3.5), (VIEW_W - 8.0, FLOOR_Y + 3.5)), PROP_LINE, 2.0)


def box(x: float, y: float, w: float, h: float, radius: float = 2.0) -> Box:
    """A prop in world coordinates: (x, y) is the bottom-left corner."""
    return Box(x, FLOOR_Y - y - h, w, h, PROP_FILL, PROP_LINE, 1.5, radius)


def plate(center: Point, r: float = 11.0) -> Disc:
    return Disc(_svg(center), r, WEIGHT, "#2b333c", 1.5)


def arrow(start: Point, control: Point, end: Point, color: str = ARROW) -> list[Shape]:
    """A curved arrow (quadratic Bézier, world coordinates) with a filled head at ``end``."""
    pts = []
    n = 16
    for i in range(n + 1):
        t = i / n
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
        pts.append(
            (
                a * start[0] + b * control[0] + c * end[0],
                a * start[1] + b * control[1] + c * end[1],
            )
        )
    tip = end
    dx, dy = end[0] - control[0], end[1] - control[1]
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    head_len, head_w = 9.0, 5.5
    base = (tip[0] - ux * head_len, tip[1] - uy * head_len)
    left = (base[0] - uy * head_w, base[1] + ux * head_w)
    right = (base[0] + uy * head_w, base[1] - ux * head_w)
    # stop the shaft inside the head so the round cap does not poke through the tip
    shaft = [p for p in pts if math.hypot(p[0] - tip[0], p[1] - tip[1]) > head_len * 0.6]
    return [
        Stroke(tuple(_svg(p) for p in shaft), color, 3.0),
        Fill((_svg(tip), _svg(left), _svg(right)), color),
    ]


# ---------------------------------------------------------------------------------------------
# the exercises

_BRIDGE_RISE = math.degrees(math.asin(30.5 / (TORSO + THIGH)))


def _bridge(single: bool) -> tuple[list[Shape], list[Shape]]:
    flat = 180 + _BRIDGE_RISE
    planted = Leg(_BRIDGE_RISE, -80, 0)
    lifted = Leg(_BRIDGE_RISE, _BRIDGE_RISE, 75)
    pose = Pose(
        torso=flat,
        head=166,
        near_leg=lifted if single else planted,
        far_leg=planted if single else None,
        near_arm=None,
        far_arm=Arm(-4, 0),
        anchor="shoulder",
        at=(62, 5),
    )
    far, near, j = _person(pose)
    hx, hy = j["hip"]
    return [*far, *near], arrow((hx, hy + 12), (hx + 1, hy + 22), (hx, hy + 34))


def _glute_bridge() -> list[Shape]:
    person, arrows = _bridge(single=False)
    return [floor(), *person, *arrows]


def _single_leg_bridge() -> list[Shape]:
    person, arrows = _bridge(single=True)
    return [floor(), *person, *arrows]


def _hip_thrust() -> list[Shape]:
    bench = box(22, 0, 50, 29)
    pose = Pose(
        torso=180,
        head=165,
        near_leg=Leg(0, -90, 0),
        near_arm=Arm(10, 25),
        anchor="shoulder",
        at=(70, 36),
    )
    far, near, j = _person(pose)
    hx, hy = j["hip"]
    bar = plate((hx, hy + 14), 12)
    return [
        floor(),
        bench,
        *far,
        *near,
        bar,
        *arrow((hx + 24, hy + 8), (hx + 25, hy + 20), (hx + 24, hy + 32)),
    ]


def _romanian_deadlift() -> list[Shape]:
    pose = Pose(
        torso=20,
        head=28,
        near_leg=Leg(-74, -100, 0),
        near_arm=Arm(-90, -90),
        anchor="near_ankle",
        at=(104, 3),
    )
    far, near, j = _person(pose)
    hx, hy = j["near_hand"]
    bar = Stroke(((hx - 2, FLOOR_Y - hy), (hx + 2, FLOOR_Y - hy)), WEIGHT, 4)
    sx, sy = j["shoulder"]
    return [
        floor(),
        *far,
        plate((hx, hy), 11),
        bar,
        *near,
        *arrow((sx + 26, sy - 6), (sx + 36, sy + 22), (sx + 14, sy + 42)),
    ]


def _nordic_curl() -> list[Shape]:
    lean = 62
    pose = Pose(
        torso=lean,
        near_leg=Leg(lean + 180, 180, 196),
        near_arm=Arm(-25, -5),
        anchor="near_knee",
        at=(98, 6),
    )
    far, near, j = _person(pose)
    ax, ay = j["near_ankle"]
    knee_pad = box(84, 0, 30, 3, radius=1.5)
    post = box(ax - 22, 0, 6, 14, radius=1)
    strap = box(ax - 22, ay + 4, 30, 7, radius=3)
    sx, sy = j["head"]
    return [
        floor(),
        knee_pad,
        post,
        *far,
        *near,
        strap,
        *arrow((sx + 14, sy + 4), (sx + 48, sy - 6), (sx + 56, sy - 48)),
    ]


def _weighted_squat() -> list[Shape]:
    pose = Pose(
        torso=64,
        head=78,
        near_leg=Leg(-14, -116, 0),
        near_arm=Arm(-62, 62),
        anchor="near_ankle",
        at=(112, 3),
    )
    far, near, j = _person(pose)
    hx, hy = j["near_hand"]
    bell = [
        Box(hx - 5, FLOOR_Y - hy - 12, 10, 22, WEIGHT, "#2b333c", 1.2, 2),
    ]
    return [
        floor(),
        *far,
        *near,
        *bell,
        *arrow((166, 40), (168, 70), (166, 104)),
    ]


def _dead_bug() -> list[Shape]:
    pose = Pose(
        torso=180,
        head=168,
        near_leg=Leg(12, 8, 82),
        far_leg=Leg(90, 0, 80),
        near_arm=Arm(90, 90),
        far_arm=Arm(163, 172),
        anchor="hip",
        at=(128, 6),
    )
    far, near, j = _person(pose)
    tx, ty = j["near_toe"]
    hx, hy = j["far_hand"]
    return [
        floor(),
        *far,
        *near,
        *arrow((tx - 10, ty + 36), (tx + 14, ty + 34), (tx + 10, ty + 12)),
        *arrow((hx + 36, hy + 38), (hx + 4, hy + 40), (hx - 2, hy + 14)),
    ]


def _side_plank() -> list[Shape]:
    legs = -12
    pose = Pose(
        torso=180 + legs,
        near_leg=Leg(legs, legs, legs + 90),
        near_arm=Arm(-90, 180),
        far_arm=Arm(92, 90),
        anchor="near_ankle",
        at=(198, 4),
    )
    far, near, j = _person(pose)
    hx, hy = j["hip"]
    return [floor(), *far, *near, *arrow((hx, hy + 10), (hx + 1, hy + 22), (hx, hy + 34))]


def _hip_flexor_march() -> list[Shape]:
    pose = Pose(
        torso=90,
        near_leg=Leg(4, -90, 0),
        far_leg=Leg(-90, -90, 0),
        near_arm=Arm(-125, -15),
        far_arm=Arm(-55, 195),
        anchor="far_ankle",
        at=(104, 3),
    )
    far, near, j = _person(pose)
    kx, ky = j["near_knee"]
    return [floor(), *far, *near, *arrow((kx + 22, ky - 36), (kx + 24, ky - 18), (kx + 22, ky + 2))]


def _calf_raise(bent: bool) -> list[Shape]:
    step_h = 16.0
    leg = Leg(-62, -112, -32) if bent else Leg(-90, -90, -32)
    pose = Pose(
        torso=96 if bent else 90,
        near_leg=leg,
        near_arm=Arm(-74, -62),
        far_arm=Arm(-20, 0),
        anchor="near_toe",
        at=(118, step_h + 3),
    )
    far, near, j = _person(pose)
    hx = j["far_hand"][0]
    tx = j["near_toe"][0]
    step = box(tx - 9, 0, 60, step_h)
    wall = box(max(hx + 4, tx + 58), 0, 8, 150, radius=0)
    ax, ay = j["near_ankle"]
    return [
        floor(),
        step,
        wall,
        *far,
        *near,
        *arrow((ax - 12, ay - 16), (ax - 13, ay - 2), (ax - 12, ay + 14)),
    ]


def _dynamic_hamstring_warmup() -> list[Shape]:
    pose = Pose(
        torso=92,
        near_leg=Leg(-38, -38, -10),
        far_leg=Leg(-90, -90, 0),
        near_arm=Arm(-70, -30),
        far_arm=Arm(-160, -175),
        anchor="far_ankle",
        at=(120, 3),
    )
    far, near, j = _person(pose)
    hx = j["far_hand"][0]
    wall = box(hx - 10, 0, 8, 150, radius=0)
    tx, ty = j["near_toe"]
    return [
        floor(),
        wall,
        *far,
        *near,
        *arrow((tx - 30, ty - 20), (tx + 14, ty - 22), (tx + 16, ty + 16)),
    ]


_BUILDERS = {
    "romanian_deadlift": ("Romanian deadlift", _romanian_deadlift),
    "glute_bridge": ("Glute bridge", _glute_bridge),
    "hip_thrust": ("Hip thrust", _hip_thrust),
    "single_leg_bridge": ("Single-leg bridge", _single_leg_bridge),
    "nordic_curl": ("Nordic curl", _nordic_curl),
    "weighted_squat": ("Weighted squat", _weighted_squat),
    "dead_bug": ("Dead bug", _dead_bug),
    "side_plank": ("Side plank", _side_plank),
    "hip_flexor_march": ("Hip flexor march", _hip_flexor_march),
    "calf_raise_straight": ("Calf raise, straight knee", lambda: _calf_raise(bent=False)),
    "calf_raise_bent": ("Calf raise, bent knee", lambda: _calf_raise(bent=True)),
    "dynamic_hamstring_warmup": ("Dynamic hamstring warm-up", _dynamic_hamstring_warmup),
}

FIGURE_IDS: tuple[str, ...] = tuple(_BUILDERS)


@cache
def figure(exercise_id: str) -> Figure:
    """The drawing of one exercise (cached); KeyError for an unknown id."""
    title, build = _BUILDERS[exercise_id]
    shapes = build()
    top = max(0.0, min(_top(s) for s in shapes) - 8.0)
    return Figure(exercise_id, title, tuple(_shift(s, -top) for s in shapes), VIEW_W, VIEW_H - top)


def _top(s: Shape) -> float:
    if isinstance(s, Stroke):
        return min(p[1] for p in s.points) - s.width / 2
    if isinstance(s, Disc):
        return s.center[1] - s.r - s.width / 2
    if isinstance(s, Box):
        return s.y - s.width / 2
    return min(p[1] for p in s.points)


def _shift(s: Shape, dy: float) -> Shape:
    """Move a shape vertically (cropping empty sky above lying figures)."""
    if isinstance(s, Stroke):
        return Stroke(tuple((x, round(y + dy, 1)) for x, y in s.points), s.color, s.width, s.dash)
    if isinstance(s, Disc):
        return Disc((s.center[0], round(s.center[1] + dy, 1)), s.r, s.fill, s.stroke, s.width)
    if isinstance(s, Box):
        return Box(s.x, round(s.y + dy, 1), s.w, s.h, s.fill, s.stroke, s.width, s.radius)
    return Fill(tuple((x, round(y + dy, 1)) for x, y in s.points), s.color)


# ---------------------------------------------------------------------------------------------
# output: SVG text and reportlab drawings


def _pts(points: tuple[Point, ...]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in points)


def to_svg(fig: Figure) -> str:
    """Stand-alone SVG 1.1 text for a figure."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {fig.width:g} '
        f'{fig.height:g}" width="{fig.width * 2:g}" height="{fig.height * 2:g}">',
        f"  <title>{fig.title} (clinic_app exercise drawing)</title>",
        f'  <rect x="0" y="0" width="{fig.width:g}" height="{fig.height:g}" fill="#ffffff"/>',
    ]
    for s in fig.shapes:
        if isinstance(s, Stroke):
            dash = f' stroke-dasharray="{" ".join(f"{d:g}" for d in s.dash)}"' if s.dash else ""
            out.append(
                f'  <polyline points="{_pts(s.points)}" fill="none" stroke="{s.color}" '
                f'stroke-width="{s.width:g}" stroke-linecap="round" stroke-linejoin="round"{dash}/>'
            )
        elif isinstance(s, Disc):
            stroke = f' stroke="{s.stroke}" stroke-width="{s.width:g}"' if s.stroke else ""
            out.append(
                f'  <circle cx="{s.center[0]:g}" cy="{s.center[1]:g}" r="{s.r:g}" '
                f'fill="{s.fill}"{stroke}/>'
            )
        elif isinstance(s, Box):
            out.append(
                f'  <rect x="{s.x:g}" y="{s.y:g}" width="{s.w:g}" height="{s.h:g}" '
                f'rx="{s.radius:g}" fill="{s.fill}" stroke="{s.stroke}" '
                f'stroke-width="{s.width:g}"/>'
            )
        else:
            out.append(f'  <polygon points="{_pts(s.points)}" fill="{s.color}"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def exercises_dir() -> Path:
    return resources_dir() / "exercises"


def write_svgs(directory: Path | None = None) -> list[Path]:
    """Write every figure as ``<id>.svg``; return the paths written."""
    target = directory or exercises_dir()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for fid in FIGURE_IDS:
        path = target / f"{fid}.svg"
        path.write_text(to_svg(figure(fid)), encoding="utf-8")
        written.append(path)
    return written


@dataclass
class _Cache:
    drawings: dict[tuple[str, float], Drawing] = field(default_factory=dict)


_cache = _Cache()


def drawing(exercise_id: str, width: float) -> Drawing:
    """A reportlab Drawing of the figure scaled to ``width`` points (cached per size)."""
    key = (exercise_id, width)
    if key in _cache.drawings:
        return _cache.drawings[key]
    from reportlab.graphics.shapes import Circle, Drawing, Group, Polygon, PolyLine, Rect
    from reportlab.lib.colors import HexColor

    fig = figure(exercise_id)
    scale = width / fig.width
    height = fig.height * scale

    def flip(points: tuple[Point, ...]) -> list[float]:
        flat: list[float] = []
        for x, y in points:
            flat.extend((x, fig.height - y))
        return flat

    group = Group()
    for s in fig.shapes:
        if isinstance(s, Stroke):
            group.add(
                PolyLine(
                    flip(s.points),
                    strokeColor=HexColor(s.color),
                    strokeWidth=s.width,
                    strokeLineCap=1,
                    strokeLineJoin=1,
                    strokeDashArray=list(s.dash) or None,
                )
            )
        elif isinstance(s, Disc):
            group.add(
                Circle(
                    s.center[0],
                    fig.height - s.center[1],
                    s.r,
                    fillColor=HexColor(s.fill),
                    strokeColor=HexColor(s.stroke) if s.stroke else None,
                    strokeWidth=s.width,
                )
            )
        elif isinstance(s, Box):
            group.add(
                Rect(
                    s.x,
                    fig.height - s.y - s.h,
                    s.w,
                    s.h,
                    rx=s.radius,
                    ry=s.radius,
                    fillColor=HexColor(s.fill),
                    strokeColor=HexColor(s.stroke),
                    strokeWidth=s.width,
                )
            )
        else:
            group.add(Polygon(flip(s.points), fillColor=HexColor(s.color), strokeColor=None))
    group.scale(scale, scale)
    from clinic_app.reports import fonts

    fonts.register_fonts()
    d = Drawing(width, height)
    d.initialFontName = fonts.SANS  # else reportlab adds an unembedded Helvetica
    d.add(group)
    _cache.drawings[key] = d
    return d


if __name__ == "__main__":
    for written in write_svgs():
        print(written)  # noqa: T201
