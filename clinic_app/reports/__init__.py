"""PDF documents: the clinician report and the illustrated patient handout (reportlab, no Qt).

Importing this package is cheap: reportlab is imported only when a document is built.

    data = ReportData(clinic, clinician, patient, evaluation, form, findings)  # plain values
    build_clinician_report(data, "report.pdf")      # or any binary stream
    build_handout(data, stream)
    data = report_data_for_evaluation(db, evaluation_id)  # from the records API

The output is reproducible: the same data gives the same bytes.
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
from clinic_app.reports.records import report_data_for_evaluation

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
    "report_data_for_evaluation",
]


def build_clinician_report(data: ReportData, target: Target) -> None:
    """Write the clinician report PDF to ``target`` (a path or a binary stream)."""
    from clinic_app.reports.clinician import build

    build(data, target)


def build_handout(data: ReportData, target: Target) -> None:
    """Write the patient handout PDF to ``target`` (a path or a binary stream)."""
    from clinic_app.reports.handout import build

    build(data, target)
