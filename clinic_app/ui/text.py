"""Small text helpers shared by the main window and its panels."""

from __future__ import annotations

from datetime import date, datetime

from clinic_app.core.kinds import KIND_LABELS as KIND_LABELS
from clinic_app.storage.values import Patient


def local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


def local_datetime(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def report_file_name(patient: Patient, day: date, kind: str = "report") -> str:
    """``<Family>_<Given>_<date>_report.pdf``, safe on every file system."""

    def clean(text: str) -> str:
        return "".join(ch if ch.isalnum() or ch in "-" else "-" for ch in text.strip()) or "patient"

    return f"{clean(patient.family_name)}_{clean(patient.given_name)}_{day:%Y-%m-%d}_{kind}.pdf"
