"""Patient and clinician values, importable without SQLAlchemy.

The records API returns these; the start-up path (``storage.first_page``) builds them from the
stdlib ``sqlite3`` module so the patient list can show before SQLAlchemy is imported.
``clinic_app.storage.records`` re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Literal

Sex = Literal["female", "male", "other", "unknown"]
PatientSort = Literal["name", "mrn", "date_of_birth", "created", "updated"]


# The roles of an account, in this order (= models.ROLES; here for the stdlib-only start path).
ROLES = ("admin", "therapist", "assistant", "student")


def parse_roles(text: str | None) -> tuple[str, ...]:
    """A ``clinician.roles`` column (comma-separated) as a tuple in ROLES order; unknown words
    (a row edited by hand) dropped."""
    words = {word.strip() for word in (text or "").split(",")}
    return tuple(role for role in ROLES if role in words)


@dataclass(frozen=True)
class Clinician:
    id: int
    name: str
    credentials: str
    licence_number: str
    active: bool
    # Accounts (issue 14, ``storage.accounts``): the sign-in name (lower-case; None only for a
    # clinician made outside the records API) and the roles, a subset of models.ROLES.
    login: str | None = None
    roles: tuple[str, ...] = ("therapist",)


@dataclass(frozen=True)
class PatientFields:
    """What is typed in for a patient (input of :func:`create_patient`/:func:`update_patient`)."""

    given_name: str
    family_name: str
    mrn: str  # medical record number, unique
    date_of_birth: date | None = None
    sex: Sex = "unknown"
    phone: str = ""
    email: str = ""
    activity: str = ""  # sport / activity
    referring_provider: str = ""


PATIENT_FIELDS = tuple(f.name for f in fields(PatientFields))


@dataclass(frozen=True)
class Patient:
    id: int
    given_name: str
    family_name: str
    mrn: str
    date_of_birth: date | None
    sex: Sex
    phone: str
    email: str
    activity: str
    referring_provider: str
    archived: bool
    created_at: datetime
    updated_at: datetime
    updated_by: str

    @property
    def display_name(self) -> str:
        """``"Family, Given"`` as lists show it."""
        return f"{self.family_name}, {self.given_name}"

    def fields(self) -> PatientFields:
        """The editable part, e.g. to prefill an edit dialog."""
        return PatientFields(**{name: getattr(self, name) for name in PATIENT_FIELDS})
