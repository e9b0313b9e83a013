"""Subcommand ``install-desktop``: put the app in this user's desktop menu (freedesktop.org).

Writes ``clinic-app.desktop`` to ``$XDG_DATA_HOME/applications`` and the icon to
``$XDG_DATA_HOME/icons/hicolor/scalable/apps`` (``$XDG_DATA_HOME`` defaults to
``~/.local/share``), from ``resources/clinic-app.desktop.in`` and ``resources/clinic-app.svg``. The
entry starts whatever ran this command: the frozen bundle's executable, or the ``clinic-app``
script of the virtual environment, by absolute path, so it works without a PATH change.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from clinic_app.cli import UserError

DESKTOP_ID = "clinic-app"
# Characters the Desktop Entry spec reserves in Exec: an argument holding one is double-quoted.
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "install-desktop",
        help="add clinic-app to this user's application menu (.desktop entry and icon)",
        description=(
            "Write clinic-app.desktop to $XDG_DATA_HOME/applications and its icon to "
            "$XDG_DATA_HOME/icons/hicolor/scalable/apps ($XDG_DATA_HOME: ~/.local/share unless "
            "set). The entry starts this installation of clinic-app by its absolute path."
        ),
    )
    p.add_argument("--remove", action="store_true", help="remove the entry and the icon instead")
    p.set_defaults(handler=cmd_install_desktop)


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset, empty or relative (the spec)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def launcher() -> list[str]:
    """The command that starts this installation of the app, as absolute paths."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    script = Path(sys.executable).with_name("clinic-app")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.absolute())]
    found = shutil.which("clinic-app")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "clinic_app"]


def exec_value(argv: list[str]) -> str:
    """``argv`` as the value of an Exec key: quoted per the spec, then escaped as a string."""
    parts = []
    for arg in argv:
        if "\n" in arg or "\r" in arg:
            raise UserError(f"cannot write a desktop entry for a path with a line break: {arg!r}")
        if _RESERVED.intersection(arg):
            inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
            arg = f'"{inner}"'
        parts.append(arg.replace("%", "%%"))
    # The Exec value is a string: its backslashes are escaped once more.
    return " ".join(parts).replace("\\", "\\\\")


def desktop_entry(argv: list[str]) -> str:
    from clinic_app.paths import resources_dir

    template = (resources_dir() / f"{DESKTOP_ID}.desktop.in").read_text(encoding="utf-8")
    try_exec = argv[0].replace("\\", "\\\\")
    return template.replace("@EXEC@", exec_value(argv)).replace("@TRYEXEC@", try_exec)


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from clinic_app.paths import resources_dir

    base = data_home()
    entry = base / "applications" / f"{DESKTOP_ID}.desktop"
    icon = base / "icons" / "hicolor" / "scalable" / "apps" / f"{DESKTOP_ID}.svg"
    if args.remove:
        for path in (entry, icon):
            try:
                if path.is_file():
                    path.unlink()
                    print(f"removed {path}")
            except OSError as err:
                raise UserError(f"cannot remove {path}: {err.strerror or err}") from None
        return 0
    text = desktop_entry(launcher())
    try:
        for path in (entry, icon):
            path.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(entry)
        shutil.copyfile(resources_dir() / f"{DESKTOP_ID}.svg", icon)
    except OSError as err:
        raise UserError(f"cannot write {err.filename or entry}: {err.strerror or err}") from None
    print(f"wrote {entry}")
    print(f"wrote {icon}")
    return 0
