"""Subcommands of the storage layer: ``info``, ``backup``, ``restore``, ``encrypt``, ``demo``,
``synthetic``.

On an encrypted clinic the passphrase was obtained before the command ran (cli/passphrase.py).

Every storage problem (damaged file, database made by a newer app, server unreachable) becomes a
one-line UserError naming the file or the database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinic_app.cli import UserError

if TYPE_CHECKING:
    from clinic_app.storage.database import Database


# What a benchmark database may grow to: ten times the largest clinic the benchmarks time
# (100,000 patients); beyond that a typo, not a benchmark.
MAX_SYNTHETIC_PATIENTS = 1_000_000
MAX_SYNTHETIC_EVALUATIONS = 100


def register(sub: Any) -> None:
    info = sub.add_parser("info", help="version, data folder, database and schema revision")
    info.set_defaults(handler=cmd_info)

    backup = sub.add_parser("backup", help="copy the database (consistent even while the app runs)")
    backup.add_argument(
        "dest", nargs="?", type=Path, help="file or folder (default: the backups folder)"
    )
    backup.set_defaults(handler=cmd_backup)

    restore = sub.add_parser(
        "restore", help="replace the database by a backup (checked first; the old one is kept)"
    )
    restore.add_argument("file", type=Path, help="a backup made by 'clinic-app backup'")
    restore.set_defaults(handler=cmd_restore)

    encrypt = sub.add_parser(
        "encrypt",
        help="encrypt a plain SQLite database with a new clinic passphrase (SQLCipher; "
        "a backup first, the result verified; close the app everywhere first)",
    )
    encrypt.set_defaults(handler=cmd_encrypt)

    verify = sub.add_parser(
        "verify",
        help="check the seal of every signed evaluation, the addenda and audit chains, the schema",
    )
    verify.set_defaults(handler=cmd_verify)

    grant = sub.add_parser(
        "grant",
        help="PostgreSQL, run as the owner: give a workstation role only what the app needs",
    )
    grant.add_argument("role", help="the workstations' login role (made with CREATE ROLE)")
    grant.set_defaults(handler=cmd_grant)

    demo = sub.add_parser("demo", help="add demo patients and evaluations to the database")
    demo.add_argument("--form", type=Path, help="form file (default: the shipped form)")
    demo.set_defaults(handler=cmd_demo)

    synth = sub.add_parser("synthetic", help="add many synthetic patients (for benchmarks)")
    synth.add_argument(
        "--patients", type=int, default=1000, help=f"at most {MAX_SYNTHETIC_PATIENTS:,}"
    )
    synth.add_argument(
        "--evaluations",
        type=int,
        default=1,
        help=f"evaluations per patient (at most {MAX_SYNTHETIC_EVALUATIONS})",
    )
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(handler=cmd_synthetic)


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


@contextmanager
def _storage_errors(where: Callable[[], str]) -> Iterator[None]:
    """Turn storage and driver exceptions into one-line UserErrors."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from clinic_app.core.findings import FindingsError
    from clinic_app.core.form import FormError
    from clinic_app.storage.errors import StorageError

    try:
        yield
    except StorageError as err:
        raise UserError(str(err)) from None
    except FormError as err:
        raise UserError("; ".join(err.problems)) from None
    except FindingsError as err:
        raise UserError("invalid findings: " + "; ".join(err.problems)) from None
    except ArgumentError as err:
        raise UserError(f"invalid database URL: {_one_line(err)}") from None
    except SQLAlchemyError as err:
        raise UserError(f"{where()}: {_one_line(err)}") from None
    except ModuleNotFoundError as err:  # e.g. psycopg missing for a postgresql URL
        raise UserError(f"{where()}: missing database driver ({err.name})") from None
    except BrokenPipeError:
        raise  # stdout closed under the command (``| head``): not the database's fault
    except OSError as err:
        raise UserError(f"{err.filename or where()}: {err.strerror or err}") from None


def _url(args: argparse.Namespace) -> str | None:
    url = getattr(args, "database", None)
    return str(url) if url else None


def _where(args: argparse.Namespace) -> Callable[[], str]:
    def where() -> str:
        from clinic_app.storage.database import default_url, hide_password

        try:
            return hide_password(_url(args) or default_url())
        except Exception:  # an unparsable URL: show it as typed, without a password guess
            return "the database"

    return where


@contextmanager
def _open(args: argparse.Namespace, **options: Any) -> Iterator[Database]:
    from clinic_app.cli.inputs import check_database_file
    from clinic_app.storage.database import default_url, open_database, sqlite_file

    check_database_file(sqlite_file(_url(args) or default_url()))  # a FIFO would block SQLite
    db = open_database(_url(args), **options)
    try:
        yield db
    finally:
        db.close()


