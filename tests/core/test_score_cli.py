"""``clinic-app score`` as a user runs it: the score, incomplete (exit 3), the change, and one
line naming the file for every file it cannot use (exit 2), never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from clinic_app.cli import main
from clinic_app.core.questionnaire import questionnaires_dir

ITEMS = [f"q{n:02d}" for n in range(1, 21)]
EXAMPLE = [4, 3, 2, 4, 4, 1, 3, 4, 2, 4, 4, 3, 3, 3, 4, 1, 0, 0, 1, 4]  # total 54


def write(tmp_path: Path, data: Any, name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def lefs_file(tmp_path: Path, values: list[int | None], name: str = "answers.json") -> Path:
    return write(
        tmp_path, {"questionnaire": "lefs", "answers": dict(zip(ITEMS, values, strict=False))}, name
    )


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["score", *argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def test_twenty_answers_print_the_total(tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "lefs", str(lefs_file(tmp_path, EXAMPLE)))
    assert (code, err) == (0, "")
    assert out == "LEFS total 54 (range 0–80, higher is better; 20 of 20 items answered)\n"


def test_five_missing_say_why_and_exit_3(tmp_path: Path, capsys) -> None:
    values: list[int | None] = [None] * 5 + EXAMPLE[5:]
    code, out, _ = run(capsys, "lefs", str(lefs_file(tmp_path, values)))
    assert code == 3
    assert out.startswith("LEFS: incomplete: 5 of 20 items not answered (q01, q02, q03, q04, q05)")
    assert "none is imputed" in out


def test_json_output(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "lefs", str(lefs_file(tmp_path, EXAMPLE)), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["score"] == 54
    assert data["complete"] is True
    assert data["direction"] == "higher_better"
    assert data["range"] == {"min": 0, "max": 80}


def test_previous_exactly_at_the_mcid(tmp_path: Path, capsys) -> None:
    before = lefs_file(tmp_path, EXAMPLE, "before.json")
    after_values = list(EXAMPLE)
    for n in (5, 15, 16):  # 1->4, 1->4, 0->3: +9
        after_values[n] += 3
    after = lefs_file(tmp_path, after_values, "after.json")
    code, out, _ = run(capsys, "lefs", str(after), "--previous", str(before))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("LEFS total 63")
    assert lines[1].startswith("previous: LEFS total 54")
    assert lines[2].startswith("change: +9 points since the previous (better): equals the MCID")
    assert lines[2].endswith(": real change")
    code, out, _ = run(capsys, "lefs", str(after), "--previous", str(before), "--json")
    data = json.loads(out)
    assert data["comparison"]["change"] == 9
    assert data["comparison"]["flag"] == "real change"
    assert data["previous"]["score"] == 54


def test_previous_incomplete_exits_3(tmp_path: Path, capsys) -> None:
    before = lefs_file(tmp_path, [None, *EXAMPLE[1:]], "before.json")
    code, out, _ = run(capsys, "lefs", str(lefs_file(tmp_path, EXAMPLE)), "--previous", str(before))
    assert code == 3
    assert "change: not computed: the previous answers are incomplete" in out


def test_psfs_and_nprs(tmp_path: Path, capsys) -> None:
    answers = {
        f"a{n}": {"activity": a, "score": s}
        for n, (a, s) in enumerate([("Run", 2), ("Sit", 6), ("Kick", 7)], 1)
    }
    path = write(tmp_path, {"questionnaire": "psfs", "answers": answers})
    code, out, _ = run(capsys, "psfs", str(path))
    assert code == 0
    assert out.startswith("PSFS mean 5.0 (range 0–10, higher is better")
    path = write(tmp_path, {"questionnaire": "nprs", "answers": {"pain": 6}})
    code, out, _ = run(capsys, "nprs", str(path))
    assert code == 0
    assert out.startswith("NPRS total 6 (range 0–10, lower is better")


def test_a_questionnaire_file_as_name(tmp_path: Path, capsys) -> None:
    path = questionnaires_dir() / "lefs.yaml"
    code, out, _ = run(capsys, str(path), str(lefs_file(tmp_path, EXAMPLE)))
    assert code == 0
    assert "LEFS total 54" in out


def test_a_broken_questionnaire_file_is_one_line(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "q.yaml"
    text = (questionnaires_dir() / "nprs.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("direction: lower_better", "direction: down"), encoding="utf-8")
    code, _, err = run(capsys, str(broken), str(lefs_file(tmp_path, EXAMPLE)))
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(f"clinic-app score: {broken}: scoring.direction: ")


@pytest.mark.parametrize("name", ["/dev/zero", "folder", "fifo.yaml"])
def test_a_special_file_as_questionnaire_is_one_line(tmp_path: Path, capsys, name: str) -> None:
    answers = lefs_file(tmp_path, EXAMPLE)
    path = Path(name) if name.startswith("/") else tmp_path / name
    if name == "folder":
        path.mkdir()
    elif name == "fifo.yaml":
        os.mkfifo(path)
    code, _, err = run(capsys, str(path), str(answers))
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(f"clinic-app score: {path}: is a "), line
    assert line.endswith("not a questionnaire file"), line


def test_an_unknown_name_is_one_line(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "visa_h", str(lefs_file(tmp_path, EXAMPLE)))
    assert code == 2
    assert err == (
        "clinic-app score: 'visa_h': no shipped questionnaire of that name (shipped: lefs, nprs, "
        "psfs); or give the path of a questionnaire file\n"
    )


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.json"
    os.mkfifo(path)
    return path


def _huge(tmp_path: Path) -> Path:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.truncate(2 * 1024 * 1024)
    return path


BAD_FILES = [
    (lambda t: Path("/dev/zero"), "is a character device, not a questionnaire answers file"),
    (_fifo, "is a FIFO (named pipe), not a questionnaire answers file"),
    (lambda t: t, "is a folder, not a questionnaire answers file"),
    (lambda t: t / "missing.json", "cannot read the file (file not found)"),
    (_huge, "is 2 MiB; the limit for a questionnaire answers file is 1 MiB"),
    (lambda t: write(t, "[" * 200_000 + "]" * 200_000), "nested"),
    (lambda t: write(t, b"\xff\xfe".decode("latin-1")), "invalid JSON"),
    (
        lambda t: write(t, {"questionnaire": "lefs", "answers": {"q01": True}}),
        "answers.q01: expected",
    ),
    (lambda t: write(t, {"questionnaire": "lefs", "answers": {"q01": 9}}), "9 is out of range"),
    (
        lambda t: write(t, {"questionnaire": "lefs", "answers": {"zz": 1}}),
        "answers.zz: unknown item",
    ),
    (lambda t: write(t, {"questionnaire": "lefs", "answers": {"q01": "3"}}), "got text '3'"),
    (lambda t: write(t, "null"), "(top level): expected an object, got null"),
]


@pytest.mark.parametrize(("make", "expected"), BAD_FILES)
def test_bad_answer_files_are_one_line_naming_the_file(
    tmp_path: Path, capsys, make, expected
) -> None:
    path = make(tmp_path)
    for argv in (
        ["lefs", str(path)],
        ["lefs", str(lefs_file(tmp_path, EXAMPLE)), "--previous", str(path)],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2
        assert out == ""
        [line] = err.splitlines()
        assert line.startswith(f"clinic-app score: {path}"), line
        assert expected in line, line


def test_help_says_which_exit_code_means_incomplete(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "3 incomplete" in text
    assert "0 scored" in text


def test_in_a_real_process(tmp_path: Path) -> None:
    env = dict(os.environ, CLINIC_APP_DATA_DIR=str(tmp_path / "data"))
    answers = lefs_file(tmp_path, [None, None, *EXAMPLE[2:]])
    done = subprocess.run(
        [sys.executable, "-m", "clinic_app", "score", "lefs", str(answers)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith("LEFS: incomplete: 2 of 20 items not answered (q01, q02)")
    done = subprocess.run(
        [sys.executable, "-m", "clinic_app", "check-form", str(questionnaires_dir() / "psfs.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "OK: questionnaire psfs" in done.stdout
