"""The CSV patient import refuses an implausible date of birth on its line, naming the field, with
the message every other route gives (``core.patient_checks``); a plan with a refused row is not
run, so nothing is written. Real files, real databases (SQLite and PostgreSQL), counted back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from clinic_app.cli import main
from clinic_app.interop import patient_import as pi
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError
from tests.interop.test_patient_import import _counts

TODAY = date(2026, 12, 1)  # 120 years back: 1906-12-01
OLD = "is more than 120 years ago"


def _csv(tmp_path: Path, born: list[str]) -> Path:
    """One patient per date of birth, MRN D-<line>, lines from 2 (the header is line 1)."""
    lines = ["mrn,family_name,given_name,date_of_birth"]
    lines += [f'D-{n},Old,Ada,"{text}"' for n, text in enumerate(born, start=2)]
    path = tmp_path / "list.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


REFUSED = {
    "0001-01-01": f"Date of birth: 0001-01-01 {OLD}",
    "1800-01-01": f"Date of birth: 1800-01-01 {OLD}",
    "1895-12-31": f"Date of birth: 1895-12-31 {OLD}",
    "1900-01-01": f"Date of birth: 1900-01-01 {OLD}",  # a placeholder of older systems
    "1906-11-30": f"Date of birth: 1906-11-30 {OLD}",  # the day before the boundary
    "9999-12-31": "Date of birth: 9999-12-31 is in the future",
    "2026-12-02": "Date of birth: 2026-12-02 is in the future",
    "2026-02-30": "Date of birth: '2026-02-30' is not a date like 1983-05-14",
    "2026-W01-1": "Date of birth: '2026-W01-1' is not a date like 1983-05-14",  # an ISO week
    "1" * 10_000: "Date of birth: '" + "1" * 40 + "…' is not a date like 1983-05-14",
}
ACCEPTED = {
    "1906-12-01": date(1906, 12, 1),  # the boundary day
    "  1980-01-01 ": date(1980, 1, 1),
    "1992-02-29": date(1992, 2, 29),
    "2026-12-01": TODAY,  # born today
    "": None,
}


def test_each_refused_row_is_named_with_its_line_and_nothing_is_written(
    db: Database, tmp_path: Path
) -> None:
    born = [*ACCEPTED, *REFUSED]
    path = _csv(tmp_path, born)
    before = _counts(db)
    plan = pi.plan_import(db, path, today=TODAY)
    lines = {text: n for n, text in enumerate(born, start=2)}
    assert [(p.row, p.fields.date_of_birth) for p in plan.planned] == [
        (lines[text], day) for text, day in ACCEPTED.items()
    ]
    assert [(x.row, x.mrn, x.reasons) for x in plan.refused] == [
        (lines[text], f"D-{lines[text]}", (reason,)) for text, reason in REFUSED.items()
    ]
    shown = {x.row: x.line() for x in plan.refused}
    assert shown[lines["1800-01-01"]] == (
        f"row {lines['1800-01-01']} (MRN D-{lines['1800-01-01']}): refused: "
        f"Date of birth: 1800-01-01 {OLD}"
    )
    assert max(len(line) for line in shown.values()) < 200
    with pytest.raises(StorageError, match=f"{len(REFUSED)} rows are refused; nothing was"):
        pi.run_import(db, plan, user="importer")
    assert _counts(db) == before


def test_the_command_says_the_line_and_imports_nothing(
    sqlite_db: Database, tmp_path: Path, capsys
) -> None:
    path = _csv(tmp_path, ["1980-01-01", "1800-01-01", "0001-01-01"])
    url = str(sqlite_db.engine.url)
    before = _counts(sqlite_db)
    capsys.readouterr()
    code = main(["--database", url, "import", "patients", str(path), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"row 3 (MRN D-3): refused: Date of birth: 1800-01-01 {OLD}" in out
    assert f"row 4 (MRN D-4): refused: Date of birth: 0001-01-01 {OLD}" in out
    code = main(["--database", url, "import", "patients", str(path)])
    assert code == 1
    assert "nothing was imported" in capsys.readouterr().err
    assert _counts(sqlite_db) == before
