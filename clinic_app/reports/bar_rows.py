"""Text wrapping for the side-to-side bar chart: a label or note over a few lines of a column."""

from __future__ import annotations

from clinic_app.reports import fonts
from clinic_app.reports.layout import fit_text


def _fits(text: str, font: str, size: float, width: float) -> bool:
    return fonts.string_width(text, font, size) <= width


def _by_chars(word: str, font: str, size: float, width: float) -> int:
    """How many leading characters of ``word`` fit ``width`` (at least one, so wrapping ends)."""
    low, high = 1, len(word)
    while low < high:
        mid = (low + high + 1) // 2
        if _fits(word[:mid], font, size, width):
            low = mid
        else:
            high = mid - 1
    return low


def _take(text: str, font: str, size: float, width: float) -> tuple[str, str]:
    """The first line of ``text`` and the rest: break at a space, or inside a too-long word."""
    if _fits(text, font, size, width):
        return text, ""
    words = text.split(" ")
    line = ""
    for i, word in enumerate(words):
        candidate = f"{line} {word}" if line else word
        if _fits(candidate, font, size, width):
            line = candidate
            continue
        if line:
            return line, " ".join(words[i:])
        n = _by_chars(word, font, size, width)
        return word[:n], " ".join([word[n:], *words[i + 1 :]]).strip()
    return line, ""


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """``text`` over at most ``max_lines`` lines of ``width`` points, measured with
    :func:`fonts.string_width` (so CJK fallback glyphs count); breaks at spaces, a word wider than
    the line by characters; what does not fit ends the last line with "…"."""
    rest = " ".join(text.split())
    lines: list[str] = []
    while rest and max_lines > 0:
        if len(lines) == max_lines - 1:
            lines.append(fit_text(rest, font, size, width))
            break
        line, rest = _take(rest, font, size, width)
        lines.append(line)
    return lines
