"""A clinic server under load, short: three workstations for 30 s, the server restarted once.

Runs ``benchmarks/clinic_server.py`` as a person runs it (its own throwaway cluster, the owner
and workstation roles, three workstation processes of the real storage layer: two sharing a
patient, one signing and making reports, one searching) with one ``pg_ctl restart -m fast``
half-way, and checks its comparison: every save a workstation believes it made is stored with
that content and nothing else is, no change is left unsaved, and every conflict expected from
the audit trail was reported and kept both versions. Under CI=true a missing PostgreSQL fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability import report
from tests.reliability.conftest import PG_INITDB
from tests.reliability.helpers import REPO, child_env


@pytest.mark.postgres
@pytest.mark.slow
def test_three_workstations_and_a_restart_lose_nothing(tmp_path: Path) -> None:
    if not PG_INITDB:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but no PostgreSQL server binaries (apt-get install postgresql)")
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)")
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "clinic_server.py"),
            "--workstations",
            "3",
            "--seconds",
            "30",
            "--faults",
            "fast",
            "--json",
            str(out),
        ],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert out.exists(), proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    assert result["lost"] == [], result["lost"]
    assert result["duplicated"] == [], result["duplicated"]
    assert result["wrong"] == [], result["wrong"]
    assert result["conflicts_detected"] == result["conflicts_expected"]
    assert result["copies"] == result["conflicts_detected"]
    assert result["saves"] >= 15, proc.stdout  # two typists, ~a save every 2 s each
    assert result["believed_versions"] == result["stored_versions"]
    assert result["search_ms"]["n"] >= 20
    assert [f["fault"] for f in result["faults"]] == ["fast"]
    recovery = result["faults"][0]["recovery_s"]
    assert recovery is not None, proc.stdout  # every workstation hit saved again
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report.add(
        f"clinic server, 3 workstations 30 s + fast restart: {result['saves']} saves, "
        f"p95 {result['save_ms']['p95']:.1f} ms, conflicts {result['conflicts_detected']}, "
        f"recovery {recovery:.2f} s, lost 0"
    )
