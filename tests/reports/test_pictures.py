"""The shipped exercise pictures: two frames each, one style, rendered like the references.

The references (``tests/data/exercise_pictures/<id>.png``, 60 dpi) are rewritten by
``scripts/draw_exercises.py --references`` after a deliberate change of a drawing; looking at them
is part of that change. Here each SVG is rendered by Qt (what a screen shows) and compared with
its reference within a tolerance (anti-aliasing may differ by a shade between Qt versions, a
moved limb may not), and the PDF's own rendering of the same SVG (reports/pictures.py, through
reportlab and poppler) is compared with Qt's, so the printed handout shows what the file says.
"""

from __future__ import annotations

import importlib.util
import io
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat

from clinic_app.core.library import check_picture, shipped_library
from clinic_app.reports import figures, pictures
from tests.reports.conftest import need_tool

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = ROOT / "tests" / "data" / "exercise_pictures"
IDS = sorted(figures.FIGURE_IDS)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "draw_exercises", ROOT / "scripts" / "draw_exercises.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def render(qapp):
    """Qt's SVG renderer, on pytest-qt's application (one QApplication for the whole session)."""
    return _script().render_png


def _svg(fid: str) -> bytes:
    return (figures.exercises_dir() / f"{fid}.svg").read_bytes()


def _difference(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    """(mean difference 0-255, share of pixels off by more than a quarter of the range)."""
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    mean = ImageStat.Stat(diff).mean[0]
    histogram = diff.histogram()
    far = sum(histogram[64:]) / (diff.width * diff.height)
    return mean, far


def test_every_shipped_exercise_has_a_picture_and_a_reference() -> None:
    assert set(shipped_library()) == set(IDS)
    for ex in shipped_library().values():
        assert ex.pictures, ex.id
        assert ex.pictures[0].media_type == "image/svg+xml", ex.id
        check_picture(ex.pictures[0].data)  # passes the checks an imported picture must pass
    assert sorted(p.stem for p in REFERENCES.glob("*.png")) == IDS


@pytest.mark.parametrize("fid", IDS)
def test_the_picture_renders_like_its_reference(fid: str, render) -> None:
    reference = Image.open(REFERENCES / f"{fid}.png")
    now = Image.open(io.BytesIO(render(_svg(fid), _script().REFERENCE_DPI)))
    assert now.size == reference.size, (
        "redraw the references: scripts/draw_exercises.py --references"
    )
    mean, far = _difference(now, reference)
    assert mean < 2.0, (fid, mean)
    assert far < 0.005, (fid, far)


def test_the_comparison_sees_a_moved_limb(render) -> None:
    """The tolerance is not so loose that a changed pose passes."""
    svg = _svg("glute_bridge").decode()
    moved = re.sub(
        r'points="([\d.]+),([\d.]+)', lambda m: f'points="{float(m[1]) + 30},{m[2]}', svg, count=3
    )
    reference = Image.open(REFERENCES / "glute_bridge.png")
    mean, far = _difference(Image.open(io.BytesIO(render(moved.encode(), 60))), reference)
    assert mean >= 2.0 or far >= 0.005


@pytest.mark.parametrize("fid", IDS)
def test_the_pdf_draws_the_svg_as_qt_does(fid: str, render, tmp_path: Path) -> None:
    from reportlab.graphics import renderPDF

    tool = need_tool("pdftoppm")
    svg = _svg(fid)
    root = ET.fromstring(svg)
    width_pt = float(root.attrib["width"]) * 0.75
    renderPDF.drawToFile(pictures.svg_drawing(svg, width_pt), str(tmp_path / "p.pdf"))
    subprocess.run(
        [tool, "-png", "-r", "60", str(tmp_path / "p.pdf"), str(tmp_path / "p")], check=True
    )
    printed = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    screen = Image.open(io.BytesIO(render(svg, 60))).convert("RGB")
    assert abs(printed.width - screen.width) <= 1
    assert abs(printed.height - screen.height) <= 1
    # two renderers: compare without resampling, at the best of a pixel's shift either way
    # (poppler and Qt may round the page origin apart), softened by a pixel's blur, so only a
    # shape drawn differently counts
    w, h = min(printed.width, screen.width) - 2, min(printed.height, screen.height) - 2
    soft = ImageFilter.GaussianBlur(1)
    screen = screen.crop((1, 1, 1 + w, 1 + h)).filter(soft)
    mean, far = min(
        _difference(printed.crop((dx, dy, dx + w, dy + h)).filter(soft), screen)
        for dx in (0, 1, 2)
        for dy in (0, 1, 2)
    )
    assert mean < 3.0, (fid, mean)
    assert far < 0.005, (fid, far)


@pytest.mark.parametrize("fid", IDS)
def test_two_frames_one_style(fid: str) -> None:
    """Start and end frame side by side; the same limb width, head size and floor in all."""
    fig = figures.figure(fid)
    heads = [s for s in fig.shapes if isinstance(s, figures.Disc) and s.fill == figures.NEAR]
    assert len(heads) == 2
    assert heads[0].r == heads[1].r == figures.HEAD_R
    assert heads[0].center[0] < fig.width / 2 < heads[1].center[0], "one figure in each frame"
    floors = [
        s
        for s in fig.shapes
        if isinstance(s, figures.Stroke) and s.color == figures.PROP_LINE and len(s.points) == 2
    ]
    assert len(floors) == 2
    assert floors[0].points[0][1] == floors[1].points[0][1]
    limbs = [
        s
        for s in fig.shapes
        if isinstance(s, figures.Stroke) and s.color in (figures.NEAR, figures.FAR)
    ]
    assert {s.width for s in limbs} == {figures.LIMB_W}
    arrows = [s for s in fig.shapes if isinstance(s, figures.Fill) and s.color == figures.ARROW]
    assert arrows, "a movement arrow"
    assert all(min(x for x, _ in a.points) > fig.width / 2 for a in arrows), (
        "arrows in the end frame"
    )
    colours = {c for c in re.findall(r"#[0-9a-f]{6}", figures.to_svg(fig))}
    assert colours <= set(figures.PALETTE)


def test_the_colours_print_as_distinct_greys() -> None:
    def grey(hexval: str) -> float:
        r, g, b = (int(hexval[i : i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    roles = [
        figures.NEAR,
        figures.WEIGHT,
        figures.ARROW,
        figures.PROP_LINE,
        figures.FAR,
        figures.PROP_FILL,
    ]
    levels = [grey(c) for c in roles]
    assert levels == sorted(levels)
    assert all(b - a >= 20 for a, b in zip(levels, levels[1:], strict=False)), levels
    assert 255 - levels[-1] >= 20  # props' fill still shows on white paper


@pytest.mark.parametrize("fid", IDS)
def test_clear_at_60_dpi_and_300_dpi(fid: str, render) -> None:
    """At 60 dpi (a screen) the figures are still tens of pixels tall; at 300 dpi (print) the
    limbs are several pixels wide, not hairlines."""
    small = Image.open(io.BytesIO(render(_svg(fid), 60))).convert("L")
    big = Image.open(io.BytesIO(render(_svg(fid), 300))).convert("L")
    assert small.height >= 60
    dark = big.point(lambda v: 255 if v < 90 else 0)
    box = dark.getbbox()
    assert box is not None
    assert box[3] - box[1] >= 150
    # a horizontal line through the middle of the dark area crosses limbs at least 10 px wide
    row = (box[1] + box[3]) // 2
    runs = re.findall(rb"\xff+", dark.crop((0, row, big.width, row + 1)).tobytes())
    assert runs
    assert max(len(r) for r in runs) >= 10


def test_the_svg_reader_refuses_what_it_cannot_draw() -> None:
    with pytest.raises(pictures.PictureDrawError):
        pictures.svg_drawing(b"<svg><rect", 100)
    with pytest.raises(pictures.PictureDrawError):
        pictures.svg_drawing(b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', 100)
    with pytest.raises(pictures.PictureDrawError):
        pictures.svg_drawing(b"<html/>", 100)


def test_the_svg_reader_follows_paths_and_transforms() -> None:
    segments = pictures.parse_path(
        "M10 10 h20 v5 q5 5 10 0 t10 0 c1 1 2 2 3 3 s4 4 5 5 a5 5 0 0 1 10 0 z"
    )
    kinds = [k for k, _ in segments]
    assert kinds[:3] == ["M", "L", "L"]
    assert kinds[-1] == "Z"
    assert "C" in kinds
    assert segments[1][1] == (30.0, 10.0)
    assert segments[2][1] == (30.0, 15.0)
    assert pictures.parse_transform("translate(5,6) scale(2)") == (2, 0, 0, 2, 5, 6)
    huge = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        + b"<rect width='1' height='1'/>" * 30_000
        + b"</svg>"
    )
    d = pictures.svg_drawing(huge, 50)  # drawn up to the element limit, not for ever
    assert d.width == 50


HOSTILE = {
    "infinite coordinate": b'<path d="M0 0 L1e999 5" stroke="black"/>',
    "infinite radius": b'<circle cx="5" cy="5" r="1e999"/>',
    "zero scale": b'<g transform="scale(1e999)"><rect width="5" height="5"/></g>',
    "deep nesting": b"<g>" * 3000 + b'<rect width="5" height="5"/>' + b"</g>" * 3000,
    "huge stroke": b'<rect width="5" height="5" stroke="#000" stroke-width="1e999"/>',
    "broken path": b'<path d="M 1 2 L x y C 1"/><path d="Z Z m"/>',
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_svg_never_breaks_the_handout(body: bytes, form, example, make_data) -> None:
    """A picture reportlab cannot draw is refused when read (then left out of the card), never
    in the middle of building the PDF."""
    from dataclasses import replace

    from clinic_app.core.library import ExerciseDef, Picture
    from clinic_app.reports import build_handout
    from tests.reports.conftest import build_pdf, with_values

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">' + body + b"</svg>"
    custom = ExerciseDef(
        "odd_picture",
        "Odd picture",
        "Purpose.",
        ("Step one.",),
        pictures=(Picture.of(svg, "image/svg+xml"),),
    )
    library = shipped_library(form).merged([custom])
    program = {"exercises": [{"exercise": "odd_picture", "sets": 2, "reps": 5}]}
    findings = with_values(form, example("runner_left_proximal"), home_program=program)
    pdf = build_pdf(build_handout, replace(make_data(findings), library=library))
    assert "1. Odd picture" in pdf.flat
