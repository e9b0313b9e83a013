"""``clinic-app report`` from a findings file and from a stored evaluation; bad input: one line."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from clinic_app.cli import main
from clinic_app.core.form import Form
from tests.reports.conftest import EXAMPLES_DIR, Pdf, need_tool

RUNNER = EXAMPLES_DIR / "runner_left_proximal.json"


@pytest.mark.parametrize("kind", ["clinician", "handout"])
def test_report_from_a_findings_file(kind: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / f"{kind}.pdf"
    code = main(
        [
            "report",
            "--findings",
            str(RUNNER),
            "--kind",
            kind,
            "-o",
            str(out),
            "--patient-name",
            "Zoë 王芳",
            "--paper",
            "Letter",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    pdf = Pdf(out.read_bytes())
    assert "Zoë 王芳" in pdf.text
    assert round(float(pdf.reader.pages[0].mediabox.width)) == 612
    assert not list(tmp_path.glob(".report-*")), "no temporary file is left behind"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--findings", "missing.json"], "cannot read the file"),
        (["7", "--findings", str(RUNNER)], "either EVALUATION_ID or --findings"),
        ([], "either EVALUATION_ID or --findings"),
        (["--findings", str(RUNNER), "-o", "out.txt"], "must end in .pdf"),
        (["--findings", str(RUNNER), "-o", "no/such/dir/out.pdf"], "no such folder"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    if "-o" not in args:
        args = [*args, "-o", "out.pdf"]
    code = main(["report", "--kind", "handout", *args])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert message in err
    assert not (tmp_path / "out.pdf").exists()


def test_invalid_findings_values(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"form": "hamstring_whole_body", "values": {"pain_now": 42}}')
    code = main(
        ["report", "--findings", str(bad), "--kind", "clinician", "-o", str(tmp_path / "x.pdf")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "invalid findings" in err
    assert "pain_now" in err


def test_report_for_a_stored_evaluation(
    form: Form, example, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    with open_database(url, backup=False) as db:
        records.save_clinic(
            db,
            records.ClinicInfo("Lakeside Physio", "1 Shore Rd", "555 0199", paper_size="Letter"),
            user="admin",
        )
        who = records.save_clinician(db, records.ClinicianInfo("Zoë Kim", "PT"), user="admin")
        patient = records.create_patient(
            db, records.PatientFields("Łukasz", "Müller", "M-1", date(1990, 1, 2)), user="admin"
        )
        ev = records.start_evaluation(
            db, patient.id, form, user="admin", clinician_id=who.id, eval_date=date(2026, 11, 20)
        )
        saved = records.save_draft(
            db, ev.id, example("runner_left_proximal"), ev.version, user="admin"
        )
        signed = records.sign_evaluation(db, ev.id, saved.version, user="Zoë Kim")
        records.add_addendum(db, ev.id, "Reviewed by phone.", user="Zoë Kim")

    out = tmp_path / "report.pdf"
    assert (
        main(["--database", url, "report", str(ev.id), "--kind", "clinician", "-o", str(out)]) == 0
    )
    pdf = Pdf(out.read_bytes())
    flat = pdf.flat
    assert "Łukasz Müller" in flat
    assert "Lakeside Physio" in flat
    assert "Zoë Kim, PT" in flat
    assert "Electronically signed" in flat
    assert signed.content_hash in flat.replace(" ", "")
    assert "Reviewed by phone." in flat
    assert "DRAFT" not in pdf.text
    assert round(float(pdf.reader.pages[0].mediabox.width)) == 612

    # the database can also come from the environment
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", url)
    handout = tmp_path / "handout.pdf"
    assert main(["report", str(ev.id), "--kind", "handout", "-o", str(handout)]) == 0
    assert "Łukasz Müller" in Pdf(handout.read_bytes()).flat

    capsys.readouterr()
    code = main(
        ["--database", url, "report", "999", "--kind", "handout", "-o", str(tmp_path / "h.pdf")]
    )
    assert code == 2
    assert "evaluation 999 does not exist" in capsys.readouterr().err


def test_importing_reports_does_not_load_reportlab() -> None:
    code = (
        "import sys, clinic_app.reports, clinic_app.core.body_chart, clinic_app.reports.content;"
        "import clinic_app.cli.report_cmds, clinic_app.reports.figures;"
        "assert 'reportlab' not in sys.modules, 'reportlab imported';"
        "assert 'PySide6' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pdftoppm_renders_every_page(tmp_path: Path) -> None:
    tool = need_tool("pdftoppm")
    for kind in ("clinician", "handout"):
        out = tmp_path / f"{kind}.pdf"
        assert main(["report", "--findings", str(RUNNER), "--kind", kind, "-o", str(out)]) == 0
        pages = len(Pdf(out.read_bytes()).pages)
        subprocess.run(
            [tool, "-png", "-r", "30", str(out), str(tmp_path / kind)],
            check=True,
            capture_output=True,
        )
        images = sorted(tmp_path.glob(f"{kind}-*.png"))
        assert len(images) == pages
        assert all(p.stat().st_size > 1000 for p in images)
