"""The clinic logo: which bytes may be stored as one, and why others may not (issue 19).

A logo is printed on every report and handout of the clinic, so a damaged one must be refused
when it is saved (``records.save_clinic``), not found half-way through a PDF. What is accepted:
a whole PNG or JPEG image (its structure walked first, ``input_files.image_problem``), of at most
``LOGO_LIMIT`` bytes, at most ``MAX_SIDE`` pixels a side and ``MAX_PIXELS`` pixels in all (a
"PNG bomb" declares a huge size in a few bytes and would take gigabytes once decoded: its size is
read from the header and refused before anything is decoded), that decodes without error.

A logo stored before these checks, or damaged afterwards (raw SQL, another tool), is found by the
same function when a document is made: the ``report`` command then refuses with one line (unless
``--no-logo``) and the window asks before printing without it.
"""

from __future__ import annotations

import io
import warnings

from clinic_app.storage.input_files import LOGO_LIMIT, image_problem, size_text

MAX_SIDE = 4096
"""Pixels a side: a letterhead prints the logo about 30 × 18 mm (350 × 210 pixels at 300 dpi)."""

MAX_PIXELS = 8_000_000
"""Pixels in all (about 32 MB once decoded as RGBA)."""

FIELD = "clinic logo"

FIX = "replace it with 'clinic-app logo FILE.png' or remove it with 'clinic-app logo --remove'"
"""How to mend a stored logo that cannot be used, for the one-line messages."""


def logo_problem(data: bytes) -> str | None:
    """Why ``data`` cannot be the clinic logo (None when it can), as "is …" / "cannot …" words
    to follow "clinic logo"; nothing bigger than the limits is ever decoded."""
    if not data:
        return "is empty (0 bytes)"
    problem = image_problem(data, LOGO_LIMIT)
    if problem is not None:
        return problem
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=("PNG", "JPEG")) as image:
                width, height = image.size  # read from the header: nothing decoded yet
                if width < 1 or height < 1:
                    return f"has no pixels ({width} × {height})"
                if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                    return (
                        f"is {width:,} × {height:,} pixels; the limit is {MAX_SIDE:,} a side "
                        f"and {MAX_PIXELS:,} in all"
                    )
                image.load()
    except Image.DecompressionBombError:  # so many pixels declared that PIL will not open it
        return f"declares far more pixels than the limit of {MAX_PIXELS:,}"
    except Exception as exc:  # noqa: BLE001 - any decoder failure means: not a usable image
        return f"cannot be read as an image ({exc.__class__.__name__})"
    return None


def describe_limits() -> str:
    """The limits in words (for help texts)."""
    return (
        f"a PNG or JPEG image of at most {size_text(LOGO_LIMIT)} and "
        f"{MAX_SIDE:,} × {MAX_SIDE:,} pixels"
    )
