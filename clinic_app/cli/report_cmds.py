"""``clinic-app report``: the clinician report, the patient handout, the visit note, the progress
report or the discharge summary as a PDF, headless.

Either from a stored evaluation (``clinic-app report 12 --kind handout -o out.pdf``, database from
the global ``--database`` or ``$CLINIC_APP_DATABASE_URL``; a visit note's id gives the visit note
PDF), from an episode (``clinic-app report 3 --kind progress|discharge -o out.pdf``: then the id is
an episode id) or from a findings file (``clinic-app report --findings f.json --kind clinician -o
out.pdf``). reportlab and SQLAlchemy are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import stat
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from clinic_app.logs import safe

KINDS = ("clinician", "handout", "visit", "progress", "discharge")
EPISODE_KINDS = ("progress", "discharge")
"""Kinds whose ID is an episode id."""

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write a clinician report, handout, visit note or progress report as a PDF",
        description=(
            "Write a PDF for a stored evaluation or visit note (ID), for an episode of care (ID "
            "with --kind progress or discharge: then ID is an episode id) or for a findings file "
            "(--findings). The app suggests; the therapist decides."
        ),
    )
    p.add_argument(
        "evaluation_id",
        nargs="?",
        type=_evaluation_id,
        metavar="ID",
        help=(
            "id of a stored evaluation or visit note; with --kind progress or discharge, the id "
            "of an episode of care"
        ),
    )
    p.add_argument(
        "--kind",
        choices=KINDS,
        help=(
            "which document: clinician (default; for a visit note's id, the visit note), "
            "handout, visit (a visit note), progress (progress report of an episode), discharge "
            "(discharge summary of an episode)"
        ),
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FILE.pdf",
        help="where to write the PDF",
    )
    p.add_argument(
        "--findings",
        type=Path,
        metavar="FILE.json",
        help="findings file instead of a stored evaluation",
    )
    p.add_argument("--form", type=Path, help="form file for --findings (default: shipped form)")
    p.add_argument("--patient-name", default="", help="patient name printed (with --findings)")
    p.add_argument(
        "--patient-dob",
        type=_birth_date,
        metavar="YYYY-MM-DD",
        help="patient date of birth (with --findings)",
    )
    p.add_argument("--mrn", default="", help="medical record number (with --findings)")
    p.add_argument("--clinic-name", default="", help="clinic name (with --findings)")
    p.add_argument("--clinician", default="", help="clinician name (with --findings)")
    p.add_argument(
        "--date",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="evaluation date (with --findings; default today)",
    )
    p.add_argument(
        "--paper",
        choices=("A4", "Letter"),
        default="A4",
        help="paper size (with --findings; stored evaluations use the clinic setting)",
    )
    p.add_argument(
        "--program",
        type=Path,
        metavar="PROGRAM.json",
        help=(
            "with --kind handout: print this home program (the JSON shape of a stored program, "
            "see examples/program_isometrics.json) instead of the stored or suggested one"
        ),
    )
    p.add_argument(
        "--large-print",
        action="store_true",
        help="with --kind handout: large print (every text at 14 pt or more)",
    )
    p.add_argument(
        "--no-logo",
        action="store_true",
        help="leave the clinic logo out (to print while a damaged stored logo is being replaced)",
    )
    p.set_defaults(handler=cmd_report)

    from clinic_app.storage.logo import describe_limits

    lg = sub.add_parser(
        "logo",
        help="set or remove the clinic logo printed on reports and handouts",
        description=f"Store FILE as the clinic logo ({describe_limits()}), or remove it.",
    )
    what = lg.add_mutually_exclusive_group(required=True)
    what.add_argument("file", nargs="?", type=Path, metavar="FILE", help="a PNG or JPEG image")
    what.add_argument("--remove", action="store_true", help="remove the stored logo")
    lg.set_defaults(handler=cmd_logo)


def _evaluation_id(text: str) -> int:
    """A record id: a whole number a database column can hold (SQLite and PostgreSQL: 64 bits)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value < 2**63:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise argparse.ArgumentTypeError(
            f"{shown!r} is not an evaluation or episode id (a whole number from 1 to {2**63 - 1})"
        )
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise argparse.ArgumentTypeError(f"{shown!r} is not a date like 2026-11-21") from None


def _birth_date(text: str) -> date:
    """``--patient-dob``: refused as a stored patient's would be (``core.patient_checks``)."""
    from clinic_app.core.patient_checks import date_of_birth_problem

    born = _iso_date(text)
    problem = date_of_birth_problem(born, date.today())
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return born


