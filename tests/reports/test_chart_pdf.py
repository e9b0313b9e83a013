"""Progress charts in the PDF: a platypus story with the chart read back with pypdf, and the
page rendered by poppler compared with a reference image.

Reference images: ``tests/data/charts/*.png``. After a deliberate change to the chart, rewrite
them with ``CHART_REFERENCE=write`` set while running this file and tests/ui/test_chart_widget.py,
and look at every one before committing.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader

from clinic_app.core import chart as ch
from clinic_app.core.form import Form
from clinic_app.reports.chart_pdf import chart_drawing, chart_flowable
from tests.core.test_chart import GOALS, episode, visits
from tests.reports.conftest import need_tool

CHARTS = Path(__file__).resolve().parents[1] / "data" / "charts"
WIDTH, HEIGHT = 480, 240
# Mean absolute difference (0-255 grey levels) allowed between a rendering and its reference.
# Dropping one series moves it by 1.2 to 3.3 and the goal line by 0.5 to 0.7 (checked below);
# anti-aliasing and font hinting differences between machines stay well under 0.1.
TOLERANCE = 0.35


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute grey-level difference of two images of the same size."""
    assert a.size == b.size, f"size {a.size} != reference {b.size}"
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    return float(ImageStat.Stat(diff).mean[0])


def load(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def compare_with_reference(image: Image.Image, name: str) -> float:
    """The difference from ``tests/data/charts/NAME.png`` (written when CHART_REFERENCE=write)."""
    path = CHARTS / f"{name}.png"
    if os.environ.get("CHART_REFERENCE") == "write":
        CHARTS.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(path, optimize=True)
    assert path.exists(), f"no reference image {path} (write it with CHART_REFERENCE=write)"
    return mean_difference(image, load(path))


def without_series(chart: ch.Chart, role: str) -> ch.Chart:
    return replace(chart, series=tuple(s for s in chart.series if s.role != role))


def chart_page(chart: ch.Chart, path: Path, painter: str = "flowable") -> Path:
    """One PDF page exactly the chart's size, holding only the chart."""
    from reportlab.graphics import renderPDF
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=(WIDTH, HEIGHT))
    if painter == "drawing":
        renderPDF.draw(chart_drawing(chart, WIDTH, HEIGHT), canvas, 0, 0)
    else:
        chart_flowable(chart, WIDTH, HEIGHT).drawOn(canvas, 0, 0)
    canvas.showPage()
    canvas.save()
    return path


def render(pdf: Path) -> Image.Image:
    tool = need_tool("pdftoppm")
    root = pdf.with_suffix("")
    subprocess.run([tool, "-png", "-r", "72", "-singlefile", str(pdf), str(root)], check=True)
    return load(root.with_suffix(".png"))


def test_chart_in_a_story_reads_back(form: Form, tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    path = tmp_path / "story.pdf"
    charts = [
        ch.measure_chart(form, "nordic_force", episode(), GOALS, "left"),
        ch.gap_chart(form, "nordic_force", episode(), GOALS, "left"),
        ch.measure_chart(form, "lefs_total", episode(), mcid=9),
        ch.measure_chart(form, "nordic_force", []),
    ]
    story = [Paragraph("Progress", getSampleStyleSheet()["Heading1"])]
    story += [chart_flowable(c, 460, 200) for c in charts[:3]]
    story.append(chart_drawing(charts[3], 460, 200))  # a Drawing is a Flowable too
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    text = " ".join(page.extract_text() for page in PdfReader(path).pages)
    for words in (
        "Nordic hamstring force",
        "Left (painful side)",
        "Right",
        "Goal (involved side): at least 256 N",
        "deficit of the weaker side",
        "deficit below 15%",
        "Goal: below 10%",
        "LEFS total",
        "baseline ± MCID 9 (higher is better)",
        "200 N",
        "30%",
        "60 points",
        "2 Mar",
        "6 Apr",
        ch.EMPTY_TEXT,
    ):
        assert words in text, words


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("nordic_pdf", lambda f: ch.measure_chart(f, "nordic_force", episode(), GOALS, "left")),
        ("gap_pdf", lambda f: ch.gap_chart(f, "nordic_force", episode(), GOALS, "left")),
        ("lefs_pdf", lambda f: ch.measure_chart(f, "lefs_total", episode(), GOALS, mcid=9)),
        ("many_pdf", lambda f: ch.measure_chart(f, "nordic_force", visits(55))),
    ],
)
def test_rendered_page_matches_reference(
    form: Form, tmp_path: Path, name: str, build: object
) -> None:
    chart = build(form)  # type: ignore[operator]
    image = render(chart_page(chart, tmp_path / "chart.pdf"))
    assert image.size == (WIDTH, HEIGHT)
    assert compare_with_reference(image, name) < TOLERANCE
    # the Drawing painter draws the same picture
    drawn = render(chart_page(chart, tmp_path / "drawing.pdf", "drawing"))
    assert compare_with_reference_only(drawn, name) < TOLERANCE
    # the tolerance still sees a missing series
    for role in {s.role for s in chart.series}:
        gone = render(chart_page(without_series(chart, role), tmp_path / "gone.pdf"))
        assert compare_with_reference_only(gone, name) > TOLERANCE * 1.5, role


def compare_with_reference_only(image: Image.Image, name: str) -> float:
    return mean_difference(image, load(CHARTS / f"{name}.png"))
