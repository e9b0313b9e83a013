"""Subcommands of the clinical core: ``check-form``, ``assess`` and ``score``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinic_app.cli import UserError
from clinic_app.core.engine import assess
from clinic_app.core.form import Form, FormError, load_form

if TYPE_CHECKING:
    from clinic_app.core.questionnaire import Questionnaire
    from clinic_app.core.scoring import Answers


def register(sub: Any) -> None:
    check = sub.add_parser("check-form", help="validate a form file (exit 0 valid, 1 not)")
    check.add_argument("path", nargs="?", type=Path, help="form file (default: the shipped form)")
    check.set_defaults(handler=cmd_check_form)

    run = sub.add_parser("assess", help="contributing factors, red flags and guidance for findings")
    run.add_argument("findings", type=Path, help="findings JSON file (see README)")
    run.add_argument("--form", type=Path, help="form file (default: the shipped form)")
    run.add_argument("--json", action="store_true", help="print JSON instead of text")
    run.set_defaults(handler=cmd_assess)

    score = sub.add_parser(
        "score",
        help="score a questionnaire's answers (LEFS, PSFS, NPRS); exit 0 scored, 3 incomplete",
        description="Score the answers to an outcome questionnaire and, with --previous, say "
        "whether the change passes its MCID and MDC. Exit codes: 0 scored; 3 incomplete (the "
        "questionnaire's missing-item rule allows no score, for these or the previous answers: "
        "the reason is printed); 2 a file or an argument refused (one line naming it).",
    )
    score.add_argument(
        "name",
        metavar="NAME",
        help="a shipped questionnaire (lefs, psfs, nprs) or a questionnaire file",
    )
    score.add_argument(
        "answers",
        metavar="ANSWERS.json",
        type=Path,
        help='answers JSON: {"questionnaire": "lefs", "answers": {"q01": 4, ...}} (see README)',
    )
    score.add_argument(
        "--previous", metavar="ANSWERS.json", type=Path, help="earlier answers: show the change"
    )
    score.add_argument("--json", action="store_true", help="print JSON instead of text")
    score.set_defaults(handler=cmd_score)


def cmd_check_form(args: argparse.Namespace) -> int:
    from clinic_app.cli.inputs import form_path

    path = form_path(args.path)  # a FIFO, a device or a 3 GB file: one line, exit 1
    if args.path is not None and _is_questionnaire(path):
        return _check_questionnaire(path)
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


def _is_questionnaire(path: Path) -> bool:
    """Whether check-form should read ``path`` as a questionnaire. A file that cannot be read
    as text is not one: the form loader then reports it in its own words (exit 1)."""
    from clinic_app.core.questionnaire import looks_like_questionnaire

    try:
        text = questionnaire_text(path)
    except UserError:
        return False
    return looks_like_questionnaire(text)


def _check_questionnaire(path: Path) -> int:
    from clinic_app.core.questionnaire import QuestionnaireError, questionnaire_from_text

    try:
        q = questionnaire_from_text(questionnaire_text(path), str(path))
    except QuestionnaireError as err:
        for line in err.problems:
            print(line, file=sys.stderr)
        return 1
    s = q.scoring
    better = "higher" if q.higher_better else "lower"
    print(
        f"{path}: OK: questionnaire {q.id} version {q.version}: {len(q.items)} "
        f"item{'' if len(q.items) == 1 else 's'}, "
        f"{s.method} {s.range.min:g}-{s.range.max:g} ({better} is better), at most "
        f"{s.max_missing} missing, languages {', '.join(q.languages)}"
    )
    return 0


def questionnaire_text(path: Path) -> str:
    """The text of a questionnaire file: a regular file within the form-file limit (a FIFO,
    ``/dev/zero`` or a folder is refused in one line, exit 2)."""
    from clinic_app.storage.errors import StorageError
    from clinic_app.storage.input_files import FORM_LIMIT, read_limited_text

    try:
        return read_limited_text(path, FORM_LIMIT, "questionnaire file")
    except StorageError as err:
        raise UserError(str(err)) from None


def load_questionnaire(name: str) -> Questionnaire:
    """A shipped questionnaire by id, or the questionnaire file ``name``; one line when not."""
    from clinic_app.core import questionnaire as qmod

    shipped = qmod.shipped_ids()
    if name in shipped:
        path = qmod.questionnaires_dir() / f"{name}.yaml"
    elif "/" in name or "\\" in name or name.endswith((".yaml", ".yml")) or Path(name).exists():
        path = Path(name)
    else:
        raise UserError(
            f"{name!r}: no shipped questionnaire of that name (shipped: {', '.join(shipped)}); "
            "or give the path of a questionnaire file"
        )
    try:
        return qmod.questionnaire_from_text(questionnaire_text(path), str(path))
    except qmod.QuestionnaireError as err:
        raise UserError("; ".join(err.problems)) from None


def load_answers(q: Questionnaire, path: Path) -> Answers:
    """The answers file ``path`` (at most 1 MiB, a regular file) checked against ``q``."""
    from clinic_app.core.scoring import AnswersError, answers_from_json
    from clinic_app.storage.errors import StorageError
    from clinic_app.storage.input_files import FINDINGS_LIMIT, read_limited_text

    try:
        text = read_limited_text(path, FINDINGS_LIMIT, "questionnaire answers file")
    except StorageError as err:
        raise UserError(str(err)) from None
    try:
        return answers_from_json(q, text, str(path))
    except AnswersError as err:
        raise UserError("; ".join(err.problems)) from None


INCOMPLETE = 3  # the exit code of ``score`` when a score is incomplete (see its --help)


def cmd_score(args: argparse.Namespace) -> int:
    from clinic_app.core import scoring

    q = load_questionnaire(args.name)
    current = scoring.score(q, load_answers(q, args.answers))
    comparison = None
    if args.previous is not None:
        previous = scoring.score(q, load_answers(q, args.previous))
        comparison = scoring.compare(previous, current)
    if args.json:
        out = current.to_dict()
        if comparison is not None:
            out["previous"] = comparison.previous.to_dict()
            out["comparison"] = comparison.to_dict()
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(current.text())
        if comparison is not None:
            if comparison.previous.complete:
                print(f"previous: {comparison.previous.text()}")
            print(comparison.text())
    incomplete = not current.complete or (comparison is not None and comparison.change is None)
    return INCOMPLETE if incomplete else 0