def _from_findings(args: argparse.Namespace) -> Any:
    from clinic_app.cli.inputs import load_findings, load_form, report_text
    from clinic_app.reports.data import (
        ClinicianInfo,
        ClinicInfo,
        EvaluationInfo,
        PatientInfo,
        ReportData,
    )

    # Checked before any file is read: a name no page can hold is refused by its flag.
    clinic_name = report_text("--clinic-name", args.clinic_name)
    clinician = report_text("--clinician", args.clinician)
    patient_name = report_text("--patient-name", args.patient_name)
    mrn = report_text("--mrn", args.mrn)
    form = load_form(args.form)
    recorded = load_findings(form, args.findings)
    return ReportData(
        clinic=ClinicInfo(name=clinic_name or "Clinic", paper=args.paper),
        clinician=ClinicianInfo(clinician or "Not recorded"),
        patient=PatientInfo(patient_name, args.patient_dob, mrn),
        evaluation=EvaluationInfo(date=args.date or date.today()),
        form=form,
        findings=recorded,
    )


def _output_folder(out: Path) -> Path:
    """The folder the PDF goes to, once ``out`` is known to be a .pdf name in a real folder."""
    from clinic_app.cli import UserError

    if out.suffix.lower() != ".pdf":
        raise UserError(f"{out}: the output file name must end in .pdf")
    try:
        folder = out.parent.resolve()
        if not folder.is_dir():
            what = "not a folder" if folder.exists() else "no such folder"
            raise UserError(f"{out}: cannot write the PDF there ({out.parent}: {what})")
        if out.is_dir():
            raise UserError(f"{out}: is a folder; give a file name for the PDF")
        with contextlib.suppress(FileNotFoundError):
            mode = os.lstat(out).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):  # a FIFO, a device: not replaced
                raise UserError(f"{out}: is not a regular file; give a file name for the PDF")
    except OSError as err:
        raise UserError(f"{out}: cannot write the PDF there ({err.strerror or err})") from None
    return folder


def _from_database(args: argparse.Namespace, kind: str) -> tuple[Any, Any]:
    """The document's data and its builder, for a stored record (or an episode)."""
    from clinic_app.cli import UserError
    from clinic_app.cli.inputs import check_database_file
    from clinic_app.core.findings import FindingsError
    from clinic_app.storage.database import default_url, open_database, sqlite_file
    from clinic_app.storage.errors import StorageError

    url = getattr(args, "database", None)
    check_database_file(sqlite_file(url or default_url()))
    try:
        db = open_database(url)
    except StorageError as err:
        raise UserError(str(err)) from None
    try:
        return _stored(db, args.evaluation_id, kind)
    except StorageError as err:
        raise UserError(str(err)) from None
    except FindingsError as err:
        raise UserError("stored findings do not fit the form: " + "; ".join(err.problems)) from None
    finally:
        db.close()


def _stored(db: Any, record_id: int, kind: str) -> tuple[Any, Any]:
    from clinic_app.cli import UserError
    from clinic_app.core.kinds import kind_label
    from clinic_app.reports import build_clinician_report, build_handout
    from clinic_app.reports.episode_data import VISIT, progress_data, visit_note_data
    from clinic_app.reports.records import report_data_for_evaluation
    from clinic_app.storage.records import get_evaluation

    if kind in EPISODE_KINDS:
        from clinic_app.reports.progress_report import build_progress_report

        episode_data = progress_data(db, record_id, kind)
        if episode_data.evaluation_id is not None:
            _record_export(db, episode_data.evaluation_id)
        else:
            _record_export(db, episode_data.episode.patient_id, entity="patient")
        return episode_data, build_progress_report
    ev = get_evaluation(db, record_id)
    if ev.kind == VISIT:
        if kind == "handout":
            raise UserError(
                f"record {record_id} is a visit note: its PDF is the visit note "
                "(leave out --kind, or use --kind visit)"
            )
        from clinic_app.reports.visit_note import build_visit_note

        note = visit_note_data(db, record_id)
        _record_export(db, record_id)
        return note, build_visit_note
    if kind == "visit":
        raise UserError(
            f"record {record_id} is not a visit note (it is an {kind_label(ev.kind).lower()})"
        )
    data = report_data_for_evaluation(db, record_id)
    _record_export(db, record_id)
    return data, build_clinician_report if kind == "clinician" else build_handout


def _record_export(db: Any, evaluation_id: int, *, entity: str = "evaluation") -> None:
    """The access log (issue 14): the evaluation (or, for the report of an episode without its
    evaluation, the patient) was read out for a PDF, by the command line (the operating-system
    user is named, as ``clinic-app user`` does)."""
    import getpass

    from clinic_app.storage.accounts import Headless
    from clinic_app.storage.records.access import log_access

    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container)
        who = ""
    actor = Headless(who).actor
    log_access(db, actor=actor, action="export", entity=entity, entity_id=evaluation_id)