def cmd_info(args: argparse.Namespace) -> int:
    from clinic_app import __version__
    from clinic_app.paths import data_dir
    from clinic_app.storage import migrate
    from clinic_app.storage.database import default_url, hide_password, sqlite_file

    with _storage_errors(_where(args)):
        url = _url(args) or default_url()
        print(f"clinic-app {__version__}")
        print(f"data folder:     {data_dir()}")
        print(f"log file:        {_log_file_text()}")
        print(f"database:        {hide_password(url)}")
        path = sqlite_file(url)
        if path is not None and not path.exists():
            print(f"encrypted:       {_new_encryption_text()}")
            print("schema revision: none (the database is made when the app first opens it)")
            return 0
        with _open(args, migrate=False, backup=False) as db:
            print(f"encrypted:       {_encryption_text(db)}")
            revision = db.schema_revision()
            if revision is None:
                state = "none"
            elif revision == migrate.HEAD:
                state = f"{revision} (head)"
            elif migrate.is_known(revision):
                state = f"{revision} (older; upgraded to {migrate.HEAD} when the app opens it)"
            else:
                state = f"{revision} (newer than this app, which knows up to {migrate.HEAD})"
            print(f"schema revision: {state}")
            if revision == migrate.HEAD:
                from clinic_app.storage import records

                total = records.count_patients(db, include_archived=True)
                print(f"patients:        {total}")
            print(f"role:            {_role_text(db)}")
            print(f"signing key:     {_key_text()}")
    return 0


def _new_encryption_text() -> str:
    from clinic_app.storage import encryption

    if encryption.new_clinic_encrypted():
        return "yes, when it is made (SQLCipher; a clinic passphrase is needed)"
    return f"no, when it is made ({encryption.ENCRYPTION_ENV}=off)"


def _encryption_text(db: Database) -> str:
    from clinic_app.storage.encryption import tls_state

    if db.dialect == "postgresql":
        return f"in transit: {tls_state(db.url)}; at rest: the server's disk encryption"
    if not db.encrypted:
        return "no (plain SQLite file: clinic-app encrypt converts it)"
    with db.connection() as conn:
        version = conn.exec_driver_sql("PRAGMA cipher_version").scalar()
    major = str(version or "4").split(".")[0]
    return f"yes (SQLCipher {major}.x; {version})"


def _role_text(db: Database) -> str:
    from clinic_app.storage import roles

    role = roles.current_role(db)
    if role is None:
        return "none (a SQLite file: whoever may write the file)"
    return role.describe()


def _key_text() -> str:
    from clinic_app.storage import sealing

    public = sealing.installation_public_key()
    folder = sealing.key_folder()
    if public is None:
        return f"none yet (made at the first signature in {folder})"
    return f"Ed25519 {public} ({folder / sealing.KEY_FILE})"


def cmd_grant(args: argparse.Namespace) -> int:
    from clinic_app.storage import roles

    with _storage_errors(_where(args)), _open(args, backup=False) as db:
        if db.dialect != "postgresql":
            raise UserError(f"{db.where}: roles are for a PostgreSQL server")
        try:
            roles.grant_workstation(db, args.role)
        except ValueError as err:
            raise UserError(str(err)) from None
        where = db.display_url
    print(f"{args.role}: workstation grants set on {where}")
    return 0


def _log_file_text() -> str:
    from clinic_app.logs import LOG_NAME, log_dir, log_file

    path = log_file()
    if path is not None:
        return str(path)
    return f"{log_dir() / LOG_NAME} (cannot be written: errors go to the terminal only)"


def _sqlite_path(args: argparse.Namespace, action: str) -> Path:
    from clinic_app.storage.database import default_url, hide_password, sqlite_file

    url = _url(args) or default_url()
    path = sqlite_file(url)
    if path is None:
        raise UserError(
            f"{hide_password(url)}: {action} works on a SQLite database file; "
            "back up a PostgreSQL server with pg_dump"
        )
    return path


def cmd_backup(args: argparse.Namespace) -> int:
    from clinic_app import private
    from clinic_app.cli.inputs import check_backup_file, check_database_file
    from clinic_app.storage import backup, files

    with _storage_errors(_where(args)):
        source = _sqlite_path(args, "backup")
        if not check_database_file(source):
            raise UserError(f"{source}: no database yet, nothing to back up")
        files.check_file(source)  # a damaged database is reported, not copied
        dest: Path | None = args.dest
        if dest is None:
            private.make_folder(backup.backups_dir())  # 0700: it holds every patient
            dest = backup.backups_dir() / backup.backup_name("manual")
        elif dest.is_dir():
            dest = dest / backup.backup_name("manual")
        elif dest.exists() or dest.is_symlink():
            check_backup_file(dest, "file a backup can replace")  # not a FIFO or a device
        made = backup.copy_database(source, dest)
        problems = backup.copy_problems(made)  # seals, chains and schema of what was copied
    print(f"backed up {source} to {made}")
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 1 if problems else 0


