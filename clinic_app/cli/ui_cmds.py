"""Subcommands of the desktop interface: ``screenshots``."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    shots = sub.add_parser(
        "screenshots",
        help="render the main screens of the demo database to PNG files (headless)",
        description=(
            "Render the patient list, the editor on three sections, the assessment with a red "
            "flag and the patient dialog. Without --database a temporary demo database is made; "
            "with it, the database must hold the demo patients (clinic-app demo)."
        ),
    )
    shots.add_argument("directory", type=Path, help="folder for the PNG files")
    shots.add_argument(
        "--size",
        action="append",
        metavar="WxH",
        help="window size; repeat for several (default: 1280x800 and 1024x700)",
    )
    shots.set_defaults(handler=cmd_screenshots)


def _sizes(raw: list[str] | None) -> list[tuple[int, int]]:
    from clinic_app.cli import UserError
    from clinic_app.ui.screenshots import DEFAULT_SIZES, size_problem

    if not raw:
        return list(DEFAULT_SIZES)
    sizes = []
    for text in raw:
        match = re.fullmatch(r"(\d{1,9})x(\d{1,9})", text.strip())
        if not match:
            raise UserError(f"--size {text[:80]!r}: expected WIDTHxHEIGHT, e.g. 1280x800")
        size = (int(match[1]), int(match[2]))
        problem = size_problem(size)
        if problem is not None:
            raise UserError(f"--size {text.strip()}: {problem}")
        sizes.append(size)
    return sizes


def _folder(path: Path) -> Path:
    """The folder for the pictures, made if missing; refused in one line if it cannot be."""
    from clinic_app.cli import UserError
    from clinic_app.storage.input_files import show_path

    try:
        if path.exists() and not path.is_dir():
            raise UserError(f"{show_path(path)}: is not a folder")
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        problem = "the name is too long" if err.errno == 36 else err.strerror or str(err)
        raise UserError(f"{show_path(path)}: cannot make the folder ({problem})") from None
    return path


def cmd_screenshots(args: argparse.Namespace) -> int:
    from clinic_app.cli import UserError

    sizes = _sizes(args.size)
    folder = _folder(args.directory)  # before Qt starts: a refusal costs no start-up
    from clinic_app.cli.inputs import check_database_file
    from clinic_app.core.form import FormError, load_form
    from clinic_app.paths import default_form_path
    from clinic_app.storage.database import open_database, sqlite_file
    from clinic_app.storage.errors import StorageError
    from clinic_app.ui.screenshots import application, render

    app = application()
    try:
        form = load_form(default_form_path())
    except FormError as err:
        raise UserError("\n".join(err.problems)) from None
    with tempfile.TemporaryDirectory(prefix="clinic_app_demo_") as tmp:
        try:
            if args.database:
                check_database_file(sqlite_file(args.database))
                db = open_database(args.database, backup=False)
            else:
                from clinic_app.storage.demo import fill_demo

                os.environ.setdefault("CLINIC_APP_DATA_DIR", tmp)
                db = open_database(  # a throwaway demo: no clinic passphrase
                    f"sqlite:///{Path(tmp) / 'demo.db'}", backup=False, new_encrypted=False
                )
                fill_demo(db, form)
        except StorageError as err:
            raise UserError(str(err)) from None
        try:
            saved = render(db, form, folder, sizes, log=print)
        except LookupError as err:
            raise UserError(str(err.args[0])) from None
        except OSError as err:
            raise UserError(str(err).splitlines()[0] if str(err) else "cannot save") from None
        finally:
            db.close()
    del app
    print(f"{len(saved)} screenshots in {args.directory}")
    return 0
