"""Dark, light and high-contrast palettes, and the bundled CJK font in the window (issue 18).

The style sheet names palette roles only: with a dark system palette the patient list, the search
box and the patient's name are drawn light on dark with enough contrast (read back from the
pixels, WCAG contrast ratio); with a light one as before. 王芳 is drawn with the bundled Droid
Sans Fallback font: its glyphs differ from the box a missing glyph is drawn as.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from clinic_app.storage import records
from clinic_app.ui import app as app_module
from clinic_app.ui.main_window import MainWindow

DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#2b2c2f",
    QPalette.ColorRole.AlternateBase: "#323336",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#3c4043",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.Mid: "#5f6368",
    QPalette.ColorRole.Midlight: "#4a4d51",
    QPalette.ColorRole.Highlight: "#8ab4f8",
    QPalette.ColorRole.HighlightedText: "#202124",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6",
}
HIGH_CONTRAST = {
    QPalette.ColorRole.Window: "#000000",
    QPalette.ColorRole.WindowText: "#ffffff",
    QPalette.ColorRole.Base: "#000000",
    QPalette.ColorRole.AlternateBase: "#000000",
    QPalette.ColorRole.Text: "#ffffff",
    QPalette.ColorRole.Button: "#000000",
    QPalette.ColorRole.ButtonText: "#ffffff",
    QPalette.ColorRole.Highlight: "#ffff00",
    QPalette.ColorRole.HighlightedText: "#000000",
}


def palette_of(colours: dict) -> QPalette:
    palette = QPalette(QApplication.style().standardPalette())
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    return palette


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[QApplication]:
    """The app's style as at start; the test application's own restored afterwards."""
    before_sheet, before_palette, before_font = qapp.styleSheet(), qapp.palette(), qapp.font()
    app_module.apply_style(qapp)
    yield qapp
    qapp.setStyleSheet(before_sheet)
    qapp.setPalette(before_palette)
    qapp.setFont(before_font)


def luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def colours_of(widget: QWidget) -> tuple[QColor, float]:
    """The widget's background (its commonest colour) and the best contrast any pixel has
    against it (its text)."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    counts: Counter[int] = Counter()
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            counts[image.pixel(x, y)] += 1
    background = QColor(counts.most_common(1)[0][0])
    best = max(contrast(background, QColor(rgb)) for rgb in counts)
    return background, best


def shown_window(qtbot, db, form, clinician) -> MainWindow:
    records.create_patient(db, records.PatientFields("芳", "王", "W-1"), user="t")
    records.create_patient(db, records.PatientFields("Łukasz", "Nowak", "N-1"), user="t")
    w = MainWindow(db, form, clinician)
    qtbot.addWidget(w)
    w.resize(1024, 700)
    w.show()
    qtbot.waitExposed(w)
    w.patients.model.reload()
    w.patients.select_patient(records.get_patient_by_mrn(db, "N-1").id)
    qtbot.wait(50)
    return w


def key_widgets(w: MainWindow) -> dict[str, QWidget]:
    return {
        "patient table": w.patients.view.viewport(),
        "search box": w.patients.search,
        "patient name": w.detail.name,
        "status bar": w.statusBar(),
    }


def test_the_style_sheet_names_no_neutral_colour(styled) -> None:
    sheet = app_module.style_sheet()
    for neutral in ("#ffffff", "#f6f7f9", "#1f2933", "#2f6db5", "#c4cbd3", "#dde1e6"):
        assert neutral not in sheet.lower(), neutral
    assert "palette(base)" in sheet
    assert "palette(text)" in sheet


def test_light_palette_looks_as_before(qtbot, styled, db, mini_form, clinician) -> None:
    w = shown_window(qtbot, db, mini_form, clinician)
    for name, widget in key_widgets(w).items():
        background, best = colours_of(widget)
        assert luminance(background) > 0.7, name
        assert best >= 4.5, name
    assert not app_module.is_dark(QApplication.palette())


@pytest.mark.parametrize("colours", [DARK, HIGH_CONTRAST], ids=["dark", "high contrast"])
def test_a_dark_system_palette_is_followed(qtbot, styled, db, mini_form, clinician, colours):
    app_module.follow_system_palette(styled, palette_of(colours))
    w = shown_window(qtbot, db, mini_form, clinician)
    for name, widget in key_widgets(w).items():
        background, best = colours_of(widget)
        assert luminance(background) < 0.2, f"{name}: {background.name()} is not dark"
        assert best >= 4.5, f"{name}: contrast {best:.1f}"


def _draw(text: str, font: QFont) -> QImage:
    image = QImage(80, 40, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(Qt.GlobalColor.black)
    painter.drawText(QPoint(4, 30), text)
    painter.end()
    return image


def test_chinese_names_are_drawn_with_the_bundled_font(qtbot, styled, db, mini_form, clinician):
    families = QFontDatabase.applicationFontFamilies(0) or []
    fallback = [f for f in QApplication.font().families() if "Droid" in f]
    assert fallback, QApplication.font().families()
    assert QFontMetrics(QFont(fallback[0])).inFontUcs4(ord("王"))
    w = shown_window(qtbot, db, mini_form, clinician)
    view = w.patients.view
    row = w.patients.model.row_of(records.get_patient_by_mrn(db, "W-1").id)
    assert view.model().index(row, 0).data() == "王, 芳"
    font = view.font()
    missing = _draw("\U0010fffd\U0010fffd", font)  # a code point no font has: the box
    name = _draw("王芳", font)
    assert name != missing
    # Without the bundled font (this test machine has no CJK system font) they would be boxes:
    bare = QFont(font)
    bare.setFamilies([f for f in font.families() if "Droid" not in f] or ["DejaVu Sans"])
    if not any(
        QFontMetrics(QFont(f)).inFontUcs4(ord("王"))
        for f in QFontDatabase.families()
        if f not in fallback
    ):
        assert _draw("王芳", bare) != name
    del families
