"""The clinician report, read back with pypdf: what a clinician must find on the page."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from clinic_app.core.engine import assess
from clinic_app.core.form import Form
from clinic_app.core.symmetry import DEFICIT_FORMULA
from clinic_app.reports import build_clinician_report
from tests.reports.conftest import EXAMPLES, MakeData, build_pdf, with_values

PAGE_RE = re.compile(r"Page (\d+) of (\d+)")


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text)


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_fired_factor_with_its_evidence(
    name: str, form: Form, example, make_data: MakeData
) -> None:
    findings = example(name)
    data = make_data(findings, patient="Zoë Müller")
    pdf = build_pdf(build_clinician_report, data)
    flat = pdf.flat
    assert "Zoë Müller" in flat
    assert "MRN-00042" in flat
    result = assess(form, findings)
    assert result.factors or result.patterns, "each shipped example fires something"
    for factor in result.factors:
        assert factor.name in flat, factor.name
        for ev in factor.evidence:
            for number in _numbers(ev.text):
                assert number in flat
            assert ev.text.split(":")[0] in flat
    for pattern in result.patterns:
        assert pattern.name in flat
    for flag in result.red_flags:
        assert flag.name in flat
    assert result.summary.text.split("(")[0].strip() in flat
    assert "The app suggests; the therapist decides." in flat
    assert DEFICIT_FORMULA in flat


@pytest.mark.parametrize("name", EXAMPLES)
def test_page_x_of_y_matches_the_page_count(name: str, example, make_data: MakeData) -> None:
    pdf = build_pdf(build_clinician_report, make_data(example(name)))
    total = len(pdf.pages)
    assert total >= 2
    for number, text in enumerate(pdf.pages, start=1):
        assert f"Page {number} of {total}" in text


def test_red_flags_come_first(form: Form, example, make_data: MakeData) -> None:
    findings = example("sprinter_right_strain")
    result = assess(form, findings)
    assert result.red_flags, "the sprinter example has a pop with bruising"
    flat = build_pdf(build_clinician_report, make_data(findings)).flat
    first_flag = flat.index(result.red_flags[0].name)
    assert first_flag < flat.index("Contributing factors")
    assert result.red_flags[0].urgency.value.upper() in flat


def test_opinion_factors_are_labelled(form: Form, example, make_data: MakeData) -> None:
    # low heel-raise reps on the painful side fire F12, one author's opinion (S2)
    findings = with_values(
        form, example("runner_left_proximal"), heel_raise_reps={"left": 18, "right": 30}
    )
    result = assess(form, findings)
    assert any(f.opinion for f in result.factors)
    flat = build_pdf(build_clinician_report, make_data(findings)).flat
    assert "[opinion]" in flat


def test_draft_watermark_until_signed(example, make_data: MakeData) -> None:
    findings = example("runner_left_proximal")
    draft = build_pdf(build_clinician_report, make_data(findings))
    for page in draft.pages:
        assert "DRAFT" in page
    assert "Electronically signed" not in draft.flat

    signed = build_pdf(
        build_clinician_report,
        make_data(
            findings,
            signed=True,
            addenda=((datetime(2026, 11, 21, 9, 30), "Łukasz Ñúñez", "Pain settled."),),
        ),
    )
    assert "DRAFT" not in signed.text
    flat = signed.flat
    assert "Electronically signed" in flat
    assert "Signed by: Łukasz Ñúñez, PT, DPT" in flat
    assert "20 Nov 2026 15:04 UTC" in flat
    assert "ab12" * 16 in flat.replace(" ", "")
    assert "Addenda" in flat
    assert "21 Nov 2026 09:30" in flat
    assert "Pain settled." in flat


@pytest.mark.parametrize("name", ["Müller", "Zoë", "Łukasz", "王芳", "Ñandú", "Zoë 王芳 Müller"])
@pytest.mark.parametrize("kind", ["clinician", "handout"])
def test_unicode_names_extract_and_fonts_are_embedded(
    name: str, kind: str, example, make_data: MakeData
) -> None:
    from clinic_app.reports import build_handout

    builder = build_clinician_report if kind == "clinician" else build_handout
    # a full evaluation: tables, charts, the body chart and the exercise drawings all draw text
    pdf = build_pdf(builder, make_data(example("runner_left_proximal"), patient=name))
    assert name in pdf.text
    fonts = list(pdf.fonts())
    assert fonts
    names = set()
    for font in fonts:
        names.add(str(font["/BaseFont"]))
        descendants = font.get("/DescendantFonts")
        desc_font = descendants[0].get_object() if descendants else font
        descriptor = desc_font.get("/FontDescriptor")
        assert descriptor is not None, f"{font['/BaseFont']} is not embedded"
        assert "/FontFile2" in descriptor.get_object(), f"{font['/BaseFont']} is not embedded"
    assert any("DejaVuSans" in n for n in names)
    if "王" in name:
        assert any("DroidSansFallback" in n for n in names)


def test_empty_evaluation_gives_a_short_valid_report(make_data: MakeData) -> None:
    pdf = build_pdf(build_clinician_report, make_data())
    assert 1 <= len(pdf.pages) <= 2
    flat = pdf.flat
    assert "Nothing was recorded in this evaluation." in flat
    assert "No contributing factor was suggested" in flat
    assert "No red flag was triggered" in flat
    assert "No assessment or plan was recorded." in flat


def test_long_free_text_wraps_and_paginates(form: Form, make_data: MakeData) -> None:
    words = " ".join(f"word{n}" for n in range(600))
    findings = with_values(form, make_data().findings, plan=words[:4000], assessment="Short.")
    addendum = "\n\n".join(f"Paragraph {n}. " + "Follow-up detail. " * 30 for n in range(12))
    data = make_data(
        findings, signed=True, addenda=((datetime(2026, 11, 22, 8, 0), "A", addendum),)
    )
    pdf = build_pdf(build_clinician_report, data)
    assert len(pdf.pages) >= 3
    flat = pdf.flat
    last_plan_word = words[:4000].split()[-1]
    assert last_plan_word in flat
    assert "Paragraph 11." in flat


def test_long_bilateral_tables_repeat_their_header(example, make_data: MakeData) -> None:
    pdf = build_pdf(build_clinician_report, make_data(example("runner_left_proximal")))
    later = [p for p in pdf.pages[1:] if "Asymmetry" in p]
    assert later, "bilateral tables print a Left | Right | Asymmetry header"
    assert all("Left" in p and "Right" in p for p in later)


def test_marked_pain_regions_are_listed(example, make_data: MakeData) -> None:
    flat = build_pdf(build_clinician_report, make_data(example("runner_left_proximal"))).flat
    assert "Body chart" in flat
    assert "Left: Sit bone" in flat


@pytest.mark.parametrize(("paper", "size"), [("A4", (595, 842)), ("Letter", (612, 792))])
def test_paper_size_follows_the_clinic(
    paper: str, size: tuple[int, int], make_data: MakeData
) -> None:
    pdf = build_pdf(build_clinician_report, make_data(paper=paper))
    box = pdf.reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == size


def test_logo_is_drawn_and_a_broken_logo_is_ignored(make_data: MakeData) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (120, 60), (31, 95, 139)).save(buf, "PNG")
    with_logo = build_pdf(build_clinician_report, make_data(logo=buf.getvalue()))
    images = with_logo.reader.pages[0]["/Resources"].get("/XObject") or {}
    assert len(images) >= 1
    broken = build_pdf(build_clinician_report, make_data(logo=b"not an image"))
    assert "Riverside Physiotherapy" in broken.flat


def test_writes_to_a_path(tmp_path, make_data: MakeData) -> None:
    out = tmp_path / "report.pdf"
    build_clinician_report(make_data(), out)
    assert out.read_bytes().startswith(b"%PDF")
    assert PAGE_RE.search(build_pdf(build_clinician_report, make_data()).text)


def test_tables_split_across_pages_with_the_header_repeated() -> None:
    import io

    from pypdf import PdfReader
    from reportlab.platypus import SimpleDocTemplate

    from clinic_app.reports import clinician, layout

    s = layout.make_styles(9.5)
    head = [layout.para(h, s["cell_bold"]) for h in ("Measure", "Left", "Right", "Asymmetry")]
    rows = [[layout.para(f"Measure {n}", s["cell"]), "1", "2", "3"] for n in range(150)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, initialFontName="ClinicSans")
    doc.build([clinician._grid([head, *rows], [150, 80, 80, 150])])
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(out.getvalue())).pages]
    assert len(pages) >= 3
    for text in pages:
        assert " ".join(text.split()).startswith("Measure Left Right Asymmetry Measure")
    assert "Measure 149" in pages[-1]


def test_same_data_gives_the_same_bytes(example, make_data: MakeData) -> None:
    data = make_data(example("office_worker_sciatic"), patient="王芳")
    first = build_pdf(build_clinician_report, data).data
    assert build_pdf(build_clinician_report, data).data == first


def test_very_long_names_are_shortened_in_the_footer(example, make_data: MakeData) -> None:
    long_name = "Maximiliane Alexandrina von Hohenzollern-Sigmaringen-Württemberg " * 3
    pdf = build_pdf(
        build_clinician_report,
        make_data(example("runner_left_proximal"), patient=long_name.strip()),
    )
    # in full in the identity table (wrapped, so compare without spaces)
    assert long_name.replace(" ", "") in pdf.flat.replace(" ", "")
    for number, text in enumerate(pdf.pages, start=1):
        assert f"Page {number} of {len(pdf.pages)}" in text
        assert "…" in text  # footer (and later headers) shortened, not overprinted


def test_long_cjk_text_wraps_inside_the_page(form: Form, make_data: MakeData) -> None:
    findings = with_values(form, make_data().findings, plan="王芳" * 600)
    pdf = build_pdf(build_clinician_report, make_data(findings, patient="王芳"))
    text = "".join(pdf.text.split())
    assert "王芳" * 50 in text
    assert text.count("王芳") >= 600


def test_markup_characters_in_free_text_are_printed_literally(
    form: Form, make_data: MakeData
) -> None:
    findings = with_values(form, make_data().findings, plan="Load < pain & keep <b>easy</b>")
    pdf = build_pdf(build_clinician_report, make_data(findings, patient="O'Brien & <Sons>"))
    assert "O'Brien & <Sons>" in pdf.flat
    assert "Load < pain & keep <b>easy</b>" in pdf.flat


def test_legend_body_chart_and_plan_come_from_the_form_data(
    tmp_path, example, make_data: MakeData
) -> None:
    """Rename the chart item and the plan section, reword a source: the report follows the data."""
    import dataclasses
    import json

    from clinic_app.core import findings as findings_mod
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path
    from tests.reports.conftest import EXAMPLES_DIR

    text = default_form_path().read_text(encoding="utf-8")
    text = text.replace("pain_location", "where_it_hurts")
    text = text.replace("assessment_plan", "closing_plan")
    text = text.replace("physical therapist, DPT (runners' findings)", "a reworded source")
    text = text.replace(
        "description: physical-therapy clinic owner (whole-body view)",
        "description: clinic owner\n    legend: false",
    )
    form_path = tmp_path / "renamed.yaml"
    form_path.write_text(text, encoding="utf-8")
    form = load_form(form_path)
    raw = json.loads((EXAMPLES_DIR / "runner_left_proximal.json").read_text(encoding="utf-8"))
    raw["values"]["where_it_hurts"] = raw["values"].pop("pain_location")
    raw["values"]["plan"] = "Review in two weeks."
    findings = findings_mod.validate(form, raw)
    data = dataclasses.replace(make_data(), form=form, findings=findings)
    flat = build_pdf(build_clinician_report, data).flat
    assert "Left: Sit bone" in flat
    assert "S1 a reworded source" in flat
    assert "runners' findings" not in flat
    assert "S0 clinic owner" not in flat  # legend: false
    legend = flat[flat.index("Sources: S1") :]
    assert "S3 physical-therapist interview (runners)" in legend
    plan = flat.index("Assessment and plan")
    assert flat.index("Review in two weeks.") > plan
    assert flat.index("Body chart") < plan
