"""Exercise pictures for the PDF: an SVG drawn as reportlab vector shapes, PNG/JPEG as images.

The shipped drawings (``resources/exercises/<id>.svg``) and a clinic's imported SVG pictures take
the same way into the handout: this small reader of the drawing part of SVG (shapes, paths,
groups, transforms, fill and stroke), so what a clinic imports prints as sharply as what ships,
with no SVG library and no Qt in the report layer. What it does not draw (text, gradients,
filters, embedded images inside an SVG) is left out rather than guessed; a gradient fill becomes
a mid grey so the shape stays visible. Pictures reach here already checked by
``core.library.check_picture`` (no scripts, no outside references).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportlab.graphics.shapes import Drawing, Group
    from reportlab.platypus import Flowable

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

_NAMED = {
    "black": "#000000",
    "white": "#ffffff",
    "red": "#ff0000",
    "green": "#008000",
    "blue": "#0000ff",
    "yellow": "#ffff00",
    "orange": "#ffa500",
    "grey": "#808080",
    "gray": "#808080",
    "silver": "#c0c0c0",
    "navy": "#000080",
    "maroon": "#800000",
    "purple": "#800080",
    "teal": "#008080",
    "lime": "#00ff00",
    "aqua": "#00ffff",
    "fuchsia": "#ff00ff",
    "olive": "#808000",
    "darkgrey": "#a9a9a9",
    "darkgray": "#a9a9a9",
    "lightgrey": "#d3d3d3",
    "lightgray": "#d3d3d3",
}
_FALLBACK_FILL = "#9a9a9a"
"""A fill this reader cannot paint (a gradient or pattern): grey, so the shape still shows."""
_INHERITED = (
    "fill",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "fill-opacity",
    "stroke-opacity",
    "fill-rule",
    "stroke-dasharray",
)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PATH_TOKEN = re.compile(r"[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TRANSFORM = re.compile(r"(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)")
MAX_ELEMENTS = 20_000
"""An SVG with more shapes than this is drawn no further (a handout picture needs far fewer)."""
MAX_DEPTH = 40
"""Groups nested deeper than this are left out (no picture needs it; Python's stack would)."""
LIMIT = 1e6
"""Every number of an SVG is held to ±LIMIT."""


class PictureDrawError(ValueError):
    """An SVG that cannot be drawn at all (not XML, no size)."""


@dataclass(frozen=True)
class _Style:
    fill: str | None = "#000000"
    stroke: str | None = None
    stroke_width: float = 1.0
    linecap: int = 0
    linejoin: int = 0
    fill_opacity: float = 1.0
    stroke_opacity: float = 1.0
    opacity: float = 1.0
    even_odd: bool = False
    dash: tuple[float, ...] = ()


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _finite(text: str) -> float:
    """A number of the file, held to ±:data:`LIMIT` (an "infinite" or huge coordinate would
    only fail later, inside reportlab, when the handout is half built)."""
    value = float(text)
    return max(-LIMIT, min(LIMIT, value)) if math.isfinite(value) else 0.0


def _numbers(text: str) -> list[float]:
    return [_finite(n) for n in _NUMBER.findall(text)]


def _length(text: str | None, default: float = 0.0) -> float:
    """A length in user units (px; pt/mm/cm/in converted; % and em taken as plain numbers)."""
    if not text:
        return default
    found = _NUMBER.match(text.strip())
    if not found:
        return default
    value = _finite(found.group())
    unit = text.strip()[found.end() :].strip().lower()
    return value * {"pt": 4 / 3, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0, "pc": 16.0}.get(
        unit, 1.0
    )


def _colour(text: str | None) -> str | None:
    """``#rgb``, ``#rrggbb``, ``rgb(r, g, b)`` or a basic colour name as ``#rrggbb``; None for
    ``none``; the grey fallback for what cannot be painted (``url(#gradient)``)."""
    if text is None:
        return None
    value = text.strip().lower()
    if value in ("none", "transparent", ""):
        return None
    if value.startswith("url("):
        return _FALLBACK_FILL
    if value.startswith("#"):
        hexes = value[1:]
        if len(hexes) == 3:
            hexes = "".join(c * 2 for c in hexes)
        return f"#{hexes[:6]}" if re.fullmatch(r"[0-9a-f]{6}([0-9a-f]{2})?", hexes) else None
    if value.startswith("rgb"):
        parts = _numbers(value)[:3]
        if "%" in value:
            parts = [p * 2.55 for p in parts]
        if len(parts) == 3:
            return "#" + "".join(f"{max(0, min(255, round(p))):02x}" for p in parts)
        return None
    return _NAMED.get(value, "#000000" if value == "currentcolor" else None)


def _attributes(el: ET.Element) -> dict[str, str]:
    """Presentation attributes with ``style="..."`` declarations over them (as CSS says)."""
    attrs = {_local(k): v for k, v in el.attrib.items()}
    for decl in attrs.pop("style", "").split(";"):
        if ":" in decl:
            key, value = decl.split(":", 1)
            attrs[key.strip().lower()] = value.strip()
    return attrs


def _inherit(parent: Mapping[str, str], attrs: Mapping[str, str]) -> dict[str, str]:
    out = {k: v for k, v in parent.items() if k in _INHERITED}
    out.update(attrs)
    return out


def _opacity(text: str | None) -> float:
    nums = _numbers(text or "")
    return max(0.0, min(1.0, nums[0])) if nums else 1.0


def _style(attrs: Mapping[str, str], opacity: float) -> _Style:
    caps = {"butt": 0, "round": 1, "square": 2}
    joins = {"miter": 0, "round": 1, "bevel": 2}
    dash = tuple(abs(n) for n in _numbers(attrs.get("stroke-dasharray", "")))
    return _Style(
        fill=_colour(attrs.get("fill", "#000000")),
        stroke=_colour(attrs.get("stroke")),
        stroke_width=_length(attrs.get("stroke-width"), 1.0),
        linecap=caps.get(attrs.get("stroke-linecap", ""), 0),
        linejoin=joins.get(attrs.get("stroke-linejoin", ""), 0),
        fill_opacity=_opacity(attrs.get("fill-opacity")),
        stroke_opacity=_opacity(attrs.get("stroke-opacity")),
        opacity=opacity,
        even_odd=attrs.get("fill-rule", "") == "evenodd",
        dash=dash if any(dash) else (),
    )


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """``m`` then ``n`` applied inside it (SVG's nested transforms)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + c * b2,
        b * a2 + d * b2,
        a * c2 + c * d2,
        b * c2 + d * d2,
        a * e2 + c * f2 + e,
        b * e2 + d * f2 + f,
    )


def parse_transform(text: str | None) -> Matrix:
    m = IDENTITY
    for name, args in _TRANSFORM.findall(text or ""):
        v = _numbers(args)
        step: Matrix = IDENTITY
        if name == "matrix" and len(v) == 6:
            step = (v[0], v[1], v[2], v[3], v[4], v[5])
        elif name == "translate" and v:
            step = (1, 0, 0, 1, v[0], v[1] if len(v) > 1 else 0.0)
        elif name == "scale" and v:
            step = (v[0], 0, 0, v[1] if len(v) > 1 else v[0], 0, 0)
        elif name == "rotate" and v:
            r = math.radians(v[0])
            cos, sin = math.cos(r), math.sin(r)
            step = (cos, sin, -sin, cos, 0, 0)
            if len(v) == 3:
                cx, cy = v[1], v[2]
                step = _multiply(_multiply((1, 0, 0, 1, cx, cy), step), (1, 0, 0, 1, -cx, -cy))
        elif name == "skewX" and v:
            step = (1, 0, math.tan(math.radians(v[0])), 1, 0, 0)
        elif name == "skewY" and v:
            step = (1, math.tan(math.radians(v[0])), 0, 1, 0, 0)
        m = _multiply(m, step)
    return m


# ---------------------------------------------------------------------------------------------
# path data to absolute move/line/cubic commands


Segment = tuple[str, tuple[float, ...]]  # ("M", (x, y)) | ("L", (x, y)) | ("C", 6) | ("Z", ())


def _arc(
    start: tuple[float, float],
    rx: float,
    ry: float,
    phi: float,
    large: bool,
    sweep: bool,
    end: tuple[float, float],
) -> list[Segment]:
    """An elliptical arc as cubic Béziers (SVG implementation notes, F.6)."""
    (x1, y1), (x2, y2) = start, end
    if rx == 0 or ry == 0 or start == end:
        return [("L", (x2, y2))]
    rx, ry = abs(rx), abs(ry)
    cos, sin = math.cos(math.radians(phi)), math.sin(math.radians(phi))
    dx, dy = (x1 - x2) / 2, (y1 - y2) / 2
    xp, yp = cos * dx + sin * dy, -sin * dx + cos * dy
    scale = xp**2 / rx**2 + yp**2 / ry**2
    if scale > 1:
        rx, ry = rx * math.sqrt(scale), ry * math.sqrt(scale)
    num = rx**2 * ry**2 - rx**2 * yp**2 - ry**2 * xp**2
    den = rx**2 * yp**2 + ry**2 * xp**2
    coef = math.sqrt(max(0.0, num / den)) if den else 0.0
    if large == sweep:
        coef = -coef
    cxp, cyp = coef * rx * yp / ry, -coef * ry * xp / rx
    cx = cos * cxp - sin * cyp + (x1 + x2) / 2
    cy = sin * cxp + cos * cyp + (y1 + y2) / 2

    def angle(ux: float, uy: float) -> float:
        return math.atan2(uy, ux)

    t1 = angle((xp - cxp) / rx, (yp - cyp) / ry)
    t2 = angle((-xp - cxp) / rx, (-yp - cyp) / ry)
    delta = t2 - t1
    if sweep and delta < 0:
        delta += 2 * math.pi
    elif not sweep and delta > 0:
        delta -= 2 * math.pi
    parts = max(1, math.ceil(abs(delta) / (math.pi / 2)))
    step = delta / parts
    k = 4 / 3 * math.tan(step / 4)
    out: list[Segment] = []

    def point(t: float) -> tuple[float, float]:
        return (
            cx + rx * math.cos(t) * cos - ry * math.sin(t) * sin,
            cy + rx * math.cos(t) * sin + ry * math.sin(t) * cos,
        )

    def deriv(t: float) -> tuple[float, float]:
        return (
            -rx * math.sin(t) * cos - ry * math.cos(t) * sin,
            -rx * math.sin(t) * sin + ry * math.cos(t) * cos,
        )

    t = t1
    for _ in range(parts):
        p0, p3 = point(t), point(t + step)
        d0, d3 = deriv(t), deriv(t + step)
        out.append(
            (
                "C",
                (
                    p0[0] + k * d0[0],
                    p0[1] + k * d0[1],
                    p3[0] - k * d3[0],
                    p3[1] - k * d3[1],
                    p3[0],
                    p3[1],
                ),
            )
        )
        t += step
    return out


def parse_path(d: str) -> list[Segment]:
    """SVG path data as absolute M/L/C/Z segments (quadratics and arcs become cubics)."""
    tokens = _PATH_TOKEN.findall(d)
    out: list[Segment] = []
    cmd = ""
    x = y = sx = sy = 0.0
    last_ctrl: tuple[float, float] | None = None
    last_quad: tuple[float, float] | None = None
    i = 0

    def take(n: int) -> list[float] | None:
        nonlocal i
        vals = tokens[i : i + n]
        if len(vals) < n or any(v.isalpha() for v in vals):
            return None
        i += n
        return [_finite(v) for v in vals]

    while i < len(tokens):
        if tokens[i].isalpha():
            cmd = tokens[i]
            i += 1
            if cmd in "Zz":
                out.append(("Z", ()))
                x, y = sx, sy
                last_ctrl = last_quad = None
                continue
        elif not cmd:
            break
        rel = cmd.islower()
        c = cmd.upper()
        ox, oy = (x, y) if rel else (0.0, 0.0)
        ctrl: tuple[float, float] | None = None
        quad: tuple[float, float] | None = None
        if c in "ML":
            v = take(2)
            if v is None:
                break
            x, y = ox + v[0], oy + v[1]
            out.append((c, (x, y)))
            if c == "M":
                sx, sy = x, y
                cmd = "l" if rel else "L"  # further pairs after a move are lines
        elif c in "HV":
            v = take(1)
            if v is None:
                break
            if c == "H":
                x = ox + v[0] if rel else v[0]
            else:
                y = oy + v[0] if rel else v[0]
            out.append(("L", (x, y)))
        elif c in "CS":
            v = take(6 if c == "C" else 4)
            if v is None:
                break
            if c == "S":
                x1, y1 = (2 * x - last_ctrl[0], 2 * y - last_ctrl[1]) if last_ctrl else (x, y)
                v = [x1 - ox, y1 - oy, *v]
            pts = [ox + v[0], oy + v[1], ox + v[2], oy + v[3], ox + v[4], oy + v[5]]
            out.append(("C", tuple(pts)))
            ctrl = (pts[2], pts[3])
            x, y = pts[4], pts[5]
        elif c in "QT":
            v = take(4 if c == "Q" else 2)
            if v is None:
                break
            if c == "T":
                qx, qy = (2 * x - last_quad[0], 2 * y - last_quad[1]) if last_quad else (x, y)
                ex, ey = ox + v[0], oy + v[1]
            else:
                qx, qy, ex, ey = ox + v[0], oy + v[1], ox + v[2], oy + v[3]
            out.append(
                (
                    "C",
                    (
                        x + 2 / 3 * (qx - x),
                        y + 2 / 3 * (qy - y),
                        ex + 2 / 3 * (qx - ex),
                        ey + 2 / 3 * (qy - ey),
                        ex,
                        ey,
                    ),
                )
            )
            quad = (qx, qy)
            x, y = ex, ey
        elif c == "A":
            v = take(7)
            if v is None:
                break
            end = (ox + v[5], oy + v[6])
            out += _arc((x, y), v[0], v[1], v[2], bool(v[3]), bool(v[4]), end)
            x, y = end
        else:
            break
        last_ctrl, last_quad = ctrl, quad
    return out


# ---------------------------------------------------------------------------------------------
# elements to reportlab shapes


def _ellipse_path(cx: float, cy: float, rx: float, ry: float) -> list[Segment]:
    return [
        ("M", (cx + rx, cy)),
        *_arc((cx + rx, cy), rx, ry, 0, False, True, (cx - rx, cy)),
        *_arc((cx - rx, cy), rx, ry, 0, False, True, (cx + rx, cy)),
        ("Z", ()),
    ]


def _rect_path(a: Mapping[str, str]) -> list[Segment]:
    x, y = _length(a.get("x")), _length(a.get("y"))
    w, h = _length(a.get("width")), _length(a.get("height"))
    if w <= 0 or h <= 0:
        return []
    rx = _length(a.get("rx"), -1)
    ry = _length(a.get("ry"), -1)
    rx, ry = (ry if rx < 0 else rx), (rx if ry < 0 else ry)
    rx, ry = max(0.0, min(rx, w / 2)), max(0.0, min(ry, h / 2))
    if rx == 0 or ry == 0:
        return [
            ("M", (x, y)),
            ("L", (x + w, y)),
            ("L", (x + w, y + h)),
            ("L", (x, y + h)),
            ("Z", ()),
        ]
    return [
        ("M", (x + rx, y)),
        ("L", (x + w - rx, y)),
        *_arc((x + w - rx, y), rx, ry, 0, False, True, (x + w, y + ry)),
        ("L", (x + w, y + h - ry)),
        *_arc((x + w, y + h - ry), rx, ry, 0, False, True, (x + w - rx, y + h)),
        ("L", (x + rx, y + h)),
        *_arc((x + rx, y + h), rx, ry, 0, False, True, (x, y + h - ry)),
        ("L", (x, y + ry)),
        *_arc((x, y + ry), rx, ry, 0, False, True, (x + rx, y)),
        ("Z", ()),
    ]


def _points_path(text: str, closed: bool) -> list[Segment]:
    v = _numbers(text)
    pts = list(zip(v[0::2], v[1::2], strict=False))
    if len(pts) < 2:
        return []
    out: list[Segment] = [("M", pts[0]), *(("L", p) for p in pts[1:])]
    return [*out, ("Z", ())] if closed else out


def _segments(name: str, a: Mapping[str, str]) -> tuple[list[Segment], bool]:
    """(segments, fillable) of one shape element."""
    if name == "path":
        return parse_path(a.get("d", "")), True
    if name == "rect":
        return _rect_path(a), True
    if name == "circle":
        r = _length(a.get("r"))
        cx, cy = _length(a.get("cx")), _length(a.get("cy"))
        return (_ellipse_path(cx, cy, r, r) if r > 0 else []), True
    if name == "ellipse":
        rx, ry = _length(a.get("rx")), _length(a.get("ry"))
        cx, cy = _length(a.get("cx")), _length(a.get("cy"))
        return (_ellipse_path(cx, cy, rx, ry) if rx > 0 and ry > 0 else []), True
    if name == "line":
        p1 = (_length(a.get("x1")), _length(a.get("y1")))
        p2 = (_length(a.get("x2")), _length(a.get("y2")))
        return [("M", p1), ("L", p2)], False
    if name in ("polyline", "polygon"):
        return _points_path(a.get("points", ""), closed=name == "polygon"), True
    return [], False


def _shape(segments: list[Segment], style: _Style, fillable: bool) -> Any:
    from reportlab.graphics.shapes import Path
    from reportlab.lib.colors import Color, HexColor

    def paint(hexval: str | None, alpha: float) -> Color | None:
        if hexval is None or alpha <= 0:
            return None
        c = HexColor(hexval[:7])
        return Color(c.red, c.green, c.blue, alpha=alpha) if alpha < 1 else c

    fill = paint(style.fill, style.fill_opacity * style.opacity) if fillable else None
    stroke = paint(style.stroke, style.stroke_opacity * style.opacity)
    if fill is None and (stroke is None or style.stroke_width <= 0):
        return None
    path = Path(
        fillColor=fill,
        strokeColor=stroke,
        strokeWidth=style.stroke_width if stroke is not None else 0,
        strokeLineCap=style.linecap,
        strokeLineJoin=style.linejoin,
        strokeDashArray=list(style.dash) or None,
        fillMode=0 if style.even_odd else 1,  # reportlab: 0 even-odd, 1 non-zero winding
    )
    for kind, v in segments:
        if kind == "M":
            path.moveTo(*v)
        elif kind == "L":
            path.lineTo(*v)
        elif kind == "C":
            path.curveTo(*v)
        else:
            path.closePath()
    return path


def _walk(
    el: ET.Element, inherited: Mapping[str, str], opacity: float, budget: list[int], depth: int = 0
) -> Iterator[Any]:
    """reportlab shapes and groups for ``el``'s children (``defs``, text, ``use``... skipped)."""
    from reportlab.graphics.shapes import Group

    if depth > MAX_DEPTH:
        return
    for child in el:
        name = _local(child.tag)
        budget[0] -= 1
        if budget[0] < 0:
            return
        attrs = _attributes(child)
        if attrs.get("display") == "none" or attrs.get("visibility") == "hidden":
            continue
        style_attrs = _inherit(inherited, attrs)
        alpha = opacity * _opacity(attrs.get("opacity"))
        transform = parse_transform(attrs.get("transform"))
        if name in ("g", "a", "svg", "switch"):
            group = Group(*_walk(child, style_attrs, alpha, budget, depth + 1))
            group.transform = transform
            yield group
            continue
        segments, fillable = _segments(name, attrs)
        if not segments:
            continue
        shape = _shape(segments, _style(style_attrs, alpha), fillable)
        if shape is None:
            continue
        if transform != IDENTITY:
            group = Group(shape)
            group.transform = transform
            yield group
        else:
            yield shape


@dataclass(frozen=True)
class SvgBox:
    """The user-space box an SVG draws in (its viewBox) and its natural size in points."""

    x: float
    y: float
    width: float
    height: float
    natural_width: float
    natural_height: float


def svg_box(root: ET.Element) -> SvgBox:
    attrs = _attributes(root)
    vb = _numbers(attrs.get("viewbox", attrs.get("viewBox", "")))
    w = _length(attrs.get("width"))
    h = _length(attrs.get("height"))
    if len(vb) == 4 and vb[2] > 0 and vb[3] > 0:
        x, y, vw, vh = vb
    elif w > 0 and h > 0:
        x, y, vw, vh = 0.0, 0.0, w, h
    else:
        raise PictureDrawError("the SVG picture has no size (no viewBox, width or height)")
    nw, nh = (w, h) if w > 0 and h > 0 else (vw, vh)
    return SvgBox(x, y, vw, vh, nw * 0.75, nh * 0.75)


_parsed: dict[str, tuple[SvgBox, Group]] = {}


def _parse(svg: bytes) -> tuple[SvgBox, Group]:
    key = hashlib.sha256(svg).hexdigest()
    if key not in _parsed:
        from reportlab.graphics.shapes import Group

        try:
            root = ET.fromstring(svg)
        except ET.ParseError as exc:
            raise PictureDrawError(f"the SVG picture is not well-formed XML ({exc})") from None
        if _local(root.tag) != "svg":
            raise PictureDrawError("the SVG picture's outer element is not <svg>")
        box = svg_box(root)
        attrs = _attributes(root)
        group = Group(
            *_walk(root, _inherit({}, attrs), _opacity(attrs.get("opacity")), [MAX_ELEMENTS])
        )
        _try_drawing(box, group)
        if len(_parsed) > 256:
            _parsed.clear()
        _parsed[key] = (box, group)
    return _parsed[key]


def _try_drawing(box: SvgBox, group: Group) -> None:
    """Draw the parsed picture once on a throwaway page, so a picture reportlab cannot draw is
    refused here (and left out of the handout) rather than failing the whole build later."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.shapes import Drawing
    from reportlab.pdfgen.canvas import Canvas

    d = Drawing(box.width, box.height)
    d.add(group)
    try:
        renderPDF.draw(d, Canvas(io.BytesIO()), 0, 0)
    except Exception as exc:  # noqa: BLE001 - any failure of a foreign picture: refuse it
        raise PictureDrawError(f"the SVG picture cannot be drawn ({type(exc).__name__})") from None
    finally:
        d.contents.clear()


def svg_drawing(svg: bytes, width: float, max_height: float | None = None) -> Drawing:
    """The SVG as a reportlab Drawing ``width`` points wide (narrower if ``max_height`` binds),
    keeping its aspect ratio; :class:`PictureDrawError` when it cannot be drawn at all."""
    from reportlab.graphics.shapes import Drawing, Group

    from clinic_app.reports import fonts

    box, content = _parse(svg)
    scale = width / box.width
    if max_height is not None and box.height * scale > max_height:
        scale = max_height / box.height
    outer = Group(content)
    # y down (SVG) to y up (PDF), viewBox origin to the drawing's corner
    outer.transform = (scale, 0, 0, -scale, -box.x * scale, (box.y + box.height) * scale)
    fonts.register_fonts()
    d = Drawing(box.width * scale, box.height * scale)
    d.initialFontName = fonts.SANS  # else reportlab adds an unembedded Helvetica
    d.add(outer)
    return d


_raster_sizes: dict[str, tuple[int, int]] = {}


def raster_size(data: bytes) -> tuple[int, int]:
    """Pixel width and height of a PNG or JPEG, decoded in full once per picture, so a damaged
    one is refused here (:class:`PictureDrawError`) and not while the PDF is being drawn."""
    key = hashlib.sha256(data).hexdigest()
    if key not in _raster_sizes:
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                size = im.size
        except Exception as exc:  # noqa: BLE001 - whatever the decoder says: not drawable
            raise PictureDrawError(
                f"the picture cannot be decoded ({type(exc).__name__})"
            ) from None
        if len(_raster_sizes) > 256:
            _raster_sizes.clear()
        _raster_sizes[key] = (int(size[0]), int(size[1]))
    return _raster_sizes[key]


def picture_flowable(
    media_type: str, data: bytes, width: float, max_height: float | None = None
) -> Flowable:
    """A picture as a flowable at most ``width`` × ``max_height`` points, aspect kept."""
    if media_type == "image/svg+xml":
        return svg_drawing(data, width, max_height)
    from reportlab.platypus import Image

    pw, ph = raster_size(data)
    scale = width / pw
    if max_height is not None and ph * scale > max_height:
        scale = max_height / ph
    return Image(io.BytesIO(data), width=pw * scale, height=ph * scale)


__all__ = [
    "PictureDrawError",
    "parse_path",
    "parse_transform",
    "picture_flowable",
    "raster_size",
    "svg_box",
    "svg_drawing",
]
