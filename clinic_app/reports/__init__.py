"""PDF documents: the clinician report and the illustrated patient handout (reportlab, no Qt).

Importing this package is cheap: reportlab is imported only when a document is built.
"""

from __future__ import annotations

from clinic_app.reports.data import (
    Addendum,
    ClinicianInfo,
    ClinicInfo,
    EvaluationInfo,
    PatientInfo,
    ReportData,
)
from clinic_app.reports.layout_types import Target

__all__ = [
    "Addendum",
    "ClinicInfo",
    "ClinicianInfo",
    "EvaluationInfo",
    "PatientInfo",
    "ReportData",
    "Target",
    "build_clinician_report",
    "build_handout",
]


def build_clinician_report(data: ReportData, target: Target) -> None:
    """Write the clinician report PDF to ``target`` (a path or a binary stream)."""
    from clinic_app.reports.clinician import build

    build(data, target)


def build_handout(data: ReportData, target: Target) -> None:
    """Write the patient handout PDF to ``target`` (a path or a binary stream)."""
    from clinic_app.reports.handout import build

    build(data, target)
