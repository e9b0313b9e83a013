"""Fuzzed form files through ``parse_form``/``load_form`` and ``clinic-app check-form``.

Hypothesis damages the shipped form one place at a time (a key removed, a value replaced by
another JSON/YAML type, an unknown key added) and writes arbitrary text and bytes as form files.
The loader must return a form or raise FormError whose lines name the file and the place; the
``check-form`` command must exit 0 or 1 without a traceback.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from clinic_app.cli import main as cli_main
from clinic_app.core.form import Form, FormError, load_form, parse_form
from clinic_app.paths import default_form_path

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SHIPPED: dict[str, Any] = yaml.safe_load(default_form_path().read_text(encoding="utf-8"))

replacement = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found.extend(_paths(value, (*prefix, n)))
    return found


PATHS = _paths(SHIPPED)


@st.composite
def damaged_forms(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(SHIPPED)
    path = draw(st.sampled_from(PATHS))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    action = draw(st.sampled_from(["replace", "delete", "unknown key", "duplicate"]))
    if action == "replace" or (action == "delete" and isinstance(parent, list)):
        parent[last] = draw(replacement)
    elif action == "delete":
        del parent[last]
    elif action == "unknown key" and isinstance(parent[last], dict):
        parent[last][draw(st.text(min_size=1, max_size=8))] = draw(replacement)
    elif isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    else:
        parent[last] = draw(replacement)
    return data


def _outcome(check: Any, arg: Any) -> tuple[Form | None, FormError | None]:
    try:
        return check(arg), None
    except FormError as err:
        return None, err


@FUZZ
@given(damaged_forms())
def test_damaged_form_data_is_refused_with_located_problems(data: dict[str, Any]) -> None:
    form, refused = _outcome(lambda d: parse_form(d, "fuzzed.yaml"), data)
    if refused is not None:
        assert refused.problems
        for problem in refused.problems:
            assert problem.startswith("fuzzed.yaml: "), problem
            assert problem.removeprefix("fuzzed.yaml: ").strip(), problem
    else:
        assert form is not None


def _write(folder: str, content: str | bytes) -> Path:
    path = Path(folder) / "form.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


yaml_texts = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    damaged_forms().map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
)


@FUZZ
@given(yaml_texts)
@example("a: &a [*a]")
@example("- " * 5000 + "x")
@example("[" * 2_000)
@example("{a: 1, a: 2}")
@example("id: " + "9" * 5000)
@example("\x00")
def test_any_form_file_is_loaded_or_refused_with_a_form_error(content: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, content)
        form, refused = _outcome(load_form, path)
    if refused is not None:
        assert refused.problems
        assert all(p.startswith(str(path)) for p in refused.problems), refused.problems
    else:
        assert form is not None


@settings(FUZZ, max_examples=30)
@given(content=yaml_texts)
@example(content="[" * 2_000)
def test_check_form_cli_exits_0_or_1_without_a_traceback(
    content: str | bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        code = cli_main(["check-form", str(_write(folder, content))])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    assert "Traceback" not in captured.err
    if code == 1:
        assert captured.err.strip()


# Inputs that have crashed a YAML parser outright (C stack overflow in libyaml: SIGSEGV). They run
# in a child process so that such a crash fails this test instead of killing the test session.
NESTED = {
    "flow sequences 100k deep": "[" * 100_000,
    "closed flow sequences 60k deep": "[" * 60_000 + "]" * 60_000,
    "flow mappings 60k deep": "{a: " * 60_000,
    "block sequences 5k deep": "- " * 5_000 + "x",
    "a 5000-digit number": "id: " + "9" * 5_000,
}


@pytest.mark.parametrize("name", list(NESTED))
def test_pathological_form_file_is_refused_by_check_form_in_a_child_process(
    name: str, tmp_path: Path
) -> None:
    from tests.reliability.helpers import run_cli

    path = tmp_path / "form.yaml"
    path.write_text(NESTED[name], encoding="utf-8")
    proc = run_cli("check-form", str(path), timeout=120)
    assert proc.returncode >= 0, f"check-form was killed by signal {-proc.returncode}"
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr.startswith(str(path)), proc.stderr[-2000:]
