"""``clinic-app export fhir|csv`` and ``clinic-app import patients`` (issue 20).

``export fhir PATIENT_ID -o FILE.json [--kind collection|document] [--no-pdf]`` writes the
patient's record as a FHIR R4B Bundle (``interop.fhir``), validated before it is written.
``export csv --what findings|patients|audit -o DIR [--pseudonymise [--key-file FILE]]
[--patient ID]`` writes ``DIR/<what>.csv`` (``interop.csv_export``). ``import patients
FILE.csv [--map COLUMN=FIELD ...] [--dry-run]`` loads a patient list in one transaction
(``interop.patient_import``); the dry run lists what would be created and what is refused.

As ``report`` and ``list`` do: the clinic's passphrase was asked before the command ran (an
encrypted clinic), the exports open the database without migrating it and need this app's
schema revision, and every patient whose record left the database is written to the access
log as exported by the command line (the operating-system user named). Files are 0600 and
written through a temporary file renamed at the end; a symbolic link, a folder or a FIFO where a
file is expected is refused. Every refusal is one line naming the argument or the file; exit 2
for a refused argument or file, 1 when rows of an import are refused (nothing imported).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinic_app.cli import UserError
from clinic_app.cli.list_cmds import _actor, _record_id

if TYPE_CHECKING:
    from clinic_app.storage.database import Database


def register(sub: Any) -> None:
    export = sub.add_parser(
        "export", help="export a patient's record as FHIR, or findings/patients/audit as CSV"
    )
    what = export.add_subparsers(dest="export_what", metavar="FORMAT", required=True)
    fhir = what.add_parser(
        "fhir",
        help="a patient's whole record as a FHIR R4 (R4B) Bundle in JSON",
        description=(
            "Write PATIENT_ID's record (episodes, evaluations, visit notes, findings, "
            "questionnaires, the assessment's suggestions, goals, plans of care, signed PDFs "
            "and their seals) as a FHIR Bundle validated with fhir.resources."
        ),
    )
    fhir.add_argument("patient_id", type=_record_id, metavar="PATIENT_ID")
    fhir.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.json")
    fhir.add_argument(
        "--kind",
        choices=("collection", "document"),
        default="collection",
        help="Bundle type (default collection; document adds a Composition first)",
    )
    fhir.add_argument(
        "--no-pdf",
        action="store_true",
        help="leave the signed PDFs out (DocumentReference); the seals stay in Provenance",
    )
    fhir.set_defaults(handler=cmd_export_fhir)

    csv_ = what.add_parser(
        "csv",
        help="findings (one row per finding), patients or the audit trail as CSV",
        description=(
            "Write DIR/findings.csv, DIR/patients.csv or DIR/audit.csv (0600). "
            "--pseudonymise replaces MRNs by keyed hashes, drops names, dates of birth and "
            "free text, and shifts each patient's dates by a keyed number of days."
        ),
    )
    csv_.add_argument("--what", choices=("findings", "patients", "audit"), required=True)
    csv_.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    csv_.add_argument("--pseudonymise", action="store_true", help="for research (see above)")
    csv_.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="pseudonym key (default: pseudonym.key in the data folder, made on first use)",
    )
    csv_.add_argument("--patient", type=_record_id, metavar="ID", help="only this patient")
    csv_.set_defaults(handler=cmd_export_csv)

    imp = sub.add_parser("import", help="import an existing patient list from CSV")
    kinds = imp.add_subparsers(dest="import_what", metavar="WHAT", required=True)
    patients = kinds.add_parser(
        "patients",
        help="patients from a CSV file (one transaction: all or nothing)",
        description=(
            "Create the patients of FILE.csv. Columns named like the patient fields "
            "(given_name, family_name, mrn, date_of_birth YYYY-MM-DD, sex, phone, email, "
            "activity, referring_provider) are read; --map COLUMN=FIELD maps others. "
            "--dry-run lists what would be created and what is refused, and writes nothing."
        ),
    )
    patients.add_argument("file", type=Path, metavar="FILE.csv")
    patients.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read COLUMN as FIELD (repeat for several)",
    )
    patients.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    patients.set_defaults(handler=cmd_import_patients)


# -- shared -------------------------------------------------------------------------------------


def _exported(db: Database, patient_ids: Sequence[int]) -> None:
    """The access log: each patient's record was exported by the command line (one commit)."""
    from clinic_app.storage.records import log_accesses

    log_accesses(db, actor=_actor(), action="export", entity="patient", entity_ids=patient_ids)


