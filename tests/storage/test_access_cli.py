"""``clinic-app access-log``: filters, JSON, CSV, and one line for every bad option or target."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from clinic_app.cli import main
from clinic_app.storage import records as r
from clinic_app.storage.database import open_database


@pytest.fixture(autouse=True)
def plain_clinic(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain SQLite clinic (encryption at rest is part B's to test)."""
    monkeypatch.setenv("CLINIC_APP_ENCRYPTION", "off")


@pytest.fixture
def clinic(private_data_dir: Path) -> dict[str, int]:
    assert main(["demo"]) == 0
    db = open_database(backup=False)
    try:
        patients = r.list_patients(db, include_archived=True)
        first, second = patients[0].id, patients[1].id
        ev = r.list_evaluations(db, first)[0].id
        r.log_access(db, actor="bob", action="view", entity="patient", entity_id=first)
        r.log_access(db, actor="bob", action="open", entity="evaluation", entity_id=ev)
        r.log_access(db, actor="carol", action="view", entity="patient", entity_id=second)
    finally:
        db.close()
    return {"first": first, "second": second, "ev": ev}


def _out(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["access-log", *args]) == 0
    return capsys.readouterr().out


def test_lists_and_filters(clinic: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    everything = _out(capsys, "--limit", "1000").splitlines()
    assert len(everything) > 3
    assert "carol" in everything[0]
    assert "view" in everything[0]
    bob = _out(capsys, "--clinician", "BOB", "--action", "view", "--action", "open")
    lines = bob.splitlines()
    assert len(lines) == 2
    assert f"evaluation {clinic['ev']} (patient {clinic['first']} " in lines[0]
    assert f"patient {clinic['first']} " in lines[1]
    assert _out(capsys, "--clinician", "nobody").strip() == "no events match"
    assert _out(capsys, "--until", "2001-01-01").strip() == "no events match"


def test_json(clinic: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    events = json.loads(_out(capsys, "--patient", str(clinic["first"]), "--json"))
    assert {e["patient_id"] for e in events} == {clinic["first"]}
    assert [e["action"] for e in events[:2]] == ["open", "view"]
    assert events[0]["at"].endswith("+00:00")
    assert any(e["action"] == "create" for e in events)  # the change events are in the trail


def test_csv(clinic: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "trail.csv"
    out = _out(capsys, "--action", "view", "--csv", str(target))
    assert out.strip() == f"2 events written to {target}"
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(row["actor"], row["entity_id"]) for row in rows] == [
        ("carol", str(clinic["second"])),
        ("bob", str(clinic["first"])),
    ]
    assert os.stat(target).st_mode & 0o777 == 0o600


def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    try:
        code = main(["access-log", *args])
    except SystemExit as exc:  # argparse refuses an option's value before the command runs
        code = exc.code  # type: ignore[assignment]
    assert code != 0
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert captured.out == ""
    return err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--since", "2026-02-30"], "argument --since: '2026-02-30' is not a date"),
        (["--until", "yesterday"], "argument --until: 'yesterday' is not a date"),
        (["--patient", "0"], "argument --patient: '0' is not a patient number"),
        (["--patient", "-3"], "argument --patient: '-3' is not a patient number"),
        (["--patient", "١"], "argument --patient: '١' is not a patient number"),
        (["--limit", "0"], "argument --limit: '0' is not a number of rows"),
        (["--limit", "99999999"], "argument --limit: '99999999'"),
        (["--action", "delete"], "--action: 'delete' is not one of view"),
        (["--since", "2026-02-02", "--until", "2026-02-01"], "--until 2026-02-01 is before"),
        (["--clinician", "  "], "--clinician: give a login name"),
        (["--csv", "x.csv", "--json"], "not allowed with argument"),
    ],
)
def test_bad_options_give_one_line(
    clinic: dict[str, int], capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert expected in _refused(capsys, *args)


def test_bad_csv_targets_give_one_line(
    clinic: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    a_file = tmp_path / "plain"
    a_file.write_text("x")
    targets = {
        "/proc/x": "/proc/x",
        str(fifo): "is not a regular file",
        str(tmp_path): "is not a regular file",
        str(a_file / "inside.csv"): "Not a directory",
        str(tmp_path / "none" / "x.csv"): "No such file",
    }
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        targets[str(locked / "x.csv")] = "Permission denied"
    for target, expected in targets.items():
        assert expected in _refused(capsys, "--csv", target), target
    assert a_file.read_text() == "x"


def test_an_empty_data_folder_is_refused_in_one_line(
    private_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private_data_dir.mkdir()
    (private_data_dir / "clinic.db").touch()
    assert "schema revision none" in _refused(capsys)


def test_a_report_written_by_the_command_line_is_in_the_access_log(
    clinic: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.pdf"
    assert main(["report", str(clinic["ev"]), "--kind", "clinician", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    events = json.loads(_out(capsys, "--action", "export", "--json"))
    assert [(e["entity"], e["entity_id"]) for e in events] == [("evaluation", clinic["ev"])]
    assert events[0]["actor"].startswith("command line (")
    assert events[0]["patient_id"] == clinic["first"]
    # A report that cannot be read is not recorded.
    assert main(["report", "999999", "--kind", "clinician", "-o", str(out)]) == 2
    assert len(json.loads(_out(capsys, "--action", "export", "--json"))) == 1


def test_an_encrypted_clinic_needs_its_passphrase(
    private_data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CLINIC_APP_ENCRYPTION")
    monkeypatch.setenv("CLINIC_APP_PASSPHRASE", "the clinic's passphrase 7")
    assert main(["demo"]) == 0
    assert "demo" in _out(capsys, "--limit", "1")
    monkeypatch.setenv("CLINIC_APP_PASSPHRASE", "not the passphrase at all")
    assert "does not open" in _refused(capsys)
