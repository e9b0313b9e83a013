"""Reading a form file: YAML structure checks (depth, duplicate keys, alias bombs), then validation.

Every problem is reported as one line naming the file, the place in the document and the problem,
never as a raw parser exception.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from clinic_app.core.body_chart import BodyChartError, load_body_chart
from clinic_app.core.form_checks import check_body_chart, parse_form
from clinic_app.core.form_schema import Form, FormError

logger = logging.getLogger(__name__)

# libyaml's safe loader parses the shipped form four times faster than the pure-Python one
# (about 25 ms against 100 ms at start-up); same safety, same errors.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


MAX_NESTING = 64
MAX_EXPANDED_NODES = 200_000


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown place)"


def _check_structure(text: str, name: str) -> None:
    """Refuse YAML nested too deeply, or with a key given twice, before it is built into objects.

    libyaml builds nested nodes recursively in C, so a document nested thousands of levels deep
    crashes the process instead of raising; the event stream is flat, so depth is checked on it
    first (about 5 ms for the shipped form). PyYAML silently keeps the last of two equal keys in
    a mapping, so a pasted item would quietly replace another: that is refused here too.
    """
    # One frame per open collection: (keys seen, the next scalar is a key) for mappings.
    stack: list[tuple[set[str], list[bool]] | None] = []

    def consume_slot(key: str | None, mark: Any) -> None:
        if not stack or stack[-1] is None:
            return  # inside a sequence (or at the top): no keys
        seen, expect_key = stack[-1]
        if expect_key[0] and key is not None:
            if key in seen:
                raise FormError([f"{name}: {_where(mark)}: key {key!r} appears twice"])
            seen.add(key)
        expect_key[0] = not expect_key[0]

    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            consume_slot(None, event.start_mark)
            is_mapping = isinstance(event, yaml.MappingStartEvent)
            stack.append((set(), [True]) if is_mapping else None)
            if len(stack) > MAX_NESTING:
                where = _where(event.start_mark)
                problem = f"nested more than {MAX_NESTING} levels deep"
                raise FormError([f"{name}: {where}: {problem}"])
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()
        elif isinstance(event, yaml.ScalarEvent):
            consume_slot(event.value, event.start_mark)
        elif isinstance(event, yaml.AliasEvent):
            consume_slot(None, event.start_mark)


def _check_expansion(data: Any, name: str) -> None:
    """Refuse documents whose aliases (``*name``) expand into an enormous tree.

    The shipped form reuses choice lists through anchors, which is fine; nested aliases can,
    however, multiply a small file into billions of nodes for the validator to walk.
    """
    budget = MAX_EXPANDED_NODES
    stack = [data]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            problem = f"expands to more than {MAX_EXPANDED_NODES:,} values (aliases nested?)"
            raise FormError([f"{name}: (top level): {problem}"])
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def load_form(path: Path | str, body_chart: Path | None = None) -> Form:
    """Read and validate a form file. Raises FormError (never a raw parser exception).

    A form with a ``regions`` item is checked against the body chart (``body_chart``, else the
    shipped ``resources/body_chart.json``): the two must name the same regions.
    """
    path = Path(path)
    name = str(path)
    try:
        form = _load_form(path, name)
        if form.body_chart_item is not None:
            _check_against_chart(form, name, body_chart)
    except FormError as err:
        logger.warning("form file %s refused; problems found: %d", name, len(err.problems))
        raise
    logger.info("form %s version %d read from %s", form.id, form.version, name)
    return form


def _check_against_chart(form: Form, name: str, chart_path: Path | None) -> None:
    try:
        chart = load_body_chart() if chart_path is None else load_body_chart(chart_path)
    except BodyChartError as exc:
        raise FormError([f"{name}: (body chart): {exc}"]) from None
    problems = check_body_chart(form, chart)
    if problems:
        raise FormError([f"{name}: {p}" for p in problems])


def _load_form(path: Path, name: str) -> Form:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormError([f"{name}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot read the file ({exc.__class__.__name__}: {exc})"
        raise FormError([f"{name}: {problem}"]) from None
    try:
        _check_structure(text, name)
        data = yaml.load(text, Loader=_YAML_LOADER)  # a safe loader, C or Python
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown place)"
        problem = exc.problem or "invalid YAML"
        raise FormError([f"{name}: {where}: YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise FormError([f"{name}: (unknown place): YAML syntax error: {exc}"]) from None
    except RecursionError:
        raise FormError([f"{name}: (top level): nested too deeply to be a form"]) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise FormError([f"{name}: (unknown place): {exc}"]) from None
    _check_expansion(data, name)
    return parse_form(data, name)
