"""Embedded TrueType fonts and per-run font switching for scripts DejaVu does not cover.

PDF base fonts (Helvetica) know only Latin-1, so "Łukasz" or "王芳" would come out as boxes. The
reports embed DejaVu Sans (Latin, Greek, Cyrillic) and switch to Droid Sans Fallback for runs of
characters DejaVu lacks (Chinese, Japanese, Korean). Registration happens once per process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from clinic_app.paths import resources_dir

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

SANS = "ClinicSans"
SANS_BOLD = "ClinicSans-Bold"
FALLBACK = "ClinicFallback"

_FILES = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    FALLBACK: "DroidSansFallbackFull.ttf",
}


def fonts_dir() -> Path:
    return resources_dir() / "fonts"


@lru_cache(maxsize=1)
def register_fonts() -> tuple[frozenset[int], frozenset[int]]:
    """Register the fonts with reportlab (once); return the code points each face covers."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    faces = {}
    for name in (SANS, SANS_BOLD):
        font = TTFont(name, str(fonts_dir() / _FILES[name]))
        pdfmetrics.registerFont(font)
        faces[name] = font
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(SANS, bold, italic, SANS_BOLD if bold else SANS)
    main = frozenset(faces[SANS].face.charToGlyph)
    return main, _LazyFallback()


@lru_cache(maxsize=1)
def _fallback_face() -> frozenset[int]:
    """Register the 4 MB CJK fallback face on first need (most reports never need it)."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = TTFont(FALLBACK, str(fonts_dir() / _FILES[FALLBACK]))
    pdfmetrics.registerFont(font)
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(FALLBACK, bold, italic, FALLBACK)
    return frozenset(font.face.charToGlyph)


class _LazyFallback(frozenset[int]):
    def __contains__(self, cp: object) -> bool:
        return cp in _fallback_face()


MISSING = "\ufffd"
"""Printed for a character no embedded face has (an emoji, Korean syllables, Devanagari...):
visible, and read back as U+FFFD REPLACEMENT CHARACTER, where reportlab would draw an empty box
that copies out of the PDF as a NUL byte."""


def _face(cp: int, main: frozenset[int], fallback: frozenset[int]) -> bool | None:
    """False: the main face has it; True: the fallback face has it; None: neither."""
    if cp <= 0x24F or cp in main:
        return False
    return True if cp in fallback else None


def runs(text: str) -> list[tuple[str, bool]]:
    """Split text into (run, uses_fallback) pieces; adjacent characters share a run. A character
    no face has is replaced by :data:`MISSING`."""
    main, fallback = register_fonts()
    out: list[tuple[str, bool]] = []
    run: list[str] = []
    current = False
    for ch in text:
        fb = _face(ord(ch), main, fallback)
        if fb is None:
            ch, fb = MISSING, False
        if fb != current and run:
            out.append(("".join(run), current))
            run = []
        current = fb
        run.append(ch)
    if run:
        out.append(("".join(run), current))
    return out


def markup(text: object) -> str:
    """Escape text for a reportlab Paragraph, wrapping fallback runs in a font tag."""
    s = str(text)
    if all(ord(c) <= 0x24F for c in s):
        return escape(s)
    parts = []
    for run, fb in runs(s):
        parts.append(f'<font name="{FALLBACK}">{escape(run)}</font>' if fb else escape(run))
    return "".join(parts)


def multiline(text: object) -> str:
    """Like :func:`markup`, keeping the line breaks of free text."""
    return "<br/>".join(markup(line) for line in str(text).splitlines())


def string_width(text: str, font: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(sum(stringWidth(run, FALLBACK if fb else font, size) for run, fb in runs(text)))


def draw_string(canvas: Canvas, x: float, y: float, text: str, font: str, size: float) -> float:
    """Draw text on a reportlab canvas with font switching; return the width drawn."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    start = x
    for run, fb in runs(text):
        face = FALLBACK if fb else font
        canvas.setFont(face, size)
        canvas.drawString(x, y, run)
        x += stringWidth(run, face, size)
    return x - start
