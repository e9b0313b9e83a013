"""Report fixtures: the shipped form, the shipped example findings, and a ReportData factory."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from clinic_app.core import findings as findings_mod
from clinic_app.core.findings import Findings
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.reports import (
    ClinicianInfo,
    ClinicInfo,
    EvaluationInfo,
    PatientInfo,
    ReportData,
)

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = sorted(p.stem for p in EXAMPLES_DIR.glob("*.json") if not p.stem.startswith("program_"))
"""The findings files (``program_*.json`` are home programs for ``report --program``)."""
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_tool(name: str) -> str:
    """The path of a command-line tool; skip without it, except on CI where it must exist."""
    found = shutil.which(name)
    if found is None:
        if ON_CI:
            pytest.fail(f"{name} is required on CI (install poppler-utils / cups)")
        pytest.skip(f"{name} is not installed")
    return found


@pytest.fixture(scope="session")
def form() -> Form:
    return load_form(default_form_path())


@pytest.fixture(scope="session")
def example(form: Form) -> Callable[[str], Findings]:
    def load(name: str) -> Findings:
        return findings_mod.load(form, EXAMPLES_DIR / f"{name}.json")

    return load


def with_values(form: Form, base: Findings, **values: Any) -> Findings:
    raw = base.to_dict()
    raw["values"].update(values)
    return findings_mod.validate(form, raw)


MakeData = Callable[..., ReportData]


@pytest.fixture
def make_data(form: Form) -> MakeData:
    def make(
        findings: Findings | None = None,
        *,
        patient: str = "Zoë Müller",
        signed: bool = False,
        addenda: tuple[tuple[datetime, str, str], ...] = (),
        paper: str = "A4",
        clinician: str = "Łukasz Ñúñez",
        logo: bytes | None = None,
    ) -> ReportData:
        when = datetime(2026, 11, 20, 15, 4, tzinfo=UTC)
        return ReportData(
            clinic=ClinicInfo(
                "Riverside Physiotherapy",
                "12 Mill Lane\nSpringfield 4021",
                "+1 555 0100",
                logo=logo,
                paper=paper,  # type: ignore[arg-type]
            ),
            clinician=ClinicianInfo(clinician, "PT, DPT"),
            patient=PatientInfo(patient, date(1988, 4, 2), "MRN-00042"),
            evaluation=EvaluationInfo(
                date=date(2026, 11, 20),
                kind="Initial evaluation",
                status="signed" if signed else "draft",
                signer=f"{clinician}, PT, DPT" if signed else None,
                signed_at=when if signed else None,
                content_hash=("ab12" * 16) if signed else None,
                addenda=addenda,
            ),
            form=form,
            findings=findings if findings is not None else findings_mod.empty(form),
        )

    return make


class Pdf:
    """A built PDF, parsed: its pages' text and fonts."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reader = PdfReader(io.BytesIO(data))
        self.pages = [p.extract_text() or "" for p in self.reader.pages]

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    @property
    def flat(self) -> str:
        """All text with whitespace collapsed (wrapped lines join up)."""
        return re.sub(r"\s+", " ", self.text)

    def fonts(self) -> Iterator[dict[str, Any]]:
        for page in self.reader.pages:
            resources = page.get("/Resources") or {}
            font_dict = resources.get("/Font") or {}
            for ref in font_dict.values():
                yield ref.get_object()


def build_pdf(builder: Callable[[ReportData, Any], None], data: ReportData) -> Pdf:
    stream = io.BytesIO()
    builder(data, stream)
    return Pdf(stream.getvalue())
