"""Whether typed text shows anything at all, and how a number is written in a message (pure
Python, for every layer: core.findings and core.program both name numbers)."""

from __future__ import annotations

import math
import unicodedata
from decimal import Decimal


def has_visible(text: str) -> bool:
    """Whether ``text`` shows anything: a pasted right-to-left mark, zero-width space or soft
    hyphen is no word (``str.strip`` keeps them; a list would show an empty line)."""
    return any(unicodedata.category(c)[0] not in "CZ" for c in text)


# A number with more digits than this before its decimal point is described in a message, not
# written out (and ``ui.fields.parse_number`` refuses it as typed).
SHOWN_DIGITS = 30


def shown_number(value: float) -> str:
    """A number for a message as it was entered: an integer in full ("99999999", not ``:g``'s
    "1e+08"), a decimal in its shortest form without exponent or float noise ("2.5", "0.1",
    0.1 + 0.2 as "0.3"). One too large to write out sensibly is described."""
    if abs(value) >= 10**SHOWN_DIGITS:  # exact for ints of any size, never converted
        return "a number far too large"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return repr(value)
    text = format(Decimal(format(value, ".15g")).normalize(), "f")
    if len(text) > SHOWN_DIGITS + 2:  # 1e-40: zeros no one could count
        return "a number very close to 0"
    return "0" if text == "-0" else text
