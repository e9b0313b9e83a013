"""PDF documents: the clinician report and the illustrated patient handout (reportlab, no Qt).

Importing this package is cheap: reportlab is imported only when a document is built.

    data = ReportData(clinic, clinician, patient, evaluation, form, findings)  # plain values
    build_clinician_report(data, "report.pdf")      # or any binary stream
    build_handout(data, stream)
    data = report_data_for_evaluation(db, evaluation_id)  # from the records API

The output is reproducible: the same data gives the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_app.reports.data import (
    Addendum,
    ClinicianInfo,
    ClinicInfo,
    EvaluationInfo,
    PatientInfo,
    ReportData,
)
from clinic_app.reports.layout_types import Target

if TYPE_CHECKING:
    from clinic_app.core.form import Form
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
    "warm_up",
]


def build_clinician_report(data: ReportData, target: Target) -> None:
    """Write the clinician report PDF to ``target`` (a path or a binary stream)."""
    from clinic_app.reports.clinician import build
    from clinic_app.reports.layout import fit_header

    build(fit_header(data), target)


def build_handout(data: ReportData, target: Target, large_print: bool = False) -> None:
    """Write the patient handout PDF to ``target`` (a path or a binary stream); ``large_print``
    sets every text at 14 pt or more."""
    from clinic_app.reports.handout import build
    from clinic_app.reports.layout import fit_header

    build(fit_header(data), target, large_print=large_print)


def warm_up(form: Form | None = None) -> None:
    """Load reportlab, the fonts and the builders' modules now, so the first real document of a
    session costs what later ones do (~60 ms instead of ~200 ms; benchmarks/).

    Builds a throwaway report and handout in memory (for ``form``, default the app's form file).
    Safe to call from a worker thread; any problem is left for the real build to report.
    """
    import io
    from datetime import date

    from clinic_app.core.findings import empty
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path

    try:
        form = form if form is not None else load_form(default_form_path())
        data = ReportData(
            clinic=ClinicInfo(name="clinic"),
            clinician=ClinicianInfo(name="clinician"),
            patient=PatientInfo(name="patient"),
            evaluation=EvaluationInfo(date=date(2026, 1, 1)),
            form=form,
            findings=empty(form),
        )
        build_clinician_report(data, io.BytesIO())
        build_handout(data, io.BytesIO())
        from clinic_app.core.library import shipped_library
        from clinic_app.reports.pictures import picture_flowable

        for ex in shipped_library(form).values():  # every drawing read once (~6 ms each)
            for pic in ex.pictures:
                picture_flowable(pic.media_type, pic.data, 100.0)
    except Exception:  # warming is optional: the real build will report any problem
        pass
