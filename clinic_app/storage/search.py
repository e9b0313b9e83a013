"""Text folding and query parsing for patient search (pure Python, no database).

Both backends search a *folded* form of the name: lower case, accents removed, and the few Latin
letters that Unicode does not decompose (Ł, Ø, ß, Æ...) spelled with plain letters, so "muller",
"MÜL" and "lukasz" find "Müller" and "Łukasz". SQLite indexes the folded name with FTS5
(``unicode61 remove_diacritics 2`` folds again, for rows written by other tools); PostgreSQL keeps
the folded name in ``patient.search_name`` with a trigram index.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# Letters with no Unicode decomposition into base letter + mark.
_EXTRA_FOLDS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "ı": "i",
        "ŀ": "l",
        "þ": "th",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
    }
)
_TOKEN = re.compile(r"\w+", re.UNICODE)
_DATE_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})$"),
)


def fold(text: str) -> str:
    """Lower-case ``text`` and strip its accents: ``"Łukasz Núñez"`` -> ``"lukasz nunez"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped.translate(_EXTRA_FOLDS))


def search_name(given_name: str, family_name: str) -> str:
    """The stored sort-and-search key of a patient: folded ``"family given"``."""
    return " ".join(fold(f"{family_name} {given_name}").split())


def parse_date(text: str) -> date | None:
    """A date typed as ``2001-04-30``, ``30.04.2001`` or ``30/04/2001``; None if not a date."""
    for pattern in _DATE_FORMATS:
        match = pattern.match(text.strip())
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class Query:
    """A search box's text split into words (folded) and dates of birth."""

    raw: str
    words: tuple[str, ...]
    dates: tuple[date, ...]

    @property
    def empty(self) -> bool:
        return not self.words and not self.dates


def parse_query(text: str) -> Query:
    """Split on whitespace; a part that reads as a date is a date of birth, the rest are words."""
    words: list[str] = []
    dates: list[date] = []
    for part in text.split():
        day = parse_date(part)
        if day is not None:
            dates.append(day)
        else:
            words.extend(_TOKEN.findall(fold(part)))
    return Query(raw=text, words=tuple(words), dates=tuple(dates))


def fts_match(words: tuple[str, ...]) -> str:
    """An FTS5 MATCH expression: every word as a quoted prefix, all required."""
    return " AND ".join('"' + w.replace('"', '""') + '"*' for w in words)
