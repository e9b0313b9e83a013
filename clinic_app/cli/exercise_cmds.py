"""``clinic-app exercises``: the exercise library from the command line (issue 17).

- ``exercises list [--json] [--shipped]``: every exercise a program may name, shipped ones
  first, then the clinic's own (newest versions): id, origin and version, kind, region,
  contraindication tags and title; ``--json`` prints the library's JSON shape (pictures by
  SHA-256 and media type). Without a database file yet (or with ``--shipped``) only the
  shipped exercises are listed; nothing is created.
- ``exercises export -o FILE.zip``: the clinic's own exercises and their pictures.
- ``exercises import FILE.zip``: another clinic's exercises, all or nothing.
- ``exercises add-picture EXERCISE FILE [--caption TEXT]``: a PNG, JPEG or SVG for one of the
  clinic's exercises (a new version of it; at most two pictures).

Files read are refused with one line unless they are regular files (a FIFO, ``/dev/zero``, a
directory); a symlink is followed only to a regular file. A bad picture or zip is one line,
and nothing is stored.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinic_app.cli import UserError

if TYPE_CHECKING:
    from clinic_app.core.library import ExerciseDef, Library


def register(sub: Any) -> None:
    ex = sub.add_parser("exercises", help="list, export or import the exercise library")
    cmds = ex.add_subparsers(dest="exercises_command", metavar="COMMAND", required=True)
    lst = cmds.add_parser("list", help="list the exercises a home program may name")
    lst.add_argument("--json", action="store_true", help="print a JSON array")
    lst.add_argument("--shipped", action="store_true", help="only the shipped exercises")
    lst.set_defaults(handler=cmd_list)
    exp = cmds.add_parser("export", help="write the clinic's own exercises to a zip")
    exp.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.zip")
    exp.set_defaults(handler=cmd_export)
    imp = cmds.add_parser("import", help="import exercises from a zip (all or nothing)")
    imp.add_argument("file", type=Path, metavar="FILE.zip")
    imp.set_defaults(handler=cmd_import)
    pic = cmds.add_parser("add-picture", help="add a PNG, JPEG or SVG to a clinic exercise")
    pic.add_argument("exercise", metavar="EXERCISE", help="the id of one of the clinic's exercises")
    pic.add_argument("file", type=Path, metavar="FILE")
    pic.add_argument("--caption", default="", help="a short caption under the picture")
    pic.set_defaults(handler=cmd_add_picture)


def _actor(what: str) -> str:
    import getpass

    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): the command says who
        who = "unknown"
    return f"{who} (clinic-app exercises {what})"


def _clean(text: str) -> str:
    return "".join("?" if not c.isprintable() else c for c in text)


def _lines(library: Library) -> list[str]:
    rows = [
        (
            ex.id,
            f"{ex.origin} v{ex.version}",
            ex.kind,
            ex.region or "-",
            ",".join(ex.tags) or "-",
            ex.title,
        )
        for ex in library.values()
    ]
    widths = [max(len(_clean(r[i])) for r in rows) for i in range(5)]
    return [
        "  ".join(_clean(v).ljust(w) for v, w in zip(r[:5], widths, strict=True))
        + "  "
        + _clean(r[5])
        for r in rows
    ]


def _plain(ex: ExerciseDef) -> dict[str, Any]:
    out = ex.plain()
    out["origin"] = ex.origin
    out["version"] = ex.version
    return out


def _database_exists(args: argparse.Namespace) -> bool:
    from clinic_app.cli.storage_cmds import _url
    from clinic_app.storage.database import default_url, sqlite_file

    path = sqlite_file(_url(args) or default_url())
    return path is None or path.exists()


def cmd_list(args: argparse.Namespace) -> int:
    from clinic_app.cli.inputs import load_form
    from clinic_app.core.library import shipped_library

    form = load_form(None)
    library = shipped_library(form)
    if not args.shipped and _database_exists(args):
        from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
        from clinic_app.storage import migrate
        from clinic_app.storage.records import load_library

        with _storage_errors(_where(args)), _open(args, migrate=False, backup=False) as db:
            revision = db.schema_revision()
            if revision != migrate.HEAD:
                raise UserError(
                    f"{db.where}: schema revision {revision or 'none'}, this app reads "
                    f"{migrate.HEAD}; open the database with the app once to upgrade it "
                    "(or list --shipped)"
                )
            library = load_library(db, form)
    if args.json:
        print(json.dumps([_plain(ex) for ex in library.values()], ensure_ascii=False, indent=1))
    else:
        print("\n".join(_lines(library)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage.records import export_library

    out: Path = args.output
    if out.exists() and not out.is_file():
        raise UserError(f"{out}: is not a regular file; give a new .zip file name")
    with _storage_errors(_where(args)), _open(args, backup=False) as db:
        count = export_library(db, out)
    print(f"{count} exercise{'' if count == 1 else 's'} written to {out}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage.input_files import check_regular_file
    from clinic_app.storage.records import import_library

    with _storage_errors(_where(args)):
        check_regular_file(args.file, "library zip")  # before the database is opened
        with _open(args) as db:
            result = import_library(db, args.file, user=_actor("import"))
    print(
        f"imported from {args.file}: {len(result.added)} added, {len(result.updated)} new "
        f"version{'' if len(result.updated) == 1 else 's'}, {len(result.unchanged)} unchanged, "
        f"{result.pictures} picture{'' if result.pictures == 1 else 's'}"
    )
    return 0


def cmd_add_picture(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.core.library import MAX_PICTURE_BYTES, MAX_PICTURES
    from clinic_app.storage.input_files import read_limited
    from clinic_app.storage.records import add_picture, clinic_exercises, update_exercise
    from clinic_app.storage.records.programs import checked_picture

    with _storage_errors(_where(args)):
        data = read_limited(args.file, MAX_PICTURE_BYTES, "picture (PNG, JPEG or SVG)")
        checked_picture(data, caption=args.caption)  # a bad picture: refused before opening
        with _open(args) as db:
            mine = {ex.id: ex for ex in clinic_exercises(db)}
            ex = mine.get(args.exercise)
            if ex is None:
                raise UserError(
                    f"exercise {args.exercise[:80]!r}: not one of the clinic's exercises"
                )
            if len(ex.pictures) >= MAX_PICTURES:
                raise UserError(f"exercise {ex.id}: has {MAX_PICTURES} pictures already")
            user = _actor("add-picture")
            picture = add_picture(db, data, user=user, caption=args.caption)
            plain = ex.plain()
            plain["pictures"].append(
                {
                    "sha256": picture.sha256,
                    "media_type": picture.media_type,
                    "caption": picture.caption,
                }
            )
            saved = update_exercise(db, plain, user=user, expected_version=ex.version)
    print(f"picture {picture.sha256[:12]} added to {saved.id} (version {saved.version})")
    return 0
