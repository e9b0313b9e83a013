"""Body of the cold-start process, run as ``python -c "<this file's text>" MODE URL [ACTIONS]``.

Prints ``READY <CLOCK_MONOTONIC ns>`` when a main window is visible and (for the app) its
patient list model has rows, measured from inside the event loop (so the window's first show and
layout have been processed); the parent took the same clock just before starting the process.
Then ``PEAK <MiB>`` (VmHWM) and exits without teardown.

MODE ``bare``: a bare PySide6 QMainWindow (the baseline). ``floor``: the same after importing
sqlalchemy.orm, pydantic and yaml (what any start of this stack pays before app code runs).
``app``: the real entry, ``clinic_app.ui.app.run(database=URL)``, with ``QApplication.exec``
wrapped so a zero-time timer can watch for the rows (the app itself is not changed).
``proxy``: used while the UI has no ``clinic_app.ui.app``: PatientTableModel in a QTableView in
a QMainWindow.
ACTIONS ``memory``: after READY, type 10 searches into the search box, scroll 2,000 rows and
open an evaluation, then report the peak memory.
"""

import os
import sys
import time

CLOCK = time.CLOCK_MONOTONIC
mode, url = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
actions = sys.argv[3] if len(sys.argv) > 3 else ""
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# CLINIC_BENCH_PROFILE=out.txt: profile up to READY with pyinstrument (pip install pyinstrument).
PROFILE = os.environ.get("CLINIC_BENCH_PROFILE")
if PROFILE:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()


def peak_mib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1.0


def find_rows_view(app):
    from PySide6.QtWidgets import QAbstractItemView, QMainWindow

    for top in app.topLevelWidgets():
        if isinstance(top, QMainWindow) and top.isVisible():
            for view in top.findChildren(QAbstractItemView):
                model = view.model()
                while model is not None and hasattr(model, "sourceModel"):
                    model = model.sourceModel()
                if model is not None and model.rowCount() > 0 and view.isVisible():
                    return top, view, model
    return None


def after_ready(app, found):
    if actions == "memory" and found is not None:
        from PySide6.QtWidgets import QLineEdit

        window, view, model = found
        box = window.findChild(QLineEdit, "patientSearch")
        for text in ("m", "mu", "mül", "müll", "s", "sm", "smi", "1", "19", "k"):
            if box is not None:
                box.setText(text)
            if hasattr(model, "set_query"):
                model.set_query(text)
            app.processEvents()
        if box is not None:
            box.setText("")
        if hasattr(model, "set_query"):
            model.set_query("")
        app.processEvents()
        for _ in range(10):
            if model.canFetchMore():
                model.fetchMore()
            view.scrollToBottom()
            app.processEvents()
        opener = getattr(window, "on_detail_evaluation_opened", None)
        if opener is not None:
            from clinic_app.storage import records

            patient = model.patient(0)
            evs = records.list_evaluations(window.db, patient.id) if patient else []
            if evs:
                window.patients.select_patient(patient.id)
                app.processEvents()
                opener(evs[-1].id)
                app.processEvents()
    print(f"PEAK {peak_mib():.1f}", flush=True)
    os._exit(0)


def watch(app, need_rows):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMainWindow

    def poll():
        if need_rows:
            found = find_rows_view(app)
            ready = found is not None
        else:
            found = None
            ready = any(isinstance(w, QMainWindow) and w.isVisible() for w in app.topLevelWidgets())
        if ready:
            print(f"READY {time.clock_gettime_ns(CLOCK)}", flush=True)
            if PROFILE:
                profiler.stop()
                with open(PROFILE, "w") as fh:
                    fh.write(profiler.output_text(unicode=True, show_all=False))
            after_ready(app, found)
        else:
            QTimer.singleShot(0, poll)

    QTimer.singleShot(0, poll)


if mode in ("bare", "floor"):
    if mode == "floor":  # the app's third-party import floor, no app code
        import pydantic  # noqa: F401
        import sqlalchemy.orm  # noqa: F401
        import yaml  # noqa: F401
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(1280, 800)
    window.show()
    watch(app, need_rows=False)
    app.exec()
elif mode == "app":
    from PySide6.QtWidgets import QApplication

    original_exec = QApplication.exec

    def exec_and_watch(*_args):
        watch(QApplication.instance(), need_rows=True)
        return original_exec()

    QApplication.exec = exec_and_watch
    from clinic_app.ui.app import run

    code = run(database=url)
    print(f"EXITED {code}", flush=True)
    os._exit(3)
else:
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

    from clinic_app.storage.database import open_database
    from clinic_app.ui.patient_model import PatientTableModel

    app = QApplication(sys.argv[:1])
    db = open_database(url)
    window = QMainWindow()
    table = QTableView(window)
    model = PatientTableModel(db)
    table.setModel(model)
    window.setCentralWidget(table)
    window.resize(1280, 800)
    window.show()
    watch(app, need_rows=True)
    app.exec()
