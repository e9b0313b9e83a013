"""Texts a person typed never stop a report: too long for the page furniture, they are cut there
with a visible "…"; a damaged logo is left out (issue 19).

A table cell taller than a page cannot be split: reportlab raised LayoutError for a 3,000-line
clinic address or a 2,000-character name, and every later report of that clinic failed with it.
A PNG logo cut short kept its readable size and failed only while the page was written, in an
error that blamed the output PDF.
"""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from clinic_app.reports import build_clinician_report, build_handout, layout
from clinic_app.storage.models import Clinic, Clinician, Patient
from clinic_app.storage.records.clinic import ADDRESS_MAX_CHARS, ADDRESS_MAX_LINES
from tests.reports.conftest import MakeData, build_pdf

BUILDERS = [build_clinician_report, build_handout]


def png(width: int = 240, height: int = 120) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (31, 95, 139)).save(out, "PNG")
    return out.getvalue()


def hostile(make_data: MakeData, **clinic: object):  # type: ignore[no-untyped-def]
    data = make_data(patient="Patientname " * 400, clinician="Therapist " * 300)
    return dataclasses.replace(
        data,
        clinic=dataclasses.replace(
            data.clinic,
            name="Riverside " * 500,
            address="\n".join(f"Street line {n}" for n in range(3000)),
            phone="5" * 3000,
            **clinic,
        ),
        patient=dataclasses.replace(data.patient, mrn="M" * 3000),
    )


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
def test_texts_longer_than_a_page_holds_are_cut_with_a_mark(
    make_data: MakeData, builder: object
) -> None:
    pdf = build_pdf(builder, hostile(make_data))  # type: ignore[arg-type]
    assert "…" in pdf.text
    assert "Street line 0" in pdf.flat
    assert "Street line 6" not in pdf.flat  # six lines at most
    assert "Street line 2999" not in pdf.flat


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
def test_a_logo_cut_short_is_left_out_and_the_report_is_made(
    make_data: MakeData, builder: object
) -> None:
    whole = png()
    good = build_pdf(builder, make_data(logo=whole))  # type: ignore[arg-type]
    cut = build_pdf(builder, make_data(logo=whole[: len(whole) // 2]))  # type: ignore[arg-type]
    none = build_pdf(builder, make_data())  # type: ignore[arg-type]
    assert cut.text == good.text
    assert len(cut.data) < len(good.data)
    assert abs(len(cut.data) - len(none.data)) < 200


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (png(), None),
        (png()[:-12], "cut short"),
        (png()[:40], "cut short"),
        (png()[:8] + b"\x00" * 30, "checksum"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "JPEG image cut short"),
        (b"GIF89a", "not a PNG or JPEG"),
        (b"", "empty"),
    ],
)
def test_logo_problem_names_what_is_wrong(data: bytes, problem: str | None) -> None:
    found = layout.logo_problem(data)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_fit_leaves_texts_that_fit_alone(make_data: MakeData) -> None:
    data = make_data()
    assert layout.fit_header(data) is data


def test_header_limits_are_what_the_records_hold() -> None:
    """What the page shows is what storage keeps: a stored value is never cut."""
    columns = {
        "clinic name": Clinic.__table__.c.name,
        "clinic phone": Clinic.__table__.c.phone,
        "clinician name": Clinician.__table__.c.name,
        "credentials": Clinician.__table__.c.credentials,
        "medical record number": Patient.__table__.c.mrn,
    }
    for label, column in columns.items():
        assert layout.HEADER_LIMITS[label] == column.type.length, label
    given, family = Patient.__table__.c.given_name, Patient.__table__.c.family_name
    assert layout.HEADER_LIMITS["patient name"] == given.type.length + 1 + family.type.length
    assert layout.HEADER_LIMITS["clinic address"] == ADDRESS_MAX_CHARS
    assert layout.ADDRESS_LINES == ADDRESS_MAX_LINES


def test_cut_address_keeps_lines_and_marks_the_cut() -> None:
    assert layout.cut_address("1 Mill Lane\nSpringfield") == "1 Mill Lane\nSpringfield"
    cut = layout.cut_address("\n".join(str(n) for n in range(10)))
    assert cut == "0\n1\n2\n3\n4\n5…"
    assert len(layout.cut_address("x" * 5000)) == ADDRESS_MAX_CHARS
