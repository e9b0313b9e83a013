"""What the subcommands read from the command line, checked before any layer sees it.

Files are read through ``storage.input_files`` (regular files only, size limits named in the
message); texts that end up on a PDF are held to what the stored records hold (and a page can
show); a SQLite database file must be a regular file before SQLite or the backup code opens it.
Every refusal is a one-line :class:`~clinic_app.cli.UserError` naming the file or the flag.
Nothing heavy is imported here: ``check-form`` and ``assess`` still load no SQLAlchemy.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from clinic_app.cli import UserError
from clinic_app.storage.errors import StorageError
from clinic_app.storage.input_files import (
    FINDINGS_LIMIT,
    FORM_LIMIT,
    check_regular_file,
    read_limited,
    read_limited_text,
)

if TYPE_CHECKING:
    from clinic_app.core.findings import Findings
    from clinic_app.core.form import Form

# The longest text each report flag may carry: the length of the column the same value has when
# it is stored (storage/models.py; tests/reliability/test_cli_failures.py checks they agree), so
# a report from a findings file shows what one from the database would, and both fit the page.
TEXT_LIMITS = {
    "--clinic-name": 200,
    "--clinician": 200,
    "--patient-name": 201,  # given name (100) + " " + family name (100)
    "--mrn": 64,
}


def form_path(path: Path | None) -> Path:
    """``path`` (default: the shipped form) once it is known to be a readable form-sized file."""
    from clinic_app.paths import default_form_path

    chosen = path or default_form_path()
    try:
        read_limited(chosen, FORM_LIMIT, "form file")
    except StorageError as err:
        raise UserError(str(err), code=1) from None
    return chosen


def load_form(path: Path | None) -> Form:
    """The form at ``path`` (default: the shipped one); every problem in one line."""
    from clinic_app.core.form import FormError
    from clinic_app.core.form import load_form as load

    chosen = form_path(path)
    try:
        return load(chosen)
    except FormError as err:
        raise UserError("; ".join(err.problems)) from None


def load_findings(form: Form, path: Path) -> Findings:
    """The findings file at ``path``, read with the findings limit and checked against ``form``."""
    from clinic_app.core import findings as findings_mod

    try:
        text = read_limited_text(path, FINDINGS_LIMIT, "findings file")
    except StorageError as err:
        raise UserError(str(err)) from None
    try:
        return findings_mod.from_json(form, text)
    except findings_mod.FindingsError as err:
        raise UserError(f"invalid findings: {path}: " + "; ".join(err.problems)) from None


def report_text(flag: str, value: str) -> str:
    """A text flag of ``report``, refused (naming the flag) when a stored record could not hold
    it: longer than its column, or holding a control character."""
    value = value.strip()
    limit = TEXT_LIMITS[flag]
    if len(value) > limit:
        raise UserError(f"{flag}: {len(value)} characters is too long (at most {limit})")
    bad = next((c for c in value if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise UserError(f"{flag}: contains a control character (U+{ord(bad):04X})")
    return value


def check_database_file(path: Path | None) -> bool:
    """Refuse a SQLite database path that exists but is not a regular file (a FIFO there blocks
    SQLite and the backup code for ever). Returns whether the file exists."""
    if path is None:
        return False
    try:
        return check_regular_file(path, "SQLite database file", missing_ok=True)
    except StorageError as err:
        raise UserError(str(err)) from None


def check_backup_file(path: Path, what: str = "backup file") -> None:
    """Refuse a backup/restore argument that is not a regular file, before anything opens it."""
    try:
        check_regular_file(path, what)
    except StorageError as err:
        raise UserError(str(err)) from None