def cmd_restore(args: argparse.Namespace) -> int:
    from clinic_app.cli.inputs import check_backup_file, check_database_file
    from clinic_app.storage import backup

    with _storage_errors(_where(args)):
        target = _sqlite_path(args, "restore")
        candidate: Path = args.file
        check_backup_file(candidate)  # a FIFO or a device would block the checks for ever
        check_database_file(target)
        if candidate.resolve() == target.resolve():
            raise UserError(f"{candidate}: this is the database itself")
        result = backup.restore(candidate, target, passphrase=_restore_passphrase(args, target))
        with _open(args, backup=False) as db:
            revision = db.schema_revision()
    print(f"restored {candidate} (schema revision {result.revision}) into {target}")
    if result.revision != revision:
        print(f"upgraded it to schema revision {revision}")
    if result.replaced_copy is not None:
        print(f"the replaced database is kept at {result.replaced_copy}")
    return 0


def _restore_passphrase(args: argparse.Namespace, target: Path) -> str | None:
    """The passphrase of an encrypted backup going into a new (or encrypted) clinic."""
    from clinic_app.cli import passphrase
    from clinic_app.storage import encryption, files

    known = encryption.key_for(target)  # an encrypted clinic: asked before the command
    if known is not None or not files.looks_encrypted(args.file):
        return known
    if target.is_file() and target.stat().st_size > 0:
        return None  # a plain clinic: the restore refuses the encrypted backup
    return passphrase.obtain(args, args.file)


def cmd_encrypt(args: argparse.Namespace) -> int:
    from clinic_app.cli import passphrase
    from clinic_app.cli.inputs import check_database_file
    from clinic_app.storage import encryption, files

    with _storage_errors(_where(args)):
        path = _sqlite_path(args, "encrypt")
        if not check_database_file(path):
            raise UserError(f"{path}: no database yet; a new one is made encrypted")
        if files.looks_encrypted(path):
            raise UserError(f"{path}: is already encrypted; nothing was changed")
        result = encryption.encrypt_database(path, passphrase.read_new(args, path))
    print(f"encrypted {path} ({result.tables} tables, {result.rows} rows, verified)")
    print(f"the plain copy made first is {result.safety_copy}")
    print(
        f"{len(result.plain_backups)} backups in the backups folder (that copy included) are "
        "NOT encrypted: delete them once the encrypted clinic is checked, or keep them offline"
    )
    print(
        "each clinician enters the clinic passphrase once at the next sign-in (their keyring "
        "entry); keep the passphrase where the clinic keeps its recovery key"
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every sealed record is sound; else 1 and one line per broken record."""
    from clinic_app.storage import migrate, records

    with _storage_errors(_where(args)), _open(args, migrate=False, backup=False) as db:
        revision = db.schema_revision()
        if revision != migrate.HEAD:
            raise UserError(
                f"{db.where}: schema revision {revision or 'none'}, this app verifies "
                f"{migrate.HEAD}; open the database with the app once to upgrade it"
            )
        broken = records.verify_database(db)
        where = db.where
    if not broken:
        print(f"{where}: every signed evaluation, addendum and audit event is sound")
        return 0
    for problem in broken:
        print(problem.line())
    return 1


def cmd_demo(args: argparse.Namespace) -> int:
    from clinic_app.cli.inputs import load_form
    from clinic_app.storage.demo import fill_demo

    with _storage_errors(_where(args)):
        form = load_form(args.form)  # read with the form file's size limit
        with _open(args) as db:
            result = fill_demo(db, form)
            where = db.display_url
    print(
        f"added {result.patients} demo patients, {result.evaluations} evaluations "
        f"({result.signed} signed) to {where}"
    )
    if result.skipped_items:
        print(f"items not in form {form.id}, left out: {', '.join(result.skipped_items)}")
    return 0


def cmd_synthetic(args: argparse.Namespace) -> int:
    from clinic_app.storage.synthetic import generate

    if args.patients < 0 or args.evaluations < 0:
        raise UserError("--patients and --evaluations must not be negative")
    for flag, value, limit in (
        ("--patients", args.patients, MAX_SYNTHETIC_PATIENTS),
        ("--evaluations", args.evaluations, MAX_SYNTHETIC_EVALUATIONS),
    ):
        if value > limit:
            raise UserError(f"{flag} {value}: too many (at most {limit:,})")
    with _storage_errors(_where(args)), _open(args) as db:
        result = generate(
            db, patients=args.patients, evaluations_per_patient=args.evaluations, seed=args.seed
        )
        where = db.display_url
    print(f"added {result.patients} patients and {result.evaluations} evaluations to {where}")
    return 0