def _check_revision(db: Database) -> None:
    from clinic_app.storage import migrate

    revision = db.schema_revision()
    if revision != migrate.HEAD:
        raise UserError(
            f"{db.where}: schema revision {revision or 'none'}, this app reads "
            f"{migrate.HEAD}; open the database with the app once to upgrade it"
        )


# -- export fhir --------------------------------------------------------------------------------


def cmd_export_fhir(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.interop.files import check_output, export_fhir_file
    from clinic_app.storage.errors import NotFoundError

    out: Path = args.output
    with _storage_errors(_where(args)):
        check_output(out)  # before the database is opened
        with _open(args, migrate=False, backup=False) as db:
            _check_revision(db)
            try:
                count = export_fhir_file(
                    db,
                    args.patient_id,
                    out,
                    actor=_actor(),
                    kind=args.kind,
                    include_pdf=not args.no_pdf,
                )
            except NotFoundError:
                raise UserError(f"PATIENT_ID: there is no patient {args.patient_id}") from None
    print(f"wrote {out} ({count} resources, FHIR R4B Bundle {args.kind})")
    return 0


# -- export csv ---------------------------------------------------------------------------------


def cmd_export_csv(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.interop import csv_export

    if args.key_file is not None and not args.pseudonymise:
        raise UserError("--key-file is for --pseudonymise")
    with _storage_errors(_where(args)):
        csv_export.check_folder(args.output)  # before the database is opened
        pseudonymiser = None
        if args.pseudonymise:
            pseudonymiser = csv_export.Pseudonymiser(csv_export.load_key(args.key_file))
        with _open(args, migrate=False, backup=False) as db:
            _check_revision(db)
            patients = None
            if args.patient is not None:
                from clinic_app.cli.list_cmds import _patient

                patients = [_patient(db, args.patient).id]
            written = csv_export.export_csv(
                db, args.what, args.output, pseudonymiser=pseudonymiser, patient_ids=patients
            )
            _exported(db, written.patient_ids)
    kind = "pseudonymised " if pseudonymiser else ""
    print(f"wrote {written.path} ({written.rows} rows, {kind}{args.what})")
    return 0


# -- import patients ----------------------------------------------------------------------------


def cmd_import_patients(args: argparse.Namespace) -> int:
    import sys

    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.interop import patient_import as pi

    with _storage_errors(_where(args)):
        mapping = pi.parse_map(args.map)
        # The file is checked before the database opens: a FIFO or /dev/zero is refused at once.
        from clinic_app.storage.input_files import read_limited

        read_limited(args.file, pi.IMPORT_LIMIT, "patient list (CSV)")
        with _open(args, backup=not args.dry_run, migrate=not args.dry_run) as db:
            if args.dry_run:
                _check_revision(db)
            plan = pi.plan_import(db, args.file, mapping)
            if args.dry_run:
                _print_plan(plan)
                if not plan.ok:  # a failed command says so on stderr, as every other one
                    print(
                        f"clinic-app import: {len(plan.refused)} rows would be refused (listed "
                        "above); nothing was written",
                        file=sys.stderr,
                    )
                return 0 if plan.ok else 1
            if not plan.ok:
                for refused in plan.refused:
                    print(refused.line(), file=sys.stderr)
                print(
                    f"clinic-app import: {len(plan.refused)} of "
                    f"{len(plan.refused) + len(plan.planned)} rows refused; nothing was "
                    "imported (see --dry-run)",
                    file=sys.stderr,
                )
                return 1
            made = pi.run_import(db, plan, user=_actor())
    print(f"imported {len(made)} patients from {args.file}")
    return 0


def _print_plan(plan: Any) -> None:
    from clinic_app.cli.list_cmds import _clean

    total = len(plan.planned) + len(plan.refused)
    print(
        f"dry run: {len(plan.planned)} of {total} patients would be created, "
        f"{len(plan.refused)} refused; nothing was written"
    )
    mapped = ", ".join(f"{c} -> {f}" for c, f in plan.columns.items())
    print(f"columns: {_clean(mapped)}")
    if plan.ignored:
        print(f"ignored columns: {_clean(', '.join(plan.ignored))}")
    for entry in plan.planned:
        p = entry.fields
        name = ", ".join(n for n in (p.family_name, p.given_name) if n)
        print(_clean(f"row {entry.row}: create MRN {p.mrn}: {name}"))
    for refused in plan.refused:
        print(_clean(refused.line()))