def cmd_report(args: argparse.Namespace) -> int:
    from clinic_app.cli import UserError

    kind = args.kind or "clinician"
    if (args.evaluation_id is None) == (args.findings is None):
        if kind in EPISODE_KINDS and args.findings is None:
            raise UserError(f"--kind {kind}: give EPISODE_ID, the id of an episode of care")
        raise UserError("give either EVALUATION_ID or --findings FILE.json (one of them)")
    if args.findings is not None and kind not in ("clinician", "handout"):
        what = "EPISODE_ID" if kind in EPISODE_KINDS else "a visit note's id"
        raise UserError(f"--kind {kind} is made from a stored record: give {what}, not --findings")
    if (args.program is not None or args.large_print) and kind != "handout":
        flag = "--program" if args.program is not None else "--large-print"
        raise UserError(f"{flag} is for the handout: add --kind handout")
    out: Path = args.output
    folder = _output_folder(out)
    if args.findings is not None:
        from clinic_app.reports import build_clinician_report, build_handout

        data: Any = _from_findings(args)
        builder: Any = build_clinician_report if kind == "clinician" else build_handout
    else:
        data, builder = _from_database(args, kind)

    from clinic_app.reports.data import ReportData
    from clinic_app.reports.layout import logo_problem

    if args.program is not None:
        data = _with_program(data, args.program)
    if args.large_print:
        from functools import partial

        builder = partial(builder, large_print=True)

    header = data if isinstance(data, ReportData) else data.report
    logo = header.clinic.logo
    if args.no_logo and logo is not None:
        header = replace(header, clinic=replace(header.clinic, logo=None))
        data = header if isinstance(data, ReportData) else replace(data, report=header)
    elif logo is not None:
        problem = logo_problem(logo)
        if problem is not None:  # never a PDF silently without the clinic's letterhead logo
            from clinic_app.storage.logo import FIX

            log.warning("the stored clinic logo cannot be drawn; no PDF written")
            raise UserError(
                f"the stored clinic logo {problem}; no PDF was written ({FIX}, "
                "or add --no-logo to make the PDF without it)"
            )
    # write next to the target and rename, so a failed build never leaves half a PDF behind
    tmp: Path | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".report-", suffix=".pdf", dir=folder)
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as stream:
            builder(data, stream)
        tmp.replace(out)
    except OSError as err:
        problem = "the file name is too long" if err.errno == 36 else err.strerror or str(err)
        raise UserError(f"{out}: cannot write the PDF there ({problem})") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    # Not the file's name: a report is usually named after the patient.
    size = out.stat().st_size
    if args.evaluation_id is not None:
        what = "episode" if kind in EPISODE_KINDS else "evaluation"
        log.info("%s PDF of %s %d written (%d bytes)", safe(kind), what, args.evaluation_id, size)
    else:
        log.info("%s PDF from a findings file written (%d bytes)", safe(kind), size)
    print(f"wrote {out}")
    return 0


PROGRAM_LIMIT = 1024 * 1024
"""A program file holds at most 30 exercises of a few hundred characters: 1 MB is plenty."""


def _with_program(data: Any, path: Path) -> Any:
    """``data`` with the program of ``path`` as its home program; a program that cannot be
    printed (not JSON, a field of the wrong shape, an impossible dose, an exercise the library
    does not know) is one line naming the exercise and the field, before any PDF is written."""
    import json

    from clinic_app.cli import UserError
    from clinic_app.core.findings import FindingsError
    from clinic_app.core.form import ItemType
    from clinic_app.core.library import shipped_library
    from clinic_app.core.program import ProgramError, check_against, parse_program
    from clinic_app.storage.errors import StorageError
    from clinic_app.storage.input_files import read_limited_text

    try:
        text = read_limited_text(path, PROGRAM_LIMIT, "program file")
    except StorageError as err:
        raise UserError(str(err)) from None
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        where = f" (line {err.lineno})" if isinstance(err, json.JSONDecodeError) else ""
        raise UserError(f"{path}: not a JSON program{where}") from None
    try:
        program = parse_program(raw, where=str(path))
    except ProgramError as err:
        raise UserError(err.problems[0]) from None
    library = data.library if data.library is not None else shipped_library(data.form)
    unknown = check_against(program, library)
    if unknown:
        raise UserError(f"{path}: {unknown[0]}")
    item = next((i for i in data.form.items.values() if i.type == ItemType.PROGRAM), None)
    if item is None:
        raise UserError(f"{path}: the form has no home program item to print a program from")
    try:
        findings = data.findings.with_value(data.form, item.id, program.plain())
    except FindingsError as err:
        raise UserError(f"{path}: {err.problems[0]}") from None
    return replace(data, findings=findings, assessment=None)


def cmd_logo(args: argparse.Namespace) -> int:
    """``clinic-app logo FILE`` / ``clinic-app logo --remove``: the logo alone is replaced,
    checked by ``records.save_clinic_logo`` (one line naming "clinic logo"; the stored one is
    kept when the new one is refused)."""
    import getpass

    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage.input_files import LOGO_LIMIT, read_limited
    from clinic_app.storage.records.clinic import save_clinic_logo

    with _storage_errors(_where(args)):
        # read before the database is opened: a FIFO or /dev/zero is refused at once
        data = None if args.remove else read_limited(args.file, LOGO_LIMIT, "clinic logo")
        try:
            user = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name (a container): the command says who
            user = "unknown"
        with _open(args, backup=False) as db:
            save_clinic_logo(db, data, user=f"{user} (clinic-app logo)")
    print("clinic logo removed" if data is None else f"clinic logo set from {args.file}")
    return 0
