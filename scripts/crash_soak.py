"""Crash soak: SIGKILL the real app while it is typed into, many times; print a table per run.

The same harness as ``tests/reliability/test_crash.py`` (see ``tests/reliability/crash_harness.py``)
run outside pytest, for a longer soak or to look at one seed::

    .venv/bin/python scripts/crash_soak.py --runs 200 --jobs 3
    .venv/bin/python scripts/crash_soak.py --seed 20261124 --runs 1 --keep /tmp/crash

Exit status 0 when no run lost a keystroke older than the autosave window (and every database
passed the integrity check), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.reliability import crash_harness as harness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=harness.runs_setting())
    parser.add_argument("--seed", type=int, default=harness.seed_setting())
    parser.add_argument("--jobs", type=int, default=harness.jobs_setting())
    parser.add_argument("--keep", type=Path, help="keep each run's folder (database, key log)")
    args = parser.parse_args()
    window = harness.autosave_window()
    with tempfile.TemporaryDirectory(prefix="clinic-crash-") as scratch:
        base = args.keep or Path(scratch)
        results = harness.crash_many(base, args.runs, args.seed, args.jobs)
    out = sys.stdout
    for result in results:
        out.write(result.line() + "\n")
    out.write(harness.summary(results, window) + "\n")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
