"""The UI reaches the database only through operations handed to the runner.

Read from the source with ``ast`` (not a grep, which a comment or a string would fool): every
call of ``records.<name>`` or ``backup.<name>`` under ``clinic_app/ui`` stands inside a function
whose first parameter is the database (``db`` or ``_db``), and every such function is only ever
passed to ``runner.run``/``runner.call`` or called from another such function, never called
by a slot on the GUI thread.
"""

from __future__ import annotations

import ast
from pathlib import Path

import clinic_app.ui

UI = Path(clinic_app.ui.__file__).parent
STORAGE_MODULES = {"records", "backup"}


def _storage_calls(tree: ast.AST) -> list[tuple[ast.Call, list[ast.AST]]]:
    """Each call of records.X / backup.X with the chain of nodes enclosing it."""
    found: list[tuple[ast.Call, list[ast.AST]]] = []

    def walk(node: ast.AST, parents: list[ast.AST]) -> None:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in STORAGE_MODULES
        ):
            found.append((node, parents))
        for child in ast.iter_child_nodes(node):
            walk(child, [*parents, node])

    walk(tree, [])
    return found


def _is_operation(fn: ast.AST) -> bool:
    if not isinstance(fn, ast.FunctionDef | ast.Lambda):
        return False
    args = fn.args.args
    return bool(args) and args[0].arg in ("db", "_db")


def test_every_records_call_in_the_ui_is_inside_an_operation() -> None:
    offenders = []
    operations: dict[str, set[str]] = {}
    for path in sorted(UI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call, parents in _storage_calls(tree):
            functions = [p for p in parents if isinstance(p, ast.FunctionDef | ast.Lambda)]
            op = next((f for f in reversed(functions) if _is_operation(f)), None)
            if op is None:  # not inside an operation (helpers nested in one are fine)
                name = getattr(functions[-1], "name", "<lambda>") if functions else "<module>"
                offenders.append(f"{path.name}:{call.lineno} in {name}")
            elif isinstance(op, ast.FunctionDef):
                operations.setdefault(path.name, set()).add(op.name)
    assert offenders == [], "records/backup called outside an operation:\n" + "\n".join(offenders)
    assert sum(len(v) for v in operations.values()) >= 15  # the check found the operations


def test_operations_are_called_only_by_the_runner_or_other_operations() -> None:
    """A function taking the database is passed to runner.run/call, never called directly from
    code that is not itself an operation (which would run it on the GUI thread)."""
    offenders: list[str] = []
    for path in sorted(UI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ops = {
            n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and _is_operation(n)
        }
        _direct_calls(tree, ops, path.name, False, offenders)
    assert offenders == []


def _direct_calls(
    node: ast.AST, ops: set[str], where: str, inside_op: bool, offenders: list[str]
) -> None:
    is_op = _is_operation(node)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ops
        and not inside_op
    ):
        offenders.append(f"{where}:{node.lineno} calls {node.func.id}() directly")
    for child in ast.iter_child_nodes(node):
        _direct_calls(child, ops, where, inside_op or is_op, offenders)


def test_the_check_sees_a_direct_call(tmp_path: Path) -> None:
    """The detector itself: a slot calling records directly is found (so the test can fail)."""
    source = (
        "def on_button_clicked(self):\n"
        "    records.sign_evaluation(self.db, 1, 1, user='x')\n"
        "def op(db):\n"
        "    return records.get_evaluation(db, 1)\n"
    )
    calls = _storage_calls(ast.parse(source))
    inside = [
        _is_operation([p for p in parents if isinstance(p, ast.FunctionDef)][-1])
        for _, parents in calls
    ]
    assert inside == [False, True]
