"""The core commands as a user runs them: exit codes and one-line errors, never tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clinic_app.cli import main
from clinic_app.paths import default_form_path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "runner_left_proximal.json"


def test_check_form_valid(write_form, mini_data, capsys) -> None:
    path = write_form(mini_data)
    assert main(["check-form", str(path)]) == 0
    assert "OK: form mini version 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("mutate", "place"),
    [
        (lambda d: d["sections"][0]["items"][0].pop("label"), "sections[0].items[0].label"),
        (
            lambda d: d["sections"][1]["items"][0].update(range={"min": 90, "max": 0}),
            "sections[1].items[0].range",
        ),
        (lambda d: d.update(colour="red"), "colour"),
    ],
)
def test_check_form_invalid_prints_one_line(write_form, mini_data, capsys, mutate, place) -> None:
    mutate(mini_data)
    path = write_form(mini_data)
    assert main(["check-form", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"{path}: {place}: ")


def test_check_form_yaml_error_one_line(write_form, capsys) -> None:
    path = write_form("id: x\n  bad: indent\n")
    assert main(["check-form", str(path)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"{path}: line 2, column 6: YAML syntax error")


def test_check_shipped_form() -> None:
    assert main(["check-form"]) == 0
    assert main(["check-form", str(default_form_path())]) == 0


def test_assess_example_prints_factors_with_evidence(capsys) -> None:
    assert main(["assess", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "Contributing factors (strongest first)" in out
    assert "threshold" in out
    assert "the treating clinician decides" in out


def test_assess_json(capsys, tmp_path) -> None:
    assert main(["assess", str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["factors"]
    assert all(f["evidence"] for f in data["factors"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid findings: "),
        (
            '{"form": "hamstring_whole_body", "values": {"no_such_item": 1}}',
            "no_such_item: no such item",
        ),
        (
            '{"form": "hamstring_whole_body", "values": {"involved_side": "up"}}',
            "involved_side: 'up'",
        ),
        ("[]", "findings: expected an object"),
    ],
)
def test_assess_bad_input_exit_2(tmp_path, capsys, content, message) -> None:
    path = tmp_path / "f.json"
    path.write_text(content, encoding="utf-8")
    assert main(["assess", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_assess_missing_file_exit_2(tmp_path, capsys) -> None:
    assert main(["assess", str(tmp_path / "none.json")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_assess_with_broken_form_exit_2(tmp_path, write_form, capsys) -> None:
    form = write_form("id: [\n")
    assert main(["assess", str(EXAMPLE), "--form", str(form)]) == 2
    assert "YAML syntax error" in capsys.readouterr().err


def test_module_entry_point_runs_without_traceback(tmp_path) -> None:
    """``python -m clinic_app`` is the same program: a usage error exits 2 without a traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "clinic_app", "assess"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "the following arguments are required: findings" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_form_does_not_import_qt_or_sqlalchemy(tmp_path) -> None:
    code = (
        "import sys; from clinic_app.cli import main; main(['check-form']); "
        "bad = [m for m in ('PySide6', 'sqlalchemy', 'reportlab') if m in sys.modules]; "
        "print(bad)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
