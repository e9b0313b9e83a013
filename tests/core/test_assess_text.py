"""``clinic-app assess`` in words (issue 12): the running level and the advice as a person reads
them, and a red flag's precedence over a run that "warms up"."""

from __future__ import annotations

import pytest

from clinic_app.cli import main
from tests.core.test_vignettes import VIGNETTES


def _assess(capsys: pytest.CaptureFixture[str], name: str) -> str:
    assert main(["assess", str(VIGNETTES / f"{name}.json")]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("name", ["bone_stress_warms_up", "emergency_warms_up"])
def test_a_precluding_flag_with_a_run_that_warms_up_is_a_red_flag(capsys, name: str) -> None:
    out = _assess(capsys, name)
    (running,) = [line for line in out.splitlines() if line.startswith("Running:")]
    assert running.startswith("Running: Red flag, stop and call us. ")
    assert "(red flag): No running until this has been checked." in running
    assert "Green" not in out
    assert "RED_FLAG" not in out
    assert "red_flag" not in out


def test_the_emergency_handout_is_announced(capsys) -> None:
    out = _assess(capsys, "emergency_warms_up")
    assert "Emergency handout: the emergency message, when to seek help and the" in out


def test_advice_is_printed_in_words_including_do_not_stretch(capsys) -> None:
    out = _assess(capsys, "neural_slr_limited")
    assert "Advice\n  - Do not stretch it for now\n" in out
    assert "no_stretch_irritated" not in out


def test_an_unconfirmed_pattern_says_what_would_confirm_it(capsys) -> None:
    out = _assess(capsys, "proximal_unconfirmed")
    assert (
        "      possible, not confirmed; would be confirmed by: Sit-bone tender on the painful "
        "side or Tendon provocation test positive"
    ) in out


def test_green_stays_green_without_a_flag(capsys) -> None:
    out = _assess(capsys, "runner_proximal_sitting")
    assert "Running: Green, keep going. Pain warms up and stays mild:" in out


def test_json_output_carries_the_precedence(capsys) -> None:
    import json

    assert main(["assess", "--json", str(VIGNETTES / "emergency_warms_up.json")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["emergency"] is True
    assert (data["running"]["level"], data["running"]["set_by"]) == ("red_flag", "R3")
    assert data["red_flags"][0]["overrides_running"] == "red_flag"
