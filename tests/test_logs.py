"""clinic_app.logs: where the log goes, its modes and rotation, the fallback, and the PHI rule.

The last test is the one the rule is for: a demo session (the real ``clinic-app demo`` command,
then patients, drafts, a conflict, signing, an addendum, a report PDF and logged errors through
the storage API) leaves a log that holds none of the names, MRNs or dates of birth stored.
"""

from __future__ import annotations

import ast
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from clinic_app import logs
from clinic_app.paths import DATA_DIR_ENV

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "clinic_app"
log = logging.getLogger("clinic_app.tests")


@pytest.fixture(autouse=True)
def no_log_setup(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test here writes into the real user's log folder, and none leaves handlers behind."""
    monkeypatch.delenv(logs.LOG_DIR_ENV, raising=False)
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.delenv("CLINIC_APP_DATABASE_URL", raising=False)
    logs.shutdown_logging()
    yield
    logs.shutdown_logging()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def formatted(msg: object, *args: object, exc: BaseException | None = None) -> str:
    record = logging.LogRecord("clinic_app.x", logging.INFO, __file__, 1, msg, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    return logs.PhiSafeFormatter("%(message)s").format(record)


def clinic_app(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line in its own process, as a user runs it (its own logging set-up)."""
    done = subprocess.run(
        [sys.executable, "-m", "clinic_app", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done


# --- where -------------------------------------------------------------------------------------


def test_the_log_folder_is_the_override_else_the_data_folder_else_the_platform_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from platformdirs import user_log_path

    assert logs.log_dir() == user_log_path("clinic_app", appauthor=False)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    assert logs.log_dir() == tmp_path / "data" / "logs"
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(tmp_path / "elsewhere"))
    assert logs.log_dir() == tmp_path / "elsewhere"


def test_info_prints_the_log_file_and_the_commands_are_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    done = clinic_app("info")
    path = tmp_path / "data" / "logs" / logs.LOG_NAME
    assert f"log file:        {path}\n" in done.stdout
    text = path.read_text(encoding="utf-8")
    assert "command info started" in text
    assert "command info ended (exit 0)" in text


# --- modes, rotation, fallback -----------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_folder_0700_and_files_0600_whatever_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    old = os.umask(0)
    try:
        path = logs.setup_logging()
    finally:
        os.umask(old)
    assert path == tmp_path / "data" / "logs" / logs.LOG_NAME
    log.info("one line")
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600
    assert "INFO clinic_app.tests [MainThread] one line" in path.read_text(encoding="utf-8")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_log_folder_and_file_made_readable_by_others_are_made_private_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data" / "logs"
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    (folder / logs.LOG_NAME).write_text("old line\n", encoding="utf-8")
    (folder / logs.LOG_NAME).chmod(0o644)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    path = logs.setup_logging()
    assert path is not None
    assert mode(folder) == 0o700
    assert mode(path) == 0o600
    assert path.read_text(encoding="utf-8").startswith("old line\n")  # appended, not replaced


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_chosen_log_folder_that_exists_keeps_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(shared))
    path = logs.setup_logging()
    assert path == shared / logs.LOG_NAME
    assert mode(shared) == 0o755
    assert mode(path) == 0o600


def test_the_file_rotates_keeping_five_private_old_files(tmp_path: Path) -> None:
    handler = logs.PrivateRotatingFileHandler(tmp_path / "x.log", max_bytes=2000, backups=5)
    handler.setFormatter(logs.PhiSafeFormatter("%(message)s"))
    try:
        for i in range(3000):  # about 27 kB
            record = logging.LogRecord("clinic_app", logging.INFO, "", 0, "line %d", (i,), None)
            handler.handle(record)
    finally:
        handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["x.log", *(f"x.log.{i}" for i in range(1, 6))]
    for path in tmp_path.iterdir():
        assert path.stat().st_size <= 2000
        if os.name == "posix":
            assert mode(path) == 0o600
    assert (tmp_path / "x.log").read_text().splitlines()[-1] == "line 2999"
    first_kept = int((tmp_path / "x.log.5").read_text().split()[1])
    assert first_kept > 0  # the oldest lines were dropped


@pytest.fixture
def unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A log folder that cannot be made: a file stands where its parent should be."""
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(blocker / "logs"))
    return blocker / "logs"


def test_a_log_folder_that_cannot_be_made_leaves_stderr_only_said_once(
    unwritable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from clinic_app.cli import main

    assert logs.setup_logging() is None
    assert logs.setup_logging() is None
    assert main(["check-form"]) == 0  # the app goes on
    err = capsys.readouterr().err
    assert err.count("cannot write the log file") == 1
    assert f"cannot write the log file in {unwritable} (" in err
    assert "errors go to the terminal only" in err
    assert main(["info"]) == 0
    assert "(cannot be written: errors go to the terminal only)" in capsys.readouterr().out
    log.error("an error still reaches the terminal")
    log.warning("a warning does not (a command prints its own line)")
    err = capsys.readouterr().err
    assert "an error still reaches the terminal" in err
    assert "a warning does not" not in err


def test_a_failing_command_prints_one_line_even_when_the_log_cannot_be_written(
    unwritable: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from clinic_app.cli import main

    assert main(["check-form", str(tmp_path / "missing.yaml")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "missing.yaml" in lines[0]


def test_setting_up_twice_for_one_folder_installs_one_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    before = len(logging.getLogger().handlers)
    first = logs.setup_logging()
    assert logs.setup_logging() == first
    assert len(logging.getLogger().handlers) == before + 1
    log.info("once")
    assert first is not None
    assert first.read_text(encoding="utf-8").count("once") == 1


def test_importing_the_module_stays_cheap() -> None:
    code = "import sys, clinic_app.logs; print(sorted(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    for heavy in ("'PySide6'", "'sqlalchemy'", "'socket'", "'pickle'", "'platformdirs'"):
        assert heavy not in loaded


# --- the PHI rule ------------------------------------------------------------------------------


def test_text_arguments_are_withheld_unless_marked_safe() -> None:
    line = formatted(
        "patient %d %s rev %s %s %s",
        12,
        "Anna Müller",
        logs.safe("0003"),
        Path("/data/clinic.db"),
        Path("/home/pt/Mueller_Anna_2024-01-02_report.pdf"),
    )
    assert line == (
        "patient 12 <str withheld> rev 0003 /data/clinic.db /home/pt/<pdf name withheld>"
    )
    assert formatted("born %s", date(1980, 2, 3)) == "born <date withheld>"
    assert formatted("%s: %s", KeyError, KeyError("Anna")) == (
        "KeyError: KeyError: (message withheld, 6 characters)"
    )
    assert formatted("%d items", "Anna") == "%d items <arguments withheld>"
    assert formatted({"name": "Anna"}) == "<dict withheld>"


def test_exception_messages_are_kept_only_when_made_from_code() -> None:
    assert logs.exception_line(AttributeError("'NoneType' object has no attribute 'id'")) == (
        "AttributeError: 'NoneType' object has no attribute 'id'"
    )
    assert logs.exception_line(ValueError("Anna Müller")) == (
        "ValueError: (message withheld, 11 characters)"
    )
    assert "1980" not in logs.exception_line(raised_from(lambda: date.fromisoformat("1980-02-30")))
    os_error = PermissionError(13, "Permission denied", "/home/pt/Mueller_Anna_report.pdf")
    assert logs.exception_line(os_error) == (
        "PermissionError: [Errno 13] Permission denied (file name withheld)"
    )
    from clinic_app.storage.errors import DatabaseFileError, DuplicateMRNError

    duplicate = DuplicateMRNError("MRN-" + "4711")
    assert logs.exception_line(duplicate) == (
        "clinic_app.storage.errors.DuplicateMRNError: "
        f"(message withheld, {len(str(duplicate))} characters)"
    )
    assert "is damaged" in logs.exception_line(DatabaseFileError("/data/clinic.db", "is damaged"))


def raised_from(call: object) -> BaseException:
    try:
        call()  # type: ignore[operator]
    except BaseException as exc:
        return exc
    raise AssertionError("did not raise")


def test_a_database_error_keeps_its_sql_but_not_the_values(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import IntegrityError

    mrn = "MRN-" + "4711"  # not a literal: the traceback quotes the test's source lines
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE p (mrn TEXT UNIQUE)"))
            conn.execute(text("INSERT INTO p VALUES (:m)"), {"m": mrn})
        with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
            conn.execute(text("INSERT INTO p VALUES (:m)"), {"m": mrn})
    finally:
        engine.dispose()
    assert mrn in str(caught.value)  # SQLAlchemy itself quotes the parameters
    line = formatted("save failed", exc=caught.value)
    assert "INSERT INTO p VALUES (?)" in line
    assert "sqlite3.IntegrityError" in line
    assert mrn not in line


def test_a_pydantic_error_is_withheld_and_a_chain_keeps_every_frame() -> None:
    from pydantic import BaseModel, ValidationError

    class Person(BaseModel):
        born: date

    typed = " ".join(["Anna", "Müller", "1980-02-30"])  # not in a source line of the traceback

    def load() -> None:
        try:
            Person(born=typed)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise RuntimeError(f"could not read {typed}") from exc

    line = formatted("import failed", exc=raised_from(load))
    assert "pydantic_core._pydantic_core.ValidationError: (message withheld" in line
    assert "The above exception was the direct cause of the following exception:" in line
    assert "RuntimeError: (message withheld" in line
    assert line.count("in load\n") == 2
    assert "Anna" not in line
    assert "1980" not in line


def test_log_calls_in_the_package_use_a_literal_message() -> None:
    """``log.info(f"... {patient.name}")`` would bypass the argument screening: none in the tree."""
    methods = {"debug", "info", "warning", "error", "exception", "critical"}
    loggers = {"log", "logger", "logging", "_log"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            func = node.func
            if func.attr not in methods or not isinstance(func.value, ast.Name):
                continue
            if func.value.id not in loggers or not node.args:
                continue
            msg = node.args[0]
            if not (isinstance(msg, ast.Constant) and isinstance(msg.value, str)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


# --- a demo session ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_demo_session_logs_no_patient_names_mrns_or_birth_dates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path
    from clinic_app.reports import build_clinician_report
    from clinic_app.reports.records import report_data_for_evaluation
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database
    from clinic_app.storage.errors import ConflictError, DuplicateMRNError

    data = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(data))
    clinic_app("demo")
    path = logs.setup_logging()
    assert path == data / "logs" / logs.LOG_NAME
    form = load_form(default_form_path())
    db = open_database()  # the data folder's clinic.db, with its integrity check and backup
    try:
        made = records.create_patient(
            db,
            records.PatientFields(
                given_name="Zoë",
                family_name="Quellmalz",
                mrn="Q-98765",
                date_of_birth=date(1961, 7, 23),
            ),
            user="Dana Physio",
        )
        ev = records.start_evaluation(db, made.id, form, user="Dana Physio")
        findings = {"values": {"involved_side": "left", "pain_now": 4}}
        saved = records.save_draft(db, ev.id, findings, ev.version, user="Dana Physio")
        again = records.save_draft(
            db, ev.id, {"values": {"pain_now": 5}}, saved.version, user="Dana Physio"
        )
        with pytest.raises(ConflictError) as conflict:  # a second workstation's stale copy
            records.save_draft(db, ev.id, findings, saved.version, user="Sam Other")
        log.warning("draft not saved: %s", conflict.value)
        with pytest.raises(DuplicateMRNError) as duplicate:
            records.create_patient(
                db,
                records.PatientFields(given_name="Zoë", family_name="Zweite", mrn="Q-98765"),
                user="Dana Physio",
            )
        log.error("patient not saved", exc_info=duplicate.value)
        signed = records.sign_evaluation(db, ev.id, again.version, user="Dana Physio")
        records.add_addendum(db, ev.id, "Zoë Quellmalz called: pain eased.", user="Dana Physio")
        report = tmp_path / "Quellmalz_Zoe_report.pdf"
        build_clinician_report(report_data_for_evaluation(db, ev.id), report)
        assert report.stat().st_size > 0
        # What a careless line would write: the guard keeps the values out all the same.
        log.info("exported %s for %s %s", report, made.family_name, made.date_of_birth)
        log.info("signed evaluation %d (version %d)", signed.evaluation_id, signed.version)
    finally:
        db.close()
        logs.shutdown_logging()

    with sqlite3.connect(data / "clinic.db") as conn:
        rows = conn.execute(
            "SELECT given_name, family_name, mrn, date_of_birth, phone, email, search_name "
            "FROM patient"
        )
        people = list(rows)
    assert len(people) == 7
    secrets = {value for row in people for value in row[:6] if value}
    secrets |= {word for row in people for word in row[6].split() if len(word) >= 4}
    born = [date.fromisoformat(row[3]) for row in people if row[3]]
    secrets |= {d.strftime(f) for d in born for f in ("%Y%m%d", "%d.%m.%Y", "%m/%d/%Y")}
    text = path.read_text(encoding="utf-8")
    assert "command demo ended (exit 0)" in text  # the CLI process wrote here too
    assert f"signed evaluation {ev.id} (version {signed.version})" in text
    assert "DuplicateMRNError" in text
    leaked = sorted(s for s in secrets if s in text)
    assert leaked == []
