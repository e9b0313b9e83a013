"""Child process of the crash test: the real app window, typed into with real key events.

Run as ``python -m tests.reliability.crash_driver --db FILE --evaluation ID --patient ID
--clinician ID --log FILE --plan JSON``. It opens the SQLite database with ``open_database``, shows
the real main window (``clinic_app.ui.main_window.MainWindow``) on the evaluation, and types the
plan into the evaluation editor with ``QTest.keyClick`` at a steady pace, from the Qt event loop
(so the autosave timer runs between keystrokes exactly as it does for a person typing). When the
main window cannot be built (the UI layer is still being written), it falls back to the evaluation
editor wired to ``DraftAutosaver`` -- the same objects the window uses.

Every accepted keystroke is logged as one JSON line -- monotonic time, the field, and the whole
findings as the editor holds them after the key -- and the log is fsync'd before the next key, so
the parent (which kills this process with SIGKILL at a random moment) knows exactly what had been
typed, and when. Saves reported by the autosaver are logged too (for diagnosis only; the parent
trusts only the database).

The process never exits by itself after the plan: the parent kills it. With ``--restart-check``
it is the app started again after the kill: it opens the evaluation, logs the findings the
editor shows, and quits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@dataclass(frozen=True)
class Step:
    """Type ``text`` into one field (``side`` for a bilateral item), then wait ``pause_after``."""

    item: str
    side: str | None
    text: str
    pause_after: float


class Log:
    """Append-only JSON lines, fsync'd after every line (the record that survives SIGKILL)."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, **entry: Any) -> None:
        entry.setdefault("t", time.monotonic())
        os.write(self.fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
        os.fsync(self.fd)


def _isolate_settings(folder: Path) -> None:
    from PySide6.QtCore import QCoreApplication, QSettings

    folder.mkdir(parents=True, exist_ok=True)
    QCoreApplication.setOrganizationName("clinic_app")
    QCoreApplication.setApplicationName("clinic_app_crash_test")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))


def _open_main_window(db: Any, args: argparse.Namespace, log: Log) -> tuple[Any, Any, Any]:
    """(window, editor, saver) of the real main window showing the evaluation."""
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path
    from clinic_app.storage import records
    from clinic_app.ui.main_window import MainWindow

    form = load_form(default_form_path())
    clinician = records.get_clinician(db, args.clinician)
    window = MainWindow(db, form, clinician)
    window.resize(1280, 800)
    window.show()
    window.open_evaluation(
        records.get_evaluation(db, args.evaluation), records.get_patient(db, args.patient)
    )
    page = window.page
    status = getattr(window, "saved_label", None)
    if status is not None:
        page.status_changed.connect(lambda text: log.write(kind="status", text=text))
    return window, page.view.editor, page.saver


def _open_editor(db: Any, args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """(window, editor, saver): the evaluation editor wired to the autosaver, as the window does."""
    from clinic_app.core.findings import validate
    from clinic_app.core.visit import visit_sections
    from clinic_app.storage import records
    from clinic_app.ui.autosave import DraftAutosaver
    from clinic_app.ui.editor import EvaluationEditor

    evaluation = records.get_evaluation(db, args.evaluation)
    form = records.evaluation_form(db, args.evaluation)
    sections = None
    if evaluation.kind == "visit":  # its pages, with every item it may re-measure picked
        sections = visit_sections(form, [i.id for i in form.items.values()])
    editor = EvaluationEditor(form, validate(form, dict(evaluation.findings)), sections=sections)
    editor.resize(1000, 700)
    editor.show()
    clinician = records.get_clinician(db, args.clinician)
    from clinic_app.ui.operations import OperationRunner

    runner = OperationRunner(db, editor)
    saver = DraftAutosaver(runner, evaluation, clinician.name, parent=editor)
    editor.findings_changed.connect(saver.on_findings_changed)
    return editor, editor, saver


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--evaluation", type=int, required=True)
    parser.add_argument("--patient", type=int, required=True)
    parser.add_argument("--clinician", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--plan", type=Path, required=True, help="JSON: pace and steps")
    parser.add_argument("--settings", type=Path, help="QSettings folder (default: beside the log)")
    parser.add_argument(
        "--mode", choices=("auto", "main_window", "editor"), default="auto", help="what to drive"
    )
    parser.add_argument(
        "--restart-check",
        action="store_true",
        help="only open the evaluation (after a crash), log what the editor shows, and quit",
    )
    args = parser.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from clinic_app.storage.database import open_database

    log = Log(args.log)
    plan = json.loads(args.plan.read_text(encoding="utf-8"))
    pace: float = plan["pace"]
    steps = [Step(**s) for s in plan["steps"]]

    app = QApplication(sys.argv[:1])
    _isolate_settings(args.settings or args.log.parent / "settings")
    db = open_database(f"sqlite:///{args.db}")

    mode = args.mode
    window: Any
    if mode in ("auto", "main_window"):
        try:
            window, editor, saver = _open_main_window(db, args, log)
            mode = "main_window"
        except (ImportError, AttributeError, TypeError) as exc:
            if args.mode == "main_window":
                raise
            log.write(kind="note", text=f"main window unavailable ({exc!r}); driving the editor")
            mode = "editor"
    if mode == "editor":
        window, editor, saver = _open_editor(db, args)

    if args.restart_check:
        log.write(kind="loaded", mode=mode, values=editor.findings.to_dict()["values"])
        if hasattr(saver, "detach"):
            saver.detach()
        db.close()
        return 0

    saver.saved.connect(lambda r: log.write(kind="saved", version=r.version, changed=r.changed))
    saver.failed.connect(lambda msg: log.write(kind="failed", text=msg))
    saver.conflicted.connect(lambda err: log.write(kind="conflicted", text=str(err)))

    # A schedule of absolute times, so the pace does not drift with the time each key takes.
    actions: list[tuple[float, Callable[[], None]]] = []
    offset = 0.2
    for step in steps:

        def focus(step: Step = step) -> None:
            # The page that shows the item (a visit note's pages are not the form's sections).
            shown = getattr(editor, "section_of", None)
            section = shown(step.item) if shown else editor.form.section_of(step.item).id
            editor.set_current_section(section)
            widget = editor.editor(step.item, step.side).focus_widgets()[0]
            window.activateWindow()
            widget.setFocus()

        actions.append((offset, focus))
        for n, char in enumerate(step.text):
            offset += pace

            def key(step: Step = step, char: str = char, n: int = n) -> None:
                widget = editor.editor(step.item, step.side).focus_widgets()[0]
                QTest.keyClick(widget, char)
                log.write(
                    kind="key",
                    item=step.item,
                    side=step.side,
                    typed=step.text[: n + 1],
                    values=editor.findings.to_dict()["values"],
                )

            actions.append((offset, key))
        offset += step.pause_after

    start = time.monotonic()
    log.write(
        kind="ready",
        t=start,
        mode=mode,
        pid=os.getpid(),
        values=editor.findings.to_dict()["values"],
    )
    queue = list(actions)

    def run_due() -> None:
        now = time.monotonic()
        while queue and start + queue[0][0] <= now:
            queue.pop(0)[1]()
        if queue:
            wait_ms = max(0, int((start + queue[0][0] - time.monotonic()) * 1000))
            QTimer.singleShot(wait_ms, run_due)
        else:
            log.write(kind="done")

    QTimer.singleShot(0, run_due)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
