"""Subcommands of the clinical core: ``check-form`` and ``assess``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from clinic_app.core.engine import assess
from clinic_app.core.form import Form, FormError, load_form


def register(sub: Any) -> None:
    check = sub.add_parser("check-form", help="validate a form file (exit 0 valid, 1 not)")
    check.add_argument("path", nargs="?", type=Path, help="form file (default: the shipped form)")
    check.set_defaults(handler=cmd_check_form)

    run = sub.add_parser("assess", help="contributing factors, red flags and guidance for findings")
    run.add_argument("findings", type=Path, help="findings JSON file (see README)")
    run.add_argument("--form", type=Path, help="form file (default: the shipped form)")
    run.add_argument("--json", action="store_true", help="print JSON instead of text")
    run.set_defaults(handler=cmd_assess)


def cmd_check_form(args: argparse.Namespace) -> int:
    from clinic_app.cli.inputs import form_path

    path = form_path(args.path)  # a FIFO, a device or a 3 GB file: one line, exit 1
    try:
        form = load_form(path)
    except FormError as err:
        for line in err.problems:
            print(line, file=sys.stderr)
        return 1
    print(
        f"{path}: OK: form {form.id} version {form.version}: {len(form.sections)} sections, "
        f"{len(form.items)} items, {len(form.factors)} factors, {len(form.patterns)} patterns, "
        f"{len(form.red_flags)} red flags"
    )
    return 0


def _load_form_or_exit(path: Path | None) -> Form:
    from clinic_app.cli.inputs import load_form as load_checked

    return load_checked(path)


def cmd_assess(args: argparse.Namespace) -> int:
    from clinic_app.cli.inputs import load_findings

    form = _load_form_or_exit(args.form)
    recorded = load_findings(form, args.findings)
    result = assess(form, recorded)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        from clinic_app.cli.assess_text import render_text

        print(render_text(result))
    return 0
