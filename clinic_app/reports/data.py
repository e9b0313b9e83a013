"""What a report is made from: plain values, no database and no Qt.

The storage layer (or a script, or a test) fills a :class:`ReportData`; the builders turn it into a
PDF. Keeping this a plain dataclass means a report can be produced from a findings file alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

from clinic_app.core.engine import Assessment, assess
from clinic_app.core.findings import Findings
from clinic_app.core.form import Form
from clinic_app.core.library import Library, Picture

Paper = Literal["A4", "Letter"]
Status = Literal["draft", "signed"]


@dataclass(frozen=True)
class ClinicInfo:
    name: str
    address: str = ""
    phone: str = ""
    logo: bytes | None = None
    """PNG or JPEG bytes, drawn at the top left of the letterhead."""
    paper: Paper = "A4"


@dataclass(frozen=True)
class ClinicianInfo:
    name: str
    credentials: str = ""

    @property
    def display(self) -> str:
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


@dataclass(frozen=True)
class Signatory:
    """Who signed (or prepared) a record, as sealed: printed in the signature block (issue 14)."""

    name: str
    credentials: str = ""
    licence_number: str = ""
    role: str = "therapist"
    at: datetime | None = None

    @property
    def display(self) -> str:
        """ "Dana Physio, PT, DPT, licence PT-4471"; a student or assistant also says which."""
        text = f"{self.name}, {self.credentials}" if self.credentials else self.name
        if self.licence_number:
            text += f", licence {self.licence_number}"
        if self.role in ("student", "assistant"):
            text += f" ({self.role})"
        return text


@dataclass(frozen=True)
class PatientInfo:
    name: str
    date_of_birth: date | None = None
    mrn: str = ""


class Addendum(NamedTuple):
    time: datetime
    author: str
    text: str


@dataclass(frozen=True)
class EvaluationInfo:
    date: date
    kind: str = "Initial evaluation"
    status: Status = "draft"
    signer: str | None = None
    signed_at: datetime | None = None
    content_hash: str | None = None
    addenda: Sequence[Addendum | tuple[datetime, str, str]] = field(default=())
    seal_problem: str | None = None
    """Set when a signed record no longer matches its seal: printed across every page."""
    sealed: bool = False
    """True when the signature was verified (Ed25519 seal, issue 13)."""
    signed_as: Signatory | None = None
    """The signer as sealed with their own key (issue 14); None for older seals."""
    prepared: Signatory | None = None
    """The assistant or student who prepared it: co-signed, or still awaiting co-signature."""

    @property
    def awaiting_cosignature(self) -> bool:
        return self.status == "draft" and self.prepared is not None

    @property
    def is_signed(self) -> bool:
        return self.status == "signed"

    def addenda_list(self) -> list[Addendum]:
        return [a if isinstance(a, Addendum) else Addendum(*a) for a in self.addenda]


@dataclass(frozen=True)
class ReportData:
    clinic: ClinicInfo
    clinician: ClinicianInfo
    patient: PatientInfo
    evaluation: EvaluationInfo
    form: Form
    findings: Findings
    assessment: Assessment | None = None
    """Computed from ``form`` and ``findings`` when not given."""
    carried: frozenset[str] = frozenset()
    """Items carried forward from the last visit and not re-measured or confirmed: marked."""
    previous: Mapping[str, Any] = field(default_factory=dict)
    """The last visit's values (item id to stored value), printed beside re-measured items."""
    library: Library | None = None
    """The exercises a home program names, with their pictures (the shipped ones plus the
    clinic's); None: the shipped library. The handout prints the program's exercises from it."""
    pictures: Mapping[str, Picture] = field(default_factory=dict)
    """Stored pictures by SHA-256 that the program's snapshots name: a signed program prints
    the pictures it was signed with, even after a release redraws the shipped ones."""

    def resolved_assessment(self) -> Assessment:
        return self.assessment if self.assessment is not None else assess(self.form, self.findings)


def format_date(value: date | None) -> str:
    """Dates as "21 Nov 2026": unambiguous for readers on both sides of the Atlantic."""
    # The year in four digits (strftime's %Y writes year 1 of an old record as "1").
    return f"{value.day} {value:%b} {value.year:04d}" if value else "not recorded"


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return "not recorded"
    text = f"{value.day} {value:%b} {value.year:04d} {value:%H:%M}"
    if value.tzinfo is not None:
        offset = value.strftime("%z")
        text += " UTC" if offset in ("+0000", "-0000") else f" UTC{offset[:3]}:{offset[3:]}"
    return text
