"""``clinic-app export fhir|csv`` and ``clinic-app import patients`` on the demo clinic: the
issue's done-when line as a real command, the access log, and one line with a non-zero exit for
every refused argument or file."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from clinic_app.cli import main
from clinic_app.storage import records as r
from clinic_app.storage.database import open_database
from tests.interop import conftest as interop_fixtures
from tests.interop.fhir_helpers import record_of, resources

# The demo clinic of the interop tests (a copy of it for each test).
demo_template = interop_fixtures.demo_template
demo_dir = interop_fixtures.demo_dir
shipped_form = interop_fixtures.shipped_form


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _exports(folder: Path) -> list[Any]:
    db = open_database(f"sqlite:///{folder / 'clinic.db'}", migrate=False, backup=False)
    try:
        return [e for e in r.access_log(db, actions=["export"])]
    finally:
        db.close()


def test_done_when_export_fhir_1_validates_with_laterality(demo_dir: Path, tmp_path: Path) -> None:
    """`clinic-app export fhir 1 -o p.json` on a demo database, as a separate process."""
    exe = shutil.which("clinic-app", path=str(Path(sys.executable).parent))
    assert exe is not None
    out = tmp_path / "p.json"
    done = subprocess.run(
        [exe, "export", "fhir", "1", "-o", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "CLINIC_APP_DATA_DIR": str(demo_dir)},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out} (")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    bundle = json.loads(Bundle.model_validate_json(out.read_text("utf-8")).model_dump_json())
    records = record_of(bundle)
    sides = {
        (records[o["encounter"]["reference"]], o["code"]["coding"][-1]["code"]): o["bodySite"][
            "coding"
        ][0]["code"]
        for o in resources(bundle, "Observation")
        if "bodySite" in o
    }
    lateral = {"7771000", "24028007"}
    db = open_database(f"sqlite:///{demo_dir / 'clinic.db'}", migrate=False, backup=False)
    try:
        bilateral = 0
        for summary in r.list_evaluations(db, 1):
            form = r.evaluation_form(db, summary.id)
            for item_id in r.get_evaluation(db, summary.id).values:
                if form.items[item_id].bilateral:
                    assert sides[(summary.id, item_id)] in lateral
                    bilateral += 1
    finally:
        db.close()
    assert bilateral > 10
    (entry,) = _exports(demo_dir)
    assert entry.entity == "patient"
    assert entry.entity_id == 1
    assert entry.actor.startswith("command line (")


def test_export_fhir_kinds_and_refusals(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "doc.json"
    code, out, _ = _run(
        capsys, "export", "fhir", "3", "-o", str(doc), "--kind", "document", "--no-pdf"
    )
    assert code == 0
    bundle = json.loads(doc.read_text("utf-8"))
    assert bundle["type"] == "document"
    assert bundle["entry"][0]["resource"]["resourceType"] == "Composition"
    assert not resources(bundle, "DocumentReference")
    assert resources(bundle, "Provenance")
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for argv, message in (
        (["999", "-o", str(tmp_path / "x.json")], "there is no patient 999"),
        (["1", "-o", str(tmp_path)], "is a folder"),
        (["1", "-o", str(link)], "is a symbolic link"),
        (["1", "-o", str(fifo)], "is not a regular file"),
        (["1", "-o", str(tmp_path / "missing" / "x.json")], "no such folder"),
    ):
        code, out, err = _run(capsys, "export", "fhir", *argv)
        assert code == 2
        assert message in err
        assert err.count("\n") == 1
        assert out == ""
    assert not (tmp_path / "elsewhere.json").exists()
    with pytest.raises(SystemExit) as exited:
        main(["export", "fhir", "abc", "-o", "x.json"])
    assert exited.value.code == 2
    assert len(_exports(demo_dir)) == 1  # only the export that happened


def test_export_csv(demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "research"
    code, text, _ = _run(
        capsys, "export", "csv", "--what", "findings", "-o", str(out), "--pseudonymise"
    )
    assert code == 0
    assert "pseudonymised findings" in text
    assert stat.S_IMODE(os.stat(demo_dir / "pseudonym.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700
    body = (out / "findings.csv").read_text("utf-8")
    assert "DEMO-000" not in body
    key = tmp_path / "shared.key"
    key.write_text("a research key shared by two clinics\n")
    code, _, _ = _run(
        capsys,
        "export",
        "csv",
        "--what",
        "patients",
        "-o",
        str(out),
        "--pseudonymise",
        "--key-file",
        str(key),
    )
    assert code == 0
    code, _, _ = _run(
        capsys, "export", "csv", "--what", "audit", "-o", str(tmp_path / "one"), "--patient", "3"
    )
    assert code == 0
    audit = (tmp_path / "one" / "audit.csv").read_text("utf-8").splitlines()
    assert all(",3,Łukasz Nowak" in line for line in audit[1:])
    exported = {e.entity_id for e in _exports(demo_dir)}
    assert exported == {1, 2, 3, 4, 5, 6}
    (tmp_path / "file").write_text("")
    (tmp_path / "dirlink").symlink_to(out)
    for argv, message in (
        (["--what", "findings", "-o", str(tmp_path / "file")], "is not a folder"),
        (["--what", "findings", "-o", str(tmp_path / "dirlink")], "is a symbolic link"),
        (["--what", "findings", "-o", str(out), "--key-file", str(key)], "for --pseudonymise"),
        (["--what", "findings", "-o", str(out), "--patient", "77"], "there is no patient 77"),
        (
            ["--what", "patients", "-o", str(out), "--pseudonymise", "--key-file", "/dev/zero"],
            "character device",
        ),
    ):
        code, _, err = _run(capsys, "export", "csv", *argv)
        assert code == 2
        assert message in err
        assert err.count("\n") == 1


def test_import_patients(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("Record,Surname,First,Born\nN-1,Ng,Ada,1970-07-01\nN-2,Ode,Bo,\n", "utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("mrn,family_name\nN-9,Fine\nDEMO-0001,Taken\nN-9,Twice\n", "utf-8")
    maps = [
        "--map",
        "Record=mrn",
        "--map",
        "Surname=family_name",
        "--map",
        "First=given_name",
        "--map",
        "Born=date_of_birth",
    ]

    def count() -> int:
        db = open_database(f"sqlite:///{demo_dir / 'clinic.db'}", migrate=False, backup=False)
        try:
            return r.count_patients(db, include_archived=True)
        finally:
            db.close()

    start = count()
    code, out, _ = _run(capsys, "import", "patients", str(good), *maps, "--dry-run")
    assert code == 0
    assert "2 of 2 patients would be created" in out
    assert "row 2: create MRN N-1: Ng, Ada" in out
    code, out, _ = _run(capsys, "import", "patients", str(bad), "--dry-run")
    assert code == 1
    assert "row 3 (MRN DEMO-0001): refused: MRN DEMO-0001 already belongs" in out
    assert "row 4 (MRN N-9): refused: MRN N-9 is already on row 2" in out
    code, out, err = _run(capsys, "import", "patients", str(bad))
    assert code == 1
    assert "nothing was imported" in err
    assert count() == start
    code, out, _ = _run(capsys, "import", "patients", str(good), *maps)
    assert code == 0
    assert out == f"imported 2 patients from {good}\n"
    assert count() == start + 2
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("mrn,family_name\nL-1,Müller\n".encode("latin-1"))
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"mrn,family_name\nL-1,M\x00\n")
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse
    for target, message in (
        ("/dev/zero", "character device"),
        (str(latin), "not UTF-8"),
        (str(nul), "NUL byte"),
        (str(huge), "the limit for a patient list"),
        (str(fifo), "FIFO"),
        (str(tmp_path), "is a folder"),
        (str(tmp_path / "none.csv"), "file not found"),
    ):
        code, _, err = _run(capsys, "import", "patients", target)
        assert code == 2
        assert message in err
        assert err.count("\n") == 1
    code, _, err = _run(capsys, "import", "patients", str(good), "--map", "Record")
    assert code == 2
    assert "expected COLUMN=FIELD" in err
    assert count() == start + 2
