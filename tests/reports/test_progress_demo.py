"""Issue 16's done-when line on the shipped demo: the closed episode's progress report charts
LEFS with its MCID band and the Nordic force left/right with the goal line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from clinic_app.cli import main


def test_demo_progress_report_charts_lefs_band_and_nordic_goal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CLINIC_APP_DATABASE_URL", raising=False)
    assert main(["demo"]) == 0
    capsys.readouterr()
    assert main(["list", "patients", "--json"]) == 0
    patients = json.loads(capsys.readouterr().out)
    lukasz = next(p for p in patients if "Nowak" in json.dumps(p, ensure_ascii=False))
    pid = lukasz.get("id", lukasz.get("patient_id"))
    assert main(["list", "episodes", "--patient", str(pid), "--json"]) == 0
    episodes = json.loads(capsys.readouterr().out)
    closed = next(e for e in episodes if e.get("status") == "closed")
    out = tmp_path / "progress.pdf"
    assert main(["report", str(closed["id"]), "--kind", "progress", "-o", str(out)]) == 0
    pages = [p.extract_text() for p in PdfReader(out).pages]
    assert any("baseline ± MCID 9" in t for t in pages), "no LEFS chart with its MCID band"
    nordic = next(t for t in pages if "Left (painful side)" in t and "Nordic hamstring force" in t)
    assert "Right" in nordic
    # the deficit goal as what the painful side must reach, on the left/right chart
    assert "Goal (left side):" in nordic
    assert "deficit below 10% of the right's" in nordic
