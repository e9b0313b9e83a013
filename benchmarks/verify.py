"""How long ``clinic-app verify`` takes, and the part that checks episodes, plans and goals.

    python benchmarks/verify.py [--patients 1000,10000] [--episodes 200] [--repeats 3]

Two clinics, each on a copy in a temporary folder:

- the cached synthetic clinic of ``benchmarks/clinics.py`` (signed evaluations by the thousand,
  made in bulk, so no audit events of episodes): the whole ``verify_database`` and its parts;
- a clinic whose episodes of care were charted through the records API (a plan of care, three
  goals and three statuses each, so about 20 audit events an episode): ``kept_row_problems``,
  the check that compares each row with its audit event and names rows deleted outside the app.

Prints the median of ``--repeats`` runs in milliseconds; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import clinics  # noqa: E402  (benchmarks/ is not a package)


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _synthetic(patients: int, repeats: int, folder: Path) -> None:
    from clinic_app.storage import records, sealing
    from clinic_app.storage.database import open_database
    from clinic_app.storage.kept_rows import kept_row_problems

    source, _built = clinics.ensure_clinic(patients)
    path = folder / f"synthetic-{patients}.db"
    shutil.copyfile(source, path)
    db = open_database(f"sqlite:///{path}", backup=False)
    try:

        def kept() -> None:
            with db.reading() as s:
                kept_row_problems(s)

        def chain() -> None:
            with db.reading() as s:
                sealing.audit_problems(s)

        whole = _median_ms(lambda: records.verify_database(db), repeats)
        print(f"  synthetic {patients:>7,} patients: verify {whole:9.1f} ms", end="")
        print(f"   audit chain {_median_ms(chain, repeats):7.1f}", end="")
        print(f"   kept rows {_median_ms(kept, repeats):7.1f}")
    finally:
        db.close()


def _charted(episodes: int, repeats: int, folder: Path) -> None:
    from clinic_app.storage import records as r
    from clinic_app.storage.database import open_database
    from clinic_app.storage.kept_rows import kept_row_problems

    db = open_database(f"sqlite:///{folder / f'charted-{episodes}.db'}", backup=False)
    try:
        started = time.perf_counter()
        for n in range(episodes):
            fields = r.PatientFields("Test", f"Patient{n}", mrn=f"B-{n}")
            pid = r.create_patient(db, fields, user="dana").id
            info = r.EpisodeInfo("Right posterior thigh", start_date=date(2026, 5, 4))
            ep = r.create_episode(db, pid, info, user="dana").id
            r.save_plan(db, ep, r.PlanInfo(visits_per_week=2, duration_weeks=6), user="dana")
            for text in ("Sit 30 minutes", "Run 5 km", "Stairs without pain"):
                goal = r.add_goal(db, ep, r.GoalInfo("short", text), user="dana")
                for status in ("progressing", "progressing", "met"):
                    goal = r.set_goal_status(db, goal.id, status, goal.version, user="dana")
        made = time.perf_counter() - started
        events = len(r.audit_events(db, limit=10_000_000))

        def kept() -> list[str]:
            with db.reading() as s:
                return kept_row_problems(s)

        assert kept() == [], "a freshly charted clinic verifies clean"
        ms = _median_ms(kept, repeats)
        print(
            f"  charted   {episodes:>7,} episodes: kept rows {ms:7.1f} ms "
            f"({events:,} audit events; {ms * 1000 / max(events, 1):.1f} µs an event; "
            f"charting them took {made:.1f} s)"
        )
    finally:
        db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", default="1000,10000")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(x) for x in args.patients.split(",") if x]
    with tempfile.TemporaryDirectory(prefix="clinic_verify_") as tmp:
        os.environ["CLINIC_APP_DATA_DIR"] = tmp
        os.environ["CLINIC_APP_ENCRYPTION"] = "off"
        print(f"verify, median of {args.repeats} (ms)")
        for patients in sizes:
            _synthetic(patients, args.repeats, Path(tmp))
        _charted(args.episodes, args.repeats, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
