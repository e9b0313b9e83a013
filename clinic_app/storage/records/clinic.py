"""The clinic's details (printed on reports) and its clinicians."""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TYPE_CHECKING, cast

from sqlalchemy import select

from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records._common import (
    checked_text,
    digest,
    get_row,
    require_user,
    row_state,
    write_audit,
)
from clinic_app.storage.records.values import ClinicianInfo, ClinicInfo, PaperSize
from clinic_app.storage.values import Clinician

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

logger = logging.getLogger(__name__)


# What the letterhead of a report can show of the address (reports/layout.py HEADER_LIMITS
# cuts an older, longer one): a 3,000-line address made every later report fail.
ADDRESS_MAX_LINES = 6
ADDRESS_MAX_CHARS = 300


def _check_address(address: str) -> None:
    lines = [line for line in address.splitlines() if line.strip()]
    if len(lines) > ADDRESS_MAX_LINES:
        raise StorageError(
            f"clinic address: {len(lines)} lines is too long (at most {ADDRESS_MAX_LINES})"
        )
    if len(address) > ADDRESS_MAX_CHARS:
        raise StorageError(
            f"clinic address: {len(address)} characters is too long (at most {ADDRESS_MAX_CHARS})"
        )


def parse_roles(text: str | None) -> tuple[str, ...]:
    """The ``roles`` column (comma-separated) as a tuple in ROLES order; unknown words dropped."""
    words = {word.strip() for word in (text or "").split(",")}
    return tuple(role for role in m.ROLES if role in words)


def _check_logo(data: bytes | None) -> None:
    """Refuse a logo that no report could print (issue 19): one line naming "clinic logo"."""
    from clinic_app.storage.logo import FIELD, logo_problem

    problem = None if data is None else logo_problem(data)
    if problem is not None:
        raise StorageError(f"{FIELD}: {problem}; nothing was saved")


def _clinician(row: m.Clinician) -> Clinician:
    return Clinician(
        id=row.id,
        name=row.name,
        credentials=row.credentials,
        licence_number=row.licence_number,
        active=row.active,
        login=row.login,
        roles=parse_roles(row.roles),
    )


def login_from_name(name: str, taken: set[str]) -> str:
    """A free login made of the ASCII letters and digits of ``name`` (as migration 0005 gives the
    clinicians made before accounts): ``save_clinician`` adds clinicians without a login typed in,
    and an admin sets their password later (``clinic-app user reset-password LOGIN``)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^a-z0-9]+", ".", plain.lower()).strip(".")[:48] or "clinician"
    login, n = base, 1
    while login in taken:
        n += 1
        login = f"{base}{n}"
    return login


def get_clinic(db: Database) -> ClinicInfo | None:
    """The clinic's details, or None before they were first saved."""
    with db.reading() as s:
        row = s.get(m.Clinic, 1)
        if row is None:
            return None
        return ClinicInfo(
            name=row.name,
            address=row.address,
            phone=row.phone,
            logo=row.logo,
            paper_size=cast(PaperSize, row.paper_size),
        )


def save_clinic(db: Database, info: ClinicInfo, *, user: str) -> ClinicInfo:
    """Create or replace the clinic's details."""
    user = require_user(user)
    if info.paper_size not in m.PAPER_SIZES:
        raise StorageError(f"paper size must be one of {', '.join(m.PAPER_SIZES)}")
    columns = m.Clinic.__table__.c
    name = checked_text(columns.name, "clinic name", info.name)
    address = checked_text(columns.address, "clinic address", info.address, multiline=True)
    _check_address(address)
    phone = checked_text(columns.phone, "clinic phone", info.phone)
    with db.writing() as s:
        row = s.get(m.Clinic, 1)
        before = None if row is None else digest(row_state(row))
        if row is None:
            row = m.Clinic(id=1)
            s.add(row)
        row.name = name
        row.address = address
        row.phone = phone
        if info.logo != row.logo:  # a new logo; the one already stored is judged when printed
            _check_logo(info.logo)
        row.logo = info.logo
        row.paper_size = info.paper_size
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        write_audit(
            s,
            user,
            "clinic",
            1,
            "create" if before is None else "update",
            before,
            digest(row_state(row)),
        )
    logger.info("clinic details %s", "created" if before is None else "updated")
    return info


def save_clinic_logo(db: Database, logo: bytes | None, *, user: str) -> None:
    """Replace (or with None remove) the clinic logo alone, checked as ``save_clinic`` checks a
    new one; the other details are left as stored (the ``logo`` command)."""
    user = require_user(user)
    _check_logo(logo)
    with db.writing() as s:
        row = s.get(m.Clinic, 1)
        if row is None:
            raise StorageError(
                "clinic logo: the clinic's details are not saved yet; enter them first "
                "(Clinic details in the app), then add the logo"
            )
        before = digest(row_state(row))
        row.logo = logo
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        write_audit(s, user, "clinic", 1, "update", before, digest(row_state(row)))
    logger.info("clinic logo %s", "removed" if logo is None else "replaced")


def list_clinicians(db: Database, *, include_inactive: bool = False) -> list[Clinician]:
    with db.reading() as s:
        query = select(m.Clinician).order_by(m.Clinician.name, m.Clinician.id)
        if not include_inactive:
            query = query.where(m.Clinician.active.is_(True))
        return [_clinician(r) for r in s.scalars(query)]


def get_clinician(db: Database, clinician_id: int) -> Clinician:
    with db.reading() as s:
        return _clinician(get_row(s, m.Clinician, "clinician", clinician_id))


def save_clinician(
    db: Database, info: ClinicianInfo, *, user: str, clinician_id: int | None = None
) -> Clinician:
    """Create a clinician (``clinician_id`` None) or update one."""
    user = require_user(user)
    columns = m.Clinician.__table__.c
    name = checked_text(columns.name, "clinician name", info.name)
    credentials = checked_text(columns.credentials, "credentials", info.credentials)
    licence = checked_text(columns.licence_number, "licence number", info.licence_number)
    if not name:
        raise StorageError("a clinician needs a name")
    with db.writing() as s:
        if clinician_id is None:
            taken = {login for (login,) in s.execute(select(m.Clinician.login)) if login}
            row = m.Clinician(login=login_from_name(name, taken), roles="therapist")
            s.add(row)
            before = None
        else:
            row = get_row(s, m.Clinician, "clinician", clinician_id)
            before = digest(row_state(row))
        row.name = name
        row.credentials = credentials
        row.licence_number = licence
        row.active = info.active
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        write_audit(
            s,
            user,
            "clinician",
            row.id,
            "create" if before is None else "update",
            before,
            digest(row_state(row)),
        )
        saved = _clinician(row)
    logger.info("clinician %d %s", saved.id, "created" if before is None else "updated")
    return saved
