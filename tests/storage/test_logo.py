"""Issue 19: a clinic logo that no report could print is refused when it is saved.

Each hostile logo is given to ``records.save_clinic`` (what the ``logo`` command and any screen
use): refused with one line naming "clinic logo", and the database still holds the old logo, the
old clinic details and no new audit event (read back with SQL, on SQLite and PostgreSQL).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

import pytest
from PIL import Image
from sqlalchemy import text

from clinic_app.storage import logo as logo_rules
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError

USER = "admin"


def picture(kind: str = "PNG", size: tuple[int, int] = (300, 150)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 90, 140)).save(out, kind)
    return out.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def png_declaring(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A PNG whose every chunk checksum is right, declaring ``width`` × ``height`` grey pixels
    with a few rows of data: a "bomb" is small on disk and enormous once decoded."""
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    rows = idat if idat is not None else zlib.compress(b"\0" * (width + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


GOOD = picture()
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "truncated PNG": (lambda: GOOD[: len(GOOD) // 2], "cut short"),
    "PNG with a wrong checksum": (
        lambda: GOOD[:40] + bytes([GOOD[40] ^ 0xFF]) + GOOD[41:],
        "checksum",
    ),
    "truncated JPEG": (lambda: picture("JPEG")[:-200], "cut short"),
    "zero bytes": (lambda: b"", "empty"),
    "50 MB": (lambda: b"\x89PNG\r\n\x1a\n" + bytes(50 * 1024 * 1024), "limit"),
    "PNG bomb 100000 x 100000": (lambda: png_declaring(100_000, 100_000), "pixels"),
    "PNG 5000 x 10 (too wide)": (lambda: png_declaring(5_000, 10), "pixels"),
    "PNG 4000 x 4000 (too many pixels)": (lambda: png_declaring(4_000, 4_000), "pixels"),
    "PNG whose image data is not zlib": (
        lambda: png_declaring(10, 10, idat=b"this is not deflate data"),
        "cannot be read",
    ),
    "SVG named .png": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"></svg>',
        "not a PNG or JPEG",
    ),
    "HTML named .png": (
        lambda: b"<!doctype html><script>alert(1)</script>",
        "not a PNG or JPEG",
    ),
    "GIF": (lambda: picture("GIF"), "not a PNG or JPEG"),
}


def stored(db: Database) -> tuple[str, bytes | None, int]:
    """The clinic's name and logo and the number of audit events, read with SQL."""
    with db.reading() as s:
        name, logo = s.execute(text("SELECT name, logo FROM clinic WHERE id = 1")).one()
        events = s.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    return name, (bytes(logo) if logo is not None else None), int(events)


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_logo_no_report_could_print_is_refused_and_the_old_one_kept(
    db: Database, case: str
) -> None:
    make, problem = HOSTILE[case]
    r.save_clinic(db, r.ClinicInfo(name="Praxis Süd", logo=GOOD), user=USER)
    before = stored(db)
    with pytest.raises(StorageError) as err:
        r.save_clinic(db, r.ClinicInfo(name="Renamed", logo=make()), user=USER)
    message = str(err.value)
    assert message.startswith("clinic logo: "), message
    assert problem in message, message
    assert "\n" not in message
    assert stored(db) == before  # the old logo, the old name, no audit event


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_a_whole_png_or_jpeg_within_the_limits_is_kept(db: Database, kind: str) -> None:
    good = picture(kind, (logo_rules.MAX_SIDE, 64))  # as wide as allowed
    r.save_clinic(db, r.ClinicInfo(name="Praxis Süd", logo=good), user=USER)
    assert stored(db)[1] == good
    r.save_clinic(db, r.ClinicInfo(name="Praxis Süd", logo=None), user=USER)
    assert stored(db)[1] is None


def test_a_logo_damaged_after_saving_does_not_block_the_other_clinic_details(
    db: Database,
) -> None:
    """The clinic dialog saves the stored logo back unchanged: a logo damaged by raw SQL is not
    a new one, so the name can still be corrected (the report says what is wrong with it)."""
    r.save_clinic(db, r.ClinicInfo(name="Praxis Süd", logo=GOOD), user=USER)
    cut = GOOD[: len(GOOD) // 2]
    with db.writing() as s:
        s.execute(text("UPDATE clinic SET logo = :logo WHERE id = 1"), {"logo": cut})
    old = r.get_clinic(db)
    assert old is not None
    assert old.logo == cut
    r.save_clinic(db, r.ClinicInfo(name="Praxis Nord", logo=old.logo), user=USER)
    assert stored(db)[:2] == ("Praxis Nord", cut)
    with pytest.raises(StorageError, match="clinic logo: is a PNG image cut short"):
        r.save_clinic(db, r.ClinicInfo(name="Praxis Nord", logo=cut + b"x"), user=USER)


def test_the_bomb_is_refused_without_being_decoded() -> None:
    """A 100,000 × 100,000 PNG would take 10 GB decoded: refused from its header, at once."""
    import time

    bomb = png_declaring(100_000, 100_000)
    assert len(bomb) < 1024 * 1024
    started = time.perf_counter()
    assert "pixels" in (logo_rules.logo_problem(bomb) or "")
    assert "pixels" in (logo_rules.logo_problem(png_declaring(4_096, 4_096)) or "")
    assert time.perf_counter() - started < 1.0


def test_the_logo_alone_is_replaced_checked_and_audited(db: Database) -> None:
    from clinic_app.storage.records.clinic import save_clinic_logo

    with pytest.raises(StorageError, match="clinic logo: the clinic's details are not saved yet"):
        save_clinic_logo(db, GOOD, user=USER)
    r.save_clinic(db, r.ClinicInfo(name="Praxis Süd", address="\n".join("abc")), user=USER)
    name, logo, events = stored(db)
    save_clinic_logo(db, GOOD, user=USER)
    assert stored(db) == (name, GOOD, events + 1)
    for case, (make, problem) in HOSTILE.items():
        with pytest.raises(StorageError, match=f"^clinic logo: .*{problem}") as err:
            save_clinic_logo(db, make(), user=USER)
        assert "\n" not in str(err.value), case
        assert stored(db) == (name, GOOD, events + 1), case
    save_clinic_logo(db, None, user=USER)
    assert stored(db) == (name, None, events + 2)
    clinic = r.get_clinic(db)
    assert clinic is not None
    assert clinic.address == "a\nb\nc"
