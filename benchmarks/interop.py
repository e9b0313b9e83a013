"""Interop figures (issue 20): the FHIR export of the demo's largest patient, the CSV export and
the import of a patient list.

``python benchmarks/interop.py`` (or ``run.py --only interop``) builds the demo clinic
(``clinic-app demo``) in a temporary data folder of its own and times, in this process:

- **interop: export fhir** — ``interop.fhir.build_bundle`` of the patient with the most records
  (the demo's 10-record episode), with the signed PDFs (one report build per signed record) and
  without them (``--no-pdf``), validation by ``fhir.resources`` included; the first build of the
  process apart (imports, fonts); the JSON size.
- **interop: export fhir of a long episode** — ``build_bundle`` of a patient with one episode of
  200 visit notes and 60 goals (``tests/interop/big_patient.py``: built through the records API,
  every record signed), with the PDFs (each visit note prints the episode's goals) and without,
  one build each, and the same for a 20-visit, 6-goal patient: the ratios show how the export
  grows with ten times the visits and ten times the goals (``--quick``: 100/30 against 10/3).
- **interop: export csv** — ``export_csv(findings)``, plain and pseudonymised.
- **interop: import patients** — ``plan_import`` + ``run_import`` of a 2,000-row patient list.
- **interop: access events of an export** — ``records.log_accesses`` for every patient then in
  the clinic (what ``export csv`` writes after the file: one chained event per patient).

No target: these are figures of work a person starts and waits for once, reported so a change
that makes them ten times slower is seen.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

IMPORT_ROWS = 2000
LONG = ((20, 6), (200, 60))  # (visits, goals) of the small and the long episode
LONG_QUICK = ((10, 3), (100, 30))
ROOT = Path(__file__).resolve().parents[1]


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _long_episode(db: Any, form: Any, sizes: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    """One build of each patient of ``sizes`` (visits, goals), with and without PDFs."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the patient builder lives with the tests that use it
    from clinic_app.interop.fhir import build_bundle
    from tests.interop.big_patient import build_patient

    out: dict[str, Any] = {"sizes": [list(x) for x in sizes], "resources": []}
    for n, (visits, goals) in enumerate(sizes):
        built = build_patient(db, form, visits, goals, mrn=f"BENCH-LONG-{n}")
        for key, pdf in (("pdf", True), ("no_pdf", False)):
            start, cpu = time.perf_counter(), time.process_time()
            bundle = build_bundle(db, built.patient_id, include_pdf=pdf)
            out.setdefault(f"{key}_ms", []).append(_ms(start))
            out.setdefault(f"{key}_cpu_ms", []).append((time.process_time() - cpu) * 1000)
            if pdf:
                out["resources"].append(len(bundle["entry"]))
    return out


def figures(repeats: int = 5, long_sizes: tuple[tuple[int, int], ...] = LONG) -> dict[str, Any]:
    """Build the demo in a temporary data folder and time the exports and the import."""
    folder = Path(tempfile.mkdtemp(prefix="interop-bench-"))
    before = {k: os.environ.get(k) for k in ("CLINIC_APP_DATA_DIR", "CLINIC_APP_ENCRYPTION")}
    os.environ["CLINIC_APP_DATA_DIR"] = str(folder / "data")
    os.environ["CLINIC_APP_ENCRYPTION"] = "off"
    try:
        from clinic_app.core.form import load_form
        from clinic_app.interop import csv_export, patient_import
        from clinic_app.interop.fhir import build_bundle
        from clinic_app.paths import default_form_path
        from clinic_app.storage import records as r
        from clinic_app.storage.database import open_database
        from clinic_app.storage.demo import fill_demo

        db = open_database(f"sqlite:///{folder / 'clinic.db'}", backup=False)
        try:
            form = load_form(default_form_path())
            fill_demo(db, form)
            patients = r.list_patients(db, include_archived=True)
            largest = max(patients, key=lambda p: len(r.list_evaluations(db, p.id)))
            records = len(r.list_evaluations(db, largest.id))
            start = time.perf_counter()
            bundle = build_bundle(db, largest.id)
            first = _ms(start)
            with_pdf, without_pdf = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                bundle = build_bundle(db, largest.id)
                with_pdf.append(_ms(start))
                start = time.perf_counter()
                plain = build_bundle(db, largest.id, include_pdf=False)
                without_pdf.append(_ms(start))
            size = len(json.dumps(bundle, ensure_ascii=False).encode("utf-8"))
            plain_size = len(json.dumps(plain, ensure_ascii=False).encode("utf-8"))
            out = folder / "csv"
            p = csv_export.Pseudonymiser(b"benchmark key of 32 bytes......")
            csv_plain, csv_pseudo = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                rows = csv_export.export_csv(db, "findings", out).rows
                csv_plain.append(_ms(start))
                start = time.perf_counter()
                csv_export.export_csv(db, "findings", out, pseudonymiser=p)
                csv_pseudo.append(_ms(start))
            listing = folder / "patients.csv"
            lines = ["mrn,family_name,given_name,date_of_birth,sex"]
            lines += [
                f"B-{n},Family{n},Given{n},1980-01-{n % 28 + 1:02d},female"
                for n in range(IMPORT_ROWS)
            ]
            listing.write_text("\n".join(lines) + "\n", "utf-8")
            start = time.perf_counter()
            plan = patient_import.plan_import(db, listing)
            plan_ms = _ms(start)
            start = time.perf_counter()
            made = patient_import.run_import(db, plan, user="benchmark")
            run_ms = _ms(start)
            everyone = [p.id for p in r.list_patients(db, limit=100_000, include_archived=True)]
            start = time.perf_counter()
            r.log_accesses(
                db, actor="benchmark", action="export", entity="patient", entity_ids=everyone
            )
            access_ms = _ms(start)
            long = _long_episode(db, form, long_sizes)
        finally:
            db.close()
        return {
            "patient_records": records,
            "resources": len(bundle["entry"]),
            "first_ms": first,
            "fhir_ms": with_pdf,
            "fhir_no_pdf_ms": without_pdf,
            "bytes": size,
            "bytes_no_pdf": plain_size,
            "csv_rows": rows,
            "csv_ms": csv_plain,
            "csv_pseudonymised_ms": csv_pseudo,
            "import_rows": len(made),
            "import_plan_ms": plan_ms,
            "import_run_ms": run_ms,
            "access_patients": len(everyone),
            "access_ms": access_ms,
            "long": long,
        }
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(folder, ignore_errors=True)


