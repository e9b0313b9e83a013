"""SIGKILL of the real app while a clinician types: nothing saved is lost, the file stays sound.

Each run starts the real main window (``crash_driver``, offscreen) on a fresh SQLite database,
types measured values and a note into the evaluation editor with real key events, and kills the
process with SIGKILL at a seeded random moment. Every fourth run then starts the real app again
on the killed database, and its editor must show what the database holds. The database must pass
``PRAGMA integrity_check``, reopen through ``open_database``, hold findings the clinician actually
had on screen, and hold every keystroke older than the autosave window. The loss window of each
run (age at the kill of the oldest keystroke not stored) is reported at the end of the pytest run.

The same runs are made typing into a visit note (``kind="visit"``: a number on its first page, a
bilateral measure on its "Re-measured today" page, the patient's report), held to the same window.

``RELIABILITY_CRASH_RUNS`` (default 20) sets the number of runs, ``RELIABILITY_SEED`` the seed;
``scripts/crash_soak.py`` runs the same harness with a table per run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import crash_harness as harness
from tests.reliability import report


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["evaluation", "visit"])
def test_sigkill_while_typing_loses_nothing_older_than_the_autosave_window(
    tmp_path: Path, kind: str
) -> None:
    runs = harness.runs_setting()
    seed = harness.seed_setting()
    window = harness.autosave_window()
    results = harness.crash_many(tmp_path, runs, seed, harness.jobs_setting(), kind=kind)
    summary = f"[{kind}] " + harness.summary(results, window)
    report.add(summary)
    report.add(
        f"  reproduce: RELIABILITY_SEED={seed} RELIABILITY_CRASH_RUNS={runs} "
        ".venv/bin/python -m pytest tests/reliability/test_crash.py"
    )
    failed = [r for r in results if not r.ok]
    for r in failed:
        report.add("  " + r.line())
    assert not failed, summary + "\n" + "\n".join(r.line() for r in results)
