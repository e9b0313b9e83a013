"""Free text a person typed (an assessment, a plan, an addendum) as paragraphs for the page.

Blank lines separate paragraphs and each line break is kept, in every document. A long paragraph
goes to reportlab in pieces of at most :data:`LINES` typed lines and :data:`LINE_CHARS`
characters (a longer line is cut, after a space where there is one), printed
back to back with no space between them, so the page reads as one paragraph; only where a piece
ends inside one very long line does that line break early. Why: reportlab wraps the whole rest of
a paragraph again each time it splits one across a page, so its cost grows with the square of the
paragraph's length. One addendum of 5,000 short lines (the records API takes any length) took two
minutes to print, and a clinician report holding it and a 100,000-character addendum seven.
"""

from __future__ import annotations

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from clinic_app.reports.fonts import markup

LINES = 30
"""Typed lines in one piece: well under a page, and cheap to wrap again."""
LINE_CHARS = 3000
"""Characters in one piece (about 30 printed lines at the body size)."""


def blocks(text: str) -> list[str]:
    """``text`` split at blank lines; single line breaks stay inside a block."""
    found = [b.strip("\n") for b in text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n")]
    return [b for b in found if b.strip()]


def cut_line(line: str, limit: int = LINE_CHARS) -> list[str]:
    """A typed line in parts of at most ``limit`` characters, each cut after a space where the
    second half of the part has one (the space stays, so the text reads back whole)."""
    parts = []
    while len(line) > limit:
        at = line.rfind(" ", limit // 2, limit)
        at = at + 1 if at > 0 else limit
        parts.append(line[:at])
        line = line[at:]
    return [*parts, line]


def few_breaks(text: str, most: int) -> str:
    """``text`` with its first ``most`` line breaks kept and the later lines run on after " / ":
    for text inside a box that cannot split across pages (a handout card), so 250 one-word lines
    do not make it taller than a page (reportlab's LayoutError: no handout at all)."""
    lines = text.splitlines()
    if len(lines) <= most + 1:
        return text
    return "\n".join([*lines[:most], " / ".join(x.strip() for x in lines[most:] if x.strip())])


def pieces(block: str) -> list[str]:
    """The markup of the pieces one block is printed in: its lines joined by line breaks (the
    parts of one cut line by nothing), at most LINES parts and LINE_CHARS characters a piece."""
    out: list[str] = []
    group: list[str] = []
    size = 0
    for line in block.split("\n"):
        parts = cut_line(line)
        for n, part in enumerate(parts):
            if group and (len(group) >= LINES or size + len(part) > LINE_CHARS):
                out.append("".join(group).removesuffix("<br/>"))
                group, size = [], 0
            group.append(markup(part) + ("<br/>" if n == len(parts) - 1 else ""))
            size += len(part)
    if group:
        out.append("".join(group).removesuffix("<br/>"))
    return out


def _piece_style(style: ParagraphStyle, first: bool, last: bool) -> ParagraphStyle:
    """No space above a piece unless it starts its block, none below unless it ends it."""
    if first and last:
        return style
    return ParagraphStyle(
        f"{style.name}-piece",
        parent=style,
        spaceBefore=style.spaceBefore if first else 0,
        spaceAfter=style.spaceAfter if last else 0,
    )


def text_paragraphs(text: str, style: ParagraphStyle) -> list[Paragraph]:
    """Paragraphs of ``text`` in ``style``, its line breaks kept (see the module's docstring)."""
    out: list[Paragraph] = []
    for block in blocks(text):
        parts = pieces(block)
        last = len(parts) - 1
        out += [Paragraph(m, _piece_style(style, n == 0, n == last)) for n, m in enumerate(parts)]
    return out
