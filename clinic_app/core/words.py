"""Whether typed text shows anything at all (pure Python, for every layer)."""

from __future__ import annotations

import unicodedata


def has_visible(text: str) -> bool:
    """Whether ``text`` shows anything: a pasted right-to-left mark, zero-width space or soft
    hyphen is no word (``str.strip`` keeps them; a list would show an empty line)."""
    return any(unicodedata.category(c)[0] not in "CZ" for c in text)
