"""``clinic-app list``: patients, episodes, evaluations and visit notes in aligned columns or
JSON, each listed patient in the access log, and one line naming the argument for every bad id.
SQLite and PostgreSQL (``db``), in-process through ``clinic_app.cli.main`` and once as a
subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from clinic_app.cli import main
from clinic_app.core.form import Form
from clinic_app.storage import migrate
from clinic_app.storage import records as r
from clinic_app.storage.database import Database

D0 = date(2026, 3, 2)
SAMPLE_0005 = Path(__file__).resolve().parents[1] / "data" / "clinic-0005.db"


@pytest.fixture(autouse=True)
def plain_clinic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_APP_ENCRYPTION", "off")


def url_of(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def _ev(db: Database, form: Form, pid: int, kind: str, day: int, **kw: Any) -> r.Evaluation:
    return r.start_evaluation(
        db,
        pid,
        form,
        user="dana",
        kind=kind,
        eval_date=D0 + timedelta(day),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def clinic(db: Database, form: Form) -> dict[str, Any]:
    new = r.create_patient
    anna = new(
        db,
        r.PatientFields("Anna", "Müller", mrn="M-1", date_of_birth=date(1990, 5, 1)),
        user="dana",
    ).id
    fang = new(db, r.PatientFields("芳", "王", mrn="W-22"), user="dana").id
    gone = new(db, r.PatientFields("Old", "Archived", mrn="A-9"), user="dana").id
    r.archive_patient(db, gone, user="dana")
    initial = _ev(db, form, anna, "initial", 0)
    r.sign_evaluation(db, initial.id, initial.version, user="dana")
    first_ep = initial.episode_id
    v1 = _ev(db, form, anna, "visit", 2)
    v2 = _ev(db, form, anna, "visit", 5)
    r.sign_evaluation(db, v2.id, v2.version, user="lee")
    discharge = _ev(db, form, anna, "discharge", 30)
    r.update_episode(
        db,
        first_ep or 0,
        r.EpisodeInfo("Left posterior thigh", end_date=D0 + timedelta(30)),
        1,
        user="d",
    )
    second = r.create_episode(
        db,
        anna,
        r.EpisodeInfo(
            "Right posterior thigh", involved_side="right", start_date=D0 + timedelta(200)
        ),
        user="d",
    )
    later = _ev(db, form, anna, "initial", 200, episode_id=second.id)
    v3 = _ev(db, form, anna, "visit", 203, episode_id=second.id)
    return {
        "url": url_of(db),
        "db": db,
        "anna": anna,
        "fang": fang,
        "gone": gone,
        "ep1": first_ep,
        "ep2": second.id,
        "evaluations": [initial.id, discharge.id, later.id],
        "visits": [v1.id, v2.id, v3.id],
    }


def run(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--database", url, "list", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def ok(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> str:
    code, out, err = run(capsys, url, *args)
    assert (code, err) == (0, "")
    return out


def views(db: Database) -> list[tuple[int, str]]:
    return [(e.entity_id, e.actor) for e in r.access_log(db, actions=["view"])]


def _starts(line: str) -> list[int]:
    """Where each column starts, in display cells (a wide character counts twice): columns are
    two or more spaces apart, words inside a cell one."""
    from clinic_app.cli.list_cmds import _width

    return [_width(line[: m.start()]) for m in re.finditer(r"(?:^|(?<=  ))\S", line)]


def test_list_patients_aligned_and_logged(clinic: dict[str, Any], capsys: Any) -> None:
    db = clinic["db"]
    lines = ok(capsys, clinic["url"], "patients").splitlines()
    assert lines[0].split() == ["ID", "MRN", "BORN", "STATUS", "NAME"]
    assert len(lines) == 3  # archived patients left out
    anna = next(line for line in lines if "Müller" in line)
    fang = next(line for line in lines if "王" in line)
    assert anna.split()[:4] == [str(clinic["anna"]), "M-1", "1990-05-01", "active"]
    assert fang.split()[:3] == [str(clinic["fang"]), "W-22", "active"]
    from clinic_app.cli.list_cmds import _width

    # Aligned: the NAME column starts at the same display cell on every line.
    name_at = _width(lines[0][: lines[0].index("NAME")])
    assert _width(anna[: anna.index("Müller")]) == name_at
    assert _width(fang[: fang.index("王, 芳")]) == name_at
    assert sorted(pid for pid, _ in views(db)) == sorted([clinic["anna"], clinic["fang"]])
    assert all(actor.startswith("command line (") for _, actor in views(db))
    every = ok(capsys, clinic["url"], "patients", "--archived").splitlines()
    assert any("Archived, Old" in line and "archived" in line.split() for line in every)
    one = ok(capsys, clinic["url"], "patients", "--patient", str(clinic["gone"]), "--json")
    assert json.loads(one) == [
        {
            "id": clinic["gone"],
            "mrn": "A-9",
            "family_name": "Archived",
            "given_name": "Old",
            "date_of_birth": None,
            "status": "archived",
        }
    ]
    limited = ok(capsys, clinic["url"], "patients", "--limit", "1", "--json")
    assert len(json.loads(limited)) == 1


def test_list_episodes(clinic: dict[str, Any], capsys: Any) -> None:
    out = ok(capsys, clinic["url"], "episodes", "--patient", str(clinic["anna"]))
    header, newer, older = out.splitlines()
    assert header.split() == ["ID", "PATIENT", "START", "END", "STATUS", "SIDE", "RECORDS", "TITLE"]
    assert newer.split() == [
        str(clinic["ep2"]),
        str(clinic["anna"]),
        "2026-09-18",
        "-",
        "open",
        "right",
        "2",
        "Right",
        "posterior",
        "thigh",
    ]
    assert older.split()[:7] == [
        str(clinic["ep1"]),
        str(clinic["anna"]),
        "2026-03-02",
        "2026-04-01",
        "closed",
        "-",
        "4",
    ]
    assert _starts(newer) == _starts(older) == _starts(header)
    data = json.loads(
        ok(capsys, clinic["url"], "episodes", "--episode", str(clinic["ep1"]), "--json")
    )
    assert data == [
        {
            "id": clinic["ep1"],
            "patient_id": clinic["anna"],
            "start_date": "2026-03-02",
            "end_date": "2026-04-01",
            "status": "closed",
            "involved_side": None,
            "title": "Left posterior thigh",
            "records": 4,
        }
    ]
    assert (
        ok(capsys, clinic["url"], "episodes", "--patient", str(clinic["fang"])) == "no episodes\n"
    )
    assert (
        json.loads(
            ok(capsys, clinic["url"], "episodes", "--patient", str(clinic["fang"]), "--json")
        )
        == []
    )


def test_list_evaluations_and_visits(clinic: dict[str, Any], capsys: Any) -> None:
    url, anna = clinic["url"], str(clinic["anna"])
    evaluations = json.loads(ok(capsys, url, "evaluations", "--patient", anna, "--json"))
    assert [e["id"] for e in evaluations] == clinic["evaluations"]
    assert [e["kind"] for e in evaluations] == ["initial", "discharge", "initial"]
    assert [e["status"] for e in evaluations] == ["signed", "draft", "draft"]
    assert evaluations[0]["signed_by"] == "dana"
    assert [e["episode_id"] for e in evaluations] == [clinic["ep1"]] * 2 + [clinic["ep2"]]
    visits = json.loads(ok(capsys, url, "visits", "--patient", anna, "--json"))
    assert [v["id"] for v in visits] == clinic["visits"]
    assert {v["kind"] for v in visits} == {"visit"}
    assert [v["date"] for v in visits] == ["2026-03-04", "2026-03-07", "2026-09-21"]
    in_first = json.loads(ok(capsys, url, "visits", "--episode", str(clinic["ep1"]), "--json"))
    assert [v["id"] for v in in_first] == clinic["visits"][:2]
    both = ok(capsys, url, "visits", "--patient", anna, "--episode", str(clinic["ep1"]))
    header, *rows = both.splitlines()
    assert header.split() == ["ID", "PATIENT", "EPISODE", "DATE", "KIND", "VERSION", "STATUS"]
    assert [row.split()[4:] for row in rows] == [
        ["visit", "1", "draft"],
        ["visit", "2", "signed", "by", "lee"],
    ]
    text = ok(capsys, url, "evaluations", "--episode", str(clinic["ep1"])).splitlines()
    assert [line.split()[4] for line in text[1:]] == ["initial", "discharge"]
    assert _starts(text[1]) == _starts(text[2]) == _starts(text[0])
    assert ok(capsys, url, "visits", "--patient", str(clinic["fang"])) == "no visits\n"
    # Each listing is a view of the patient's record.
    assert [pid for pid, _ in views(clinic["db"])].count(clinic["anna"]) == 5


BAD: list[tuple[list[str], str]] = [
    (["evaluations", "--patient", "abc"], "argument --patient: 'abc' is not a record number"),
    (["evaluations", "--patient", "-3"], "argument --patient: '-3' is not a record number"),
    (["evaluations", "--patient", "0"], "argument --patient: 0 is not a record number"),
    (["evaluations", "--patient", "1.5"], "argument --patient: '1.5' is not a record number"),
    (["evaluations", "--patient", "٣"], "argument --patient: '٣' is not a record number"),
    (["visits", "--patient", "9" * 400], "argument --patient: 999999999999... (400 digits)"),
    (["visits", "--patient", "7" * 5000], "argument --patient: 777777777777... (5000 digits)"),
    (["patients", "--limit", "1" * 5000], "argument --limit: '1111111111"),
    (["visits", "--patient", str(2**31)], "argument --patient: 2147483648 is not a record"),
    (["episodes", "--episode", "x1"], "argument --episode: 'x1' is not a record number"),
    (["patients", "--limit", "0"], "argument --limit: '0' is not a number of rows"),
    (["evaluations", "--patient", "424242"], "--patient: there is no patient 424242"),
    (["episodes", "--episode", "424242"], "--episode: there is no episode 424242"),
    (["visits"], "list visits: give --patient ID (or --episode ID)"),
    (["patients", "--episode", "1"], "--episode: list patients takes --patient"),
    (["visits", "--patient", "1", "--archived"], "--archived and --limit are for list patients"),
    (["notes"], "argument what: invalid choice: 'notes'"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_arguments_one_line_naming_the_argument(
    clinic: dict[str, Any], capsys: Any, args: list[str], message: str
) -> None:
    before = views(clinic["db"])
    try:
        code, out, err = run(capsys, clinic["url"], *args)
    except SystemExit as exit_:  # argparse
        code, captured = int(exit_.code or 0), capsys.readouterr()
        out, err = captured.out, captured.err
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
    assert len(err) < 300
    assert views(clinic["db"]) == before  # nothing read, nothing logged


def test_an_episode_of_another_patient_is_refused(
    clinic: dict[str, Any], capsys: Any, form: Form
) -> None:
    db = clinic["db"]
    theirs = _ev(db, form, clinic["fang"], "initial", 1).episode_id
    code, out, err = run(
        capsys, clinic["url"], "visits", "--patient", str(clinic["anna"]), "--episode", str(theirs)
    )
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"clinic-app list: --episode: episode {theirs} is not patient {clinic['anna']}'s "
        f"(it belongs to patient {clinic['fang']})"
    )


def test_an_old_schema_is_refused_not_upgraded(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "old.db"
    shutil.copyfile(SAMPLE_0005, path)
    code, out, err = run(capsys, f"sqlite:///{path}", "patients")
    assert (code, out) == (2, "")
    assert f"schema revision 0005, this app reads {migrate.HEAD}" in err
    code, _out, err = run(capsys, f"sqlite:///{tmp_path / 'missing' / 'x.db'}", "patients")
    assert code != 0
    assert err.count("\n") == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_as_a_subprocess(clinic: dict[str, Any], private_data_dir: Path) -> None:
    env = {
        **os.environ,
        "CLINIC_APP_DATA_DIR": str(private_data_dir),
        "CLINIC_APP_ENCRYPTION": "off",
        "PYTHONIOENCODING": "utf-8",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "clinic_app",
            "--database",
            clinic["url"],
            "list",
            "visits",
            "--patient",
            str(clinic["anna"]),
            "--json",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert [v["id"] for v in json.loads(done.stdout)] == clinic["visits"]
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "clinic_app",
            "--database",
            clinic["url"],
            "list",
            "visits",
            "--patient",
            "-1",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.count("\n") == 1
    assert "argument --patient: '-1' is not a record number" in bad.stderr
