"""Search by a year or a month of birth on a synthetic clinic (issue 18): median and p95 per query.

    python benchmarks/search_dates.py [--patients 100000] [--repeats 100]

Uses (or builds once) the cached synthetic clinic of ``benchmarks/clinics.py`` on a copy in a
temporary folder, and times ``records.search_patients`` for each query as typed character by
character would end: a year, a month, a name with a year, and plain names for comparison. Prints
numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import clinics  # noqa: E402  (benchmarks/ is not a package)

QUERIES = (
    "smith",
    "muller",
    "1991",
    "1991-04",
    "04.1991",
    "1984",
    "müller 1984",
    "nowak 1991-04",
    "1",
    "199",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args()
    source, _built = clinics.ensure_clinic(args.patients)
    with tempfile.TemporaryDirectory(prefix="clinic_search_dates_") as tmp:
        os.environ["CLINIC_APP_DATA_DIR"] = tmp
        path = Path(tmp) / "clinic.db"
        shutil.copyfile(source, path)
        from clinic_app.storage import records
        from clinic_app.storage.database import open_database

        db = open_database(f"sqlite:///{path}", backup=False)
        try:
            print(f"search by date of birth: {args.patients:,} patients, {args.repeats} repeats")
            print(f"{'query':<16} {'found':>5} {'median ms':>10} {'p95 ms':>8}")
            for query in QUERIES:
                records.search_patients(db, query)  # warm
                times = []
                found = 0
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    found = len(records.search_patients(db, query))
                    times.append((time.perf_counter() - start) * 1000)
                times.sort()
                p95 = times[max(0, int(0.95 * len(times)) - 1)]
                print(f"{query!r:<16} {found:>5} {statistics.median(times):>10.2f} {p95:>8.2f}")
        finally:
            db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
