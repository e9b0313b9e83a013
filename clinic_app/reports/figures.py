"""Line drawings of the home exercises, described once in pure Python.

Each exercise is two *poses* (joint angles of a side-view stick person, as in a physio handout):
the start position on the left and the end position on the right, with an arrow for the
movement in the end frame, plus a few props (floor, bench, step, weight). One model for all of
them keeps the line weight, the proportions, the floor line and the colours (which print as
distinct greys) the same. The shapes are written to ``resources/exercises/<id>.svg``
(``scripts/draw_exercises.py``); the handout prints those files through
:mod:`clinic_app.reports.pictures`, the same way as a clinic's own SVG pictures, and a test
checks the files are current.

Coordinates: poses are computed with y up from the floor (y = 0) and converted to the SVG
convention (y down) in a ``VIEW_W`` × ``VIEW_H`` box.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from clinic_app.paths import resources_dir

Point = tuple[float, float]

VIEW_W = 240.0
VIEW_H = 170.0
FLOOR_Y = 160.0  # SVG y of the floor line

# Each role keeps its own grey when printed in black and white (luminance 0-255 in brackets):
# near limbs (54), weights (80), the arrow (109), props' outlines and the floor (137), far limbs
# (168), props' fill (228). tests/reports/test_pictures.py checks they stay apart.
NEAR = "#1f3b57"
FAR = "#9aabbd"
ARROW = "#d9480f"
PROP_FILL = "#e3e8ee"
PROP_LINE = "#808b97"
WEIGHT = "#47525e"
WEIGHT_LINE = "#2b333c"
PALETTE = (NEAR, FAR, ARROW, PROP_FILL, PROP_LINE, WEIGHT, WEIGHT_LINE, "#ffffff")
"""Every colour a drawing uses."""
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
    return Disc(_svg(center), r, WEIGHT, WEIGHT_LINE, 1.5)


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
# the exercises: each builder gives (start frame, end frame); the end frame carries the arrow

Frames = tuple[list[Shape], list[Shape]]


def _leg_to(hip: Point, ankle: Point, foot: float, knee_up: bool = True) -> Leg:
    """The leg angles that put the ankle at ``ankle`` (two-link inverse kinematics), so a foot
    planted in one frame stays planted in the other."""
    dx, dy = ankle[0] - hip[0], ankle[1] - hip[1]
    d = min(math.hypot(dx, dy), THIGH + SHIN - 0.01)
    base = math.degrees(math.atan2(dy, dx))
    bend = math.degrees(math.acos((THIGH**2 + d**2 - SHIN**2) / (2 * THIGH * d)))
    thigh = base + bend if knee_up else base - bend
    knee = _add(hip, THIGH, thigh)
    shin = math.degrees(math.atan2(ankle[1] - knee[1], ankle[0] - knee[0]))
    return Leg(thigh, shin, foot)


def _people(pose: Pose) -> tuple[list[Shape], dict[str, Point]]:
    far, near, j = _person(pose)
    return [*far, *near], j


_BRIDGE_RISE = math.degrees(math.asin(30.5 / (TORSO + THIGH)))


def _bridge(single: bool) -> Frames:
    flat = 180 + _BRIDGE_RISE
    planted = Leg(_BRIDGE_RISE, -80, 0)
    lifted = Leg(_BRIDGE_RISE, _BRIDGE_RISE, 75)
    top = Pose(
        torso=flat,
        head=166,
        near_leg=lifted if single else planted,
        far_leg=planted if single else None,
        near_arm=None,
        far_arm=Arm(-4, 0),
        anchor="shoulder",
        at=(62, 5),
    )
    end, j = _people(top)
    hip = (62 + TORSO, 5.0)
    foot = _leg_to(hip, j["far_ankle" if single else "near_ankle"], 0)
    raised = Leg(foot.thigh, foot.thigh, foot.thigh + 75)
    start, _ = _people(
        Pose(
            torso=180,
            head=172,
            near_leg=raised if single else foot,
            far_leg=foot if single else None,
            near_arm=None,
            far_arm=Arm(0, 0),
            anchor="shoulder",
            at=(62, 5),
        )
    )
    hx, hy = j["hip"]
    return [floor(), *start], [
        floor(),
        *end,
        *arrow((hx, hy + 12), (hx + 1, hy + 22), (hx, hy + 34)),
    ]


def _hip_thrust() -> Frames:
    def frame(low: bool) -> tuple[list[Shape], dict[str, Point]]:
        shoulder = (70.0, 36.0)
        if low:
            hip = (shoulder[0] + math.sqrt(TORSO**2 - 24**2), 12.0)
            torso = math.degrees(math.atan2(shoulder[1] - hip[1], shoulder[0] - hip[0]))
            leg = _leg_to(hip, ankle, 0)
            pose = Pose(torso=torso, head=torso + 14, near_leg=leg, near_arm=Arm(-12, 2))
        else:
            pose = Pose(torso=180, head=165, near_leg=Leg(0, -90, 0), near_arm=Arm(10, 25))
        pose = Pose(**{**pose.__dict__, "anchor": "shoulder", "at": shoulder})
        person, j = _people(pose)
        hx, hy = j["hip"]
        return [floor(), box(22, 0, 50, 29), *person, plate((hx, hy + 14), 12)], j

    ankle = Pose(180, Leg(0, -90, 0), None, anchor="shoulder", at=(70, 36)).joints()["near_ankle"]
    start, _ = frame(low=True)
    end, j = frame(low=False)
    hx, hy = j["hip"]
    return start, [*end, *arrow((hx + 24, hy + 8), (hx + 25, hy + 20), (hx + 24, hy + 32))]


def _romanian_deadlift() -> Frames:
    def frame(pose: Pose) -> tuple[list[Shape], dict[str, Point]]:
        far, near, j = _person(pose)
        hx, hy = j["near_hand"]
        bar = Stroke(((hx - 2, FLOOR_Y - hy), (hx + 2, FLOOR_Y - hy)), WEIGHT, 4)
        return [floor(), *far, plate((hx, hy), 11), bar, *near], j

    upright = Pose(
        torso=90,
        head=92,
        near_leg=Leg(-84, -98, 0),
        near_arm=Arm(-80, -84),
        anchor="near_ankle",
        at=(104, 3),
    )
    hinged = Pose(
        torso=20,
        head=28,
        near_leg=Leg(-74, -100, 0),
        near_arm=Arm(-90, -90),
        anchor="near_ankle",
        at=(104, 3),
    )
    start, _ = frame(upright)
    end, j = frame(hinged)
    sx, sy = j["shoulder"]
    return start, [*end, *arrow((sx + 4, sy + 56), (sx + 40, sy + 46), (sx + 22, sy + 10))]


def _nordic_curl() -> Frames:
    def frame(lean: float, arm: Arm) -> tuple[list[Shape], dict[str, Point]]:
        pose = Pose(
            torso=lean,
            near_leg=Leg(lean + 180, 180, 196),
            near_arm=arm,
            anchor="near_knee",
            at=(98, 6),
        )
        person, j = _people(pose)
        ax, ay = j["near_ankle"]
        props = [box(84, 0, 30, 3, radius=1.5), box(ax - 22, 0, 6, 14, radius=1)]
        return [floor(), *props, *person, box(ax - 22, ay + 4, 30, 7, radius=3)], j

    start, _ = frame(90, Arm(-55, 35))
    end, j = frame(45, Arm(-40, -10))
    sx, sy = j["head"]
    return start, [*end, *arrow((sx - 34, sy + 34), (sx - 4, sy + 34), (sx + 10, sy + 14))]


def _weighted_squat() -> Frames:
    def frame(pose: Pose) -> tuple[list[Shape], dict[str, Point]]:
        person, j = _people(pose)
        hx, hy = j["near_hand"]
        bell = Box(hx - 5, FLOOR_Y - hy - 12, 10, 22, WEIGHT, WEIGHT_LINE, 1.2, 2)
        return [floor(), *person, bell], j

    standing = Pose(
        torso=90,
        head=92,
        near_leg=Leg(-88, -94, 0),
        near_arm=Arm(-80, 50),
        anchor="near_ankle",
        at=(112, 3),
    )
    squat = Pose(
        torso=64,
        head=78,
        near_leg=Leg(-14, -116, 0),
        near_arm=Arm(-62, 62),
        anchor="near_ankle",
        at=(112, 3),
    )
    start, _ = frame(standing)
    end, _ = frame(squat)
    return start, [*end, *arrow((166, 104), (168, 70), (166, 40))]


def _dead_bug() -> Frames:
    table = Leg(90, 0, 80)
    start, _ = _people(
        Pose(
            torso=180,
            head=168,
            near_leg=table,
            far_leg=table,
            near_arm=Arm(90, 90),
            far_arm=Arm(90, 90),
            anchor="hip",
            at=(128, 6),
        )
    )
    end, j = _people(
        Pose(
            torso=180,
            head=168,
            near_leg=Leg(12, 8, 82),
            far_leg=table,
            near_arm=Arm(90, 90),
            far_arm=Arm(163, 172),
            anchor="hip",
            at=(128, 6),
        )
    )
    tx, ty = j["near_toe"]
    hx, hy = j["far_hand"]
    return [floor(), *start], [
        floor(),
        *end,
        *arrow((tx - 10, ty + 36), (tx + 14, ty + 34), (tx + 10, ty + 12)),
        *arrow((hx + 36, hy + 38), (hx + 4, hy + 40), (hx - 2, hy + 14)),
    ]


def _side_plank() -> Frames:
    legs = -12
    end, j = _people(
        Pose(
            torso=180 + legs,
            near_leg=Leg(legs, legs, legs + 90),
            near_arm=Arm(-90, 180),
            far_arm=Arm(92, 90),
            anchor="near_ankle",
            at=(198, 4),
        )
    )
    hip_y, shoulder_y = 5.0, 4.0 + UPPER_ARM
    torso = 180 - math.degrees(math.asin((shoulder_y - hip_y) / TORSO))
    start, _ = _people(
        Pose(
            torso=torso,
            near_leg=Leg(0, 0, 90),
            near_arm=Arm(-90, 180),
            far_arm=Arm(-28, -12),
            anchor="near_ankle",
            at=(198, 4),
        )
    )
    hx, hy = j["hip"]
    return [floor(), *start], [
        floor(),
        *end,
        *arrow((hx, hy + 10), (hx + 1, hy + 22), (hx, hy + 34)),
    ]


def _hip_flexor_march() -> Frames:
    def pose(near: Leg) -> Pose:
        return Pose(
            torso=90,
            near_leg=near,
            far_leg=Leg(-90, -90, 0),
            near_arm=Arm(-125, -15),
            far_arm=Arm(-55, 195),
            anchor="far_ankle",
            at=(104, 3),
        )

    start, _ = _people(pose(Leg(-92, -90, 0)))
    end, j = _people(pose(Leg(4, -90, 0)))
    kx, ky = j["near_knee"]
    return [floor(), *start], [
        floor(),
        *end,
        *arrow((kx + 22, ky - 36), (kx + 24, ky - 18), (kx + 22, ky + 2)),
    ]


def _calf_raise(bent: bool) -> Frames:
    step_h = 16.0
    thigh, shin = (-62.0, -112.0) if bent else (-90.0, -90.0)

    def pose(foot: float) -> Pose:
        return Pose(
            torso=96 if bent else 90,
            near_leg=Leg(thigh, shin, foot),
            near_arm=Arm(-74, -62),
            far_arm=Arm(-20, 0),
            anchor="near_toe",
            at=(118, step_h + 3),
        )

    up = pose(-32).joints()
    tx = up["near_toe"][0]
    wall_x = max(up["far_hand"][0] + 4, tx + 24)
    props: list[Shape] = [
        floor(),
        box(tx - 9, 0, wall_x - tx + 9, step_h),
        box(wall_x, 0, 8, 150, radius=0),
    ]
    start, _ = _people(pose(10))
    end, j = _people(pose(-32))
    ax, ay = j["near_ankle"]
    return [*props, *start], [
        *props,
        *end,
        *arrow((ax - 12, ay - 16), (ax - 13, ay - 2), (ax - 12, ay + 14)),
    ]


def _dynamic_hamstring_warmup() -> Frames:
    def pose(near: Leg) -> Pose:
        return Pose(
            torso=92,
            near_leg=near,
            far_leg=Leg(-90, -90, 0),
            near_arm=Arm(-70, -30),
            far_arm=Arm(-160, -175),
            anchor="far_ankle",
            at=(120, 3),
        )

    hand = pose(Leg(-90, -90, 0)).joints()["far_hand"][0]
    wall = box(hand - 10, 0, 8, 150, radius=0)
    start, _ = _people(pose(Leg(-118, -130, -40)))
    end, j = _people(pose(Leg(-38, -38, -10)))
    tx, ty = j["near_toe"]
    return [floor(), wall, *start], [
        floor(),
        wall,
        *end,
        *arrow((tx - 62, ty - 6), (tx - 24, ty - 30), (tx + 2, ty - 12)),
    ]


_BUILDERS: dict[str, tuple[str, Callable[[], Frames]]] = {
    "romanian_deadlift": ("Romanian deadlift", _romanian_deadlift),
    "glute_bridge": ("Glute bridge", lambda: _bridge(single=False)),
    "hip_thrust": ("Hip thrust", _hip_thrust),
    "single_leg_bridge": ("Single-leg bridge", lambda: _bridge(single=True)),
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
FRAME_GAP = 16.0
"""White space between the start and the end frame (the step chevron sits in it)."""
FRAME_MARGIN = 14.0
"""Floor left and right of what a frame shows."""


@cache
def figure(exercise_id: str) -> Figure:
    """The drawing of one exercise, start frame left and end frame right (cached); KeyError for
    an unknown id. Both frames share one crop (empty sky above, empty floor at the sides), so
    the two figures keep one scale and fill as much of a printed card as they can."""
    title, build = _BUILDERS[exercise_id]
    start, end = build()
    ground = floor()
    start = [s for s in start if s != ground]
    end = [s for s in end if s != ground]
    everything = (*start, *end)
    top = max(0.0, min(_top(s) for s in everything) - 8.0)
    left = max(0.0, min(_extent(s)[0] for s in everything) - FRAME_MARGIN)
    right = min(VIEW_W, max(_extent(s)[1] for s in everything) + FRAME_MARGIN)
    frame_w = right - left
    floor_y = ground.points[0][1]
    height = VIEW_H - top
    mid = (FLOOR_Y - top) / 2 + 6
    x0 = frame_w
    chevron = Fill(((x0 + 3, mid - 7), (x0 + FRAME_GAP - 3, mid), (x0 + 3, mid + 7)), PROP_LINE)

    def framed(shapes: list[Shape], dx: float) -> list[Shape]:
        line = Stroke(((dx + 4, floor_y), (dx + frame_w - 4, floor_y)), PROP_LINE, ground.width)
        return [_shift(line, 0.0, -top), *(_shift(s, dx - left, -top) for s in shapes)]

    shapes = [*framed(start, 0.0), chevron, *framed(end, frame_w + FRAME_GAP)]
    return Figure(exercise_id, title, tuple(shapes), round(2 * frame_w + FRAME_GAP, 1), height)


def _extent(s: Shape) -> tuple[float, float]:
    """Leftmost and rightmost x a shape paints."""
    if isinstance(s, Stroke):
        xs = [p[0] for p in s.points]
        return min(xs) - s.width / 2, max(xs) + s.width / 2
    if isinstance(s, Disc):
        return s.center[0] - s.r - s.width / 2, s.center[0] + s.r + s.width / 2
    if isinstance(s, Box):
        return s.x - s.width / 2, s.x + s.w + s.width / 2
    xs = [p[0] for p in s.points]
    return min(xs), max(xs)


def _top(s: Shape) -> float:
    if isinstance(s, Stroke):
        return min(p[1] for p in s.points) - s.width / 2
    if isinstance(s, Disc):
        return s.center[1] - s.r - s.width / 2
    if isinstance(s, Box):
        return s.y - s.width / 2
    return min(p[1] for p in s.points)


def _shift(s: Shape, dx: float, dy: float) -> Shape:
    """Move a shape (into its frame, and up to crop empty sky above lying figures)."""

    def move(points: tuple[Point, ...]) -> tuple[Point, ...]:
        return tuple((round(x + dx, 1), round(y + dy, 1)) for x, y in points)

    if isinstance(s, Stroke):
        return Stroke(move(s.points), s.color, s.width, s.dash)
    if isinstance(s, Disc):
        return Disc(move((s.center,))[0], s.r, s.fill, s.stroke, s.width)
    if isinstance(s, Box):
        return Box(
            round(s.x + dx, 1), round(s.y + dy, 1), s.w, s.h, s.fill, s.stroke, s.width, s.radius
        )
    return Fill(move(s.points), s.color)


# ---------------------------------------------------------------------------------------------
# output: SVG text


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


if __name__ == "__main__":
    for written in write_svgs():
        print(written)  # noqa: T201