def measure(bench: Any, h: ModuleType) -> None:
    """Add the interop rows to ``bench`` (``h``: run.py)."""
    Row, p50, pct = h.Row, h.p50, h.pct
    quick = bench.args.quick
    f = figures(3 if quick else 5, LONG_QUICK if quick else LONG)
    bench.raw["interop"] = f
    size = f"{f['patient_records']} records"
    bench.rows.append(
        Row(
            "interop: export fhir, signed PDFs included",
            size,
            p50(f["fhir_ms"]),
            pct(f["fhir_ms"], 95),
            "ms",
            "",
            None,
            f"{f['resources']} resources, {f['bytes'] / 1e6:.1f} MB JSON; first build of the "
            f"process {f['first_ms']:,.0f} ms",
        )
    )
    bench.rows.append(
        Row(
            "interop: export fhir --no-pdf",
            size,
            p50(f["fhir_no_pdf_ms"]),
            pct(f["fhir_no_pdf_ms"], 95),
            "ms",
            "",
            None,
            f"{f['bytes_no_pdf'] / 1e6:.2f} MB JSON; validation by fhir.resources included",
        )
    )
    long = f["long"]
    (v0, g0), (v1, g1) = long["sizes"]
    for key, what in (("pdf", "signed PDFs included"), ("no_pdf", "--no-pdf")):
        small, big = long[f"{key}_ms"]
        cpu_small, cpu_big = long[f"{key}_cpu_ms"]
        bench.rows.append(
            Row(
                f"interop: export fhir of a long episode, {what}",
                f"{v1} visits, {g1} goals",
                big,
                None,
                "ms",
                "",
                None,
                f"{big / small:.1f}× the {v0}-visit, {g0}-goal patient ({small:,.0f} ms), CPU "
                f"{cpu_big / cpu_small:.1f}×; {long['resources'][1]} resources; one build each",
            )
        )
    bench.rows.append(
        Row(
            "interop: export csv findings (plain / pseudonymised)",
            f"{f['csv_rows']} rows",
            p50(f["csv_ms"]),
            pct(f["csv_ms"], 95),
            "ms",
            "",
            None,
            f"pseudonymised p50 {p50(f['csv_pseudonymised_ms']):.0f} ms",
        )
    )
    bench.rows.append(
        Row(
            "interop: import patients (plan + one transaction)",
            f"{f['import_rows']} rows",
            f["import_plan_ms"] + f["import_run_ms"],
            None,
            "ms",
            "",
            None,
            f"plan {f['import_plan_ms']:.0f} ms, run {f['import_run_ms']:.0f} ms",
        )
    )
    bench.rows.append(
        Row(
            "interop: access events of an export (one per patient, one transaction)",
            f"{f['access_patients']} patients",
            f["access_ms"],
            None,
            "ms",
            "",
            None,
            f"{f['access_ms'] / f['access_patients'] * 1000:.0f} µs a patient",
        )
    )


def main() -> int:
    f = figures()
    med = statistics.median
    print(
        f"export fhir of the largest demo patient ({f['patient_records']} records, "
        f"{f['resources']} resources):"
    )
    print(
        f"  with signed PDFs: median {med(f['fhir_ms']):.0f} ms "
        f"(first of the process {f['first_ms']:.0f} ms), {f['bytes'] / 1e6:.2f} MB"
    )
    print(
        f"  without PDFs:     median {med(f['fhir_no_pdf_ms']):.0f} ms, "
        f"{f['bytes_no_pdf'] / 1e6:.2f} MB"
    )
    print(
        f"export csv findings ({f['csv_rows']} rows): median {med(f['csv_ms']):.0f} ms, "
        f"pseudonymised {med(f['csv_pseudonymised_ms']):.0f} ms"
    )
    print(
        f"import patients ({f['import_rows']} rows): plan {f['import_plan_ms']:.0f} ms, "
        f"run {f['import_run_ms']:.0f} ms"
    )
    print(f"access events of an export ({f['access_patients']} patients): {f['access_ms']:.0f} ms")
    long = f["long"]
    for n, (visits, goals) in enumerate(long["sizes"]):
        print(
            f"export fhir, {visits} visits and {goals} goals in one episode "
            f"({long['resources'][n]} resources): with PDFs {long['pdf_ms'][n]:.0f} ms "
            f"(CPU {long['pdf_cpu_ms'][n]:.0f}), without {long['no_pdf_ms'][n]:.0f} ms "
            f"(CPU {long['no_pdf_cpu_ms'][n]:.0f})"
        )
    for key in ("pdf", "no_pdf"):
        wall, cpu = long[f"{key}_ms"], long[f"{key}_cpu_ms"]
        print(
            f"  growth ({key.replace('_', ' ')}), the long episode against the short: "
            f"{wall[1] / wall[0]:.1f}× (CPU {cpu[1] / cpu[0]:.1f}×)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
