"""Write the shipped exercise drawings and, optionally, PNG renders of them to look at.

    .venv/bin/python scripts/draw_exercises.py                 # resources/exercises/<id>.svg
    .venv/bin/python scripts/draw_exercises.py --png /tmp/x --dpi 300 60
    .venv/bin/python scripts/draw_exercises.py --references    # tests/data/exercise_pictures/

The drawings are computed from joint angles in ``clinic_app/reports/figures.py`` (one stick
person, one line weight, one floor line for all of them); this script only writes them out. The
PNGs are rendered by Qt's SVG renderer, the same one the app's screens use, so what is looked at
here is what a screen shows; the reference PNGs let a test notice a drawing that changed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REFERENCE_DIR = ROOT / "tests" / "data" / "exercise_pictures"
REFERENCE_DPI = 60
"""Reference renders are small (screen size): a few kB each, still enough to see a limb move."""


def render_png(svg: bytes, dpi: float) -> bytes:
    """The SVG drawn on white at ``dpi`` (its width/height attributes are taken as 1/96 inch)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtWidgets import QApplication

    # a QApplication (not a bare QGuiApplication): in a test session the widget tests that run
    # later need the application object to be one
    _app = QApplication.instance() or QApplication([])
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("not a drawable SVG")
    size = renderer.defaultSize()
    scale = dpi / 96
    image = QImage(
        round(size.width() * scale), round(size.height() * scale), QImage.Format.Format_RGB32
    )
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


def main(argv: list[str] | None = None) -> int:
    from clinic_app.reports import figures

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--png", type=Path, help="also render PNGs into this folder")
    parser.add_argument("--dpi", type=float, nargs="+", default=[300.0, 60.0])
    parser.add_argument("--references", action="store_true", help="rewrite the test references")
    args = parser.parse_args(argv)
    for path in figures.write_svgs():
        print(path)  # noqa: T201
    targets: list[tuple[Path, float, str]] = []
    if args.png:
        targets += [(args.png, dpi, f"-{dpi:g}dpi") for dpi in args.dpi]
    if args.references:
        targets.append((REFERENCE_DIR, REFERENCE_DPI, ""))
    for folder, dpi, suffix in targets:
        folder.mkdir(parents=True, exist_ok=True)
        for fid in figures.FIGURE_IDS:
            svg = (figures.exercises_dir() / f"{fid}.svg").read_bytes()
            out = folder / f"{fid}{suffix}.png"
            out.write_bytes(render_png(svg, dpi))
            print(out)  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
