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


# A year or a month of birth: "1991", "1991-04", "1991/04", "04.1991", "04/1991" (issue 18).
_YEAR = re.compile(r"^(?P<y>[0-9]{4})$")
_MONTH_FORMATS = (
    re.compile(r"^(?P<y>[0-9]{4})[-/](?P<m>[0-9]{1,2})$"),
    re.compile(r"^(?P<m>[0-9]{1,2})[./](?P<y>[0-9]{4})$"),
)
# Years a date of birth can have; four digits outside are a word (an MRN's digits, say).
FIRST_YEAR, LAST_YEAR = 1880, 2200


@dataclass(frozen=True)
class Period:
    """Born from ``start`` up to (not including) ``end``: a year or a month typed in the search.
    ``mrn_prefix``: a bare year may also be the start of an MRN ("1991..." finds both)."""

    start: date
    end: date
    mrn_prefix: str = ""


def parse_period(text: str) -> Period | None:
    """A year (``1991``) or a month (``1991-04``, ``04.1991``) of birth; None if neither."""
    text = text.strip()
    year = _YEAR.match(text)
    if year is not None:
        y = int(year["y"])
        if FIRST_YEAR <= y <= LAST_YEAR:
            return Period(date(y, 1, 1), date(y + 1, 1, 1), mrn_prefix=text)
        return None
    for pattern in _MONTH_FORMATS:
        match = pattern.match(text)
        if match is not None:
            y, mo = int(match["y"]), int(match["m"])
            if FIRST_YEAR <= y <= LAST_YEAR and 1 <= mo <= 12:
                end = date(y + 1, 1, 1) if mo == 12 else date(y, mo + 1, 1)
                return Period(date(y, mo, 1), end)
    return None


@dataclass(frozen=True)
class Query:
    """A search box's text split into words (folded), dates of birth and periods of birth."""

    raw: str
    words: tuple[str, ...]
    dates: tuple[date, ...]
    periods: tuple[Period, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.words and not self.dates and not self.periods


def parse_query(text: str) -> Query:
    """Split on whitespace; a part that reads as a date is a date of birth, one that reads as a
    year or a month is a period of birth, the rest are words."""
    words: list[str] = []
    dates: list[date] = []
    periods: list[Period] = []
    for part in text.split():
        day = parse_date(part)
        period = None if day is not None else parse_period(part)
        if day is not None:
            dates.append(day)
        elif period is not None:
            periods.append(period)
        else:
            words.extend(_TOKEN.findall(fold(part)))
    return Query(raw=text, words=tuple(words), dates=tuple(dates), periods=tuple(periods))


def fts_match(words: tuple[str, ...]) -> str:
    """An FTS5 MATCH expression: every word as a quoted prefix, all required."""
    return " AND ".join('"' + w.replace('"', '""') + '"*' for w in words)
