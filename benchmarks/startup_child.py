"""Body of the cold-start process, run as ``python -c "<this file's text>" MODE URL [ACTIONS]``.

Prints ``READY <CLOCK_MONOTONIC ns>`` when a main window is visible and (for the app) its
patient list model has rows, measured from inside the event loop (so the window's first show and
layout have been processed); the parent took the same clock just before starting the process.
For the app it then prints ``MODULES a,b`` (which of sqlalchemy, pydantic, yaml, alembic and
reportlab were imported by READY, ``-`` for none), ``LOADED <ns>`` when the window's ``is_ready``
is true (database checked and attached, form and all panels loaded; ``LOADED <ns> at-ready`` when
the window has no ``is_ready``, i.e. it was complete at READY) and ``WARM <ns>`` when its
``is_warm`` is true (editor view prebuilt, reportlab and fonts loaded; ``WARM absent`` without
the attribute, ``WARM timeout`` after 10 s). Both are taken from the window's ``ready()`` /
``warmed()`` signals when it has them (no polling that could keep the event loop from being idle),
else by polling the attributes every 10 ms. Then ``PEAK <MiB>`` (VmHWM) and exits without
teardown.

MODE ``bare``: a bare PySide6 QMainWindow (the baseline). ``floor``: the same after importing
sqlalchemy.orm, pydantic and yaml (what any start of this stack pays before app code runs).
``app``: the real entry, ``clinic_app.ui.app.run(database=URL)``, with ``QApplication.exec``
wrapped so a zero-time timer can watch for the rows (the app itself is not changed).
``proxy``: used while the UI has no ``clinic_app.ui.app``: PatientTableModel in a QTableView in
a QMainWindow.
ACTIONS ``memory``: after LOADED and WARM (the database must be attached, and a real session
has warmed up), type 10 searches into the search box, scroll 2,000 rows and open an evaluation,
then report the peak memory.
"""

import os
import sys
import time

CLOCK = time.CLOCK_MONOTONIC
FIRST_PAINT_MODULES = ("sqlalchemy", "pydantic", "yaml", "alembic", "reportlab")
LOADED_TIMEOUT_MS = 120_000  # a 100,000-patient integrity check takes seconds, not minutes
WARM_TIMEOUT_MS = 10_000
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

        # found again: attaching the database may have replaced the view or model of READY
        window, view, model = find_rows_view(app) or found
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


def await_flag(window, attr, signal_name, timeout_ms, done):
    """Call ``done(ns or None, how)`` once ``window.<attr>`` is true: ``how`` is "" when it became
    true, "timeout" after ``timeout_ms`` (ns None). Uses the window's signal when it has one
    (a slot on a GUI-thread QObject, so an emit from another thread is queued here), else polls
    the attribute every 10 ms. The caller has checked that the attribute exists and is false."""
    from PySide6.QtCore import QObject, QTimer, Slot

    class Waiter(QObject):
        finished = False

        @Slot()
        def fired(self):  # the signal says the flag became true
            if not self.finished:
                self.finish(time.clock_gettime_ns(CLOCK), "")

        @Slot()
        def poll(self):
            if self.finished:
                return
            if getattr(window, attr, False):
                self.finish(time.clock_gettime_ns(CLOCK), "")
            else:
                QTimer.singleShot(10, self.poll)

        @Slot()
        def expire(self):
            if not self.finished:
                self.finish(None, "timeout")

        def finish(self, ns, how):
            self.finished = True
            done(ns, how)

    waiter = Waiter()
    await_flag.keep.append(waiter)
    signal = getattr(window, signal_name, None)
    if signal is not None and hasattr(signal, "connect"):
        signal.connect(waiter.fired)
    else:
        QTimer.singleShot(10, waiter.poll)
    QTimer.singleShot(timeout_ms, waiter.expire)


await_flag.keep = []


def after_start(app, found, ready_ns):
    """The app: report the modules at first paint, then LOADED and WARM, then the actions."""
    print("MODULES " + (",".join(m for m in FIRST_PAINT_MODULES if m in sys.modules) or "-"))
    window = found[0]

    def on_warm(ns, how):
        print(f"WARM {ns}" if ns is not None else f"WARM {how}", flush=True)
        after_ready(app, found)

    def warm_up():
        if not hasattr(window, "is_warm"):
            on_warm(None, "absent")
        elif window.is_warm:
            on_warm(time.clock_gettime_ns(CLOCK), "")
        else:
            await_flag(window, "is_warm", "warmed", WARM_TIMEOUT_MS, on_warm)

    def on_loaded(ns, how):
        print(f"LOADED {ns}" if ns is not None else f"LOADED {how}", flush=True)
        warm_up()

    if not hasattr(window, "is_ready"):
        print(f"LOADED {ready_ns} at-ready", flush=True)
        warm_up()
    elif window.is_ready:
        on_loaded(ready_ns, "")
    else:
        await_flag(window, "is_ready", "ready", LOADED_TIMEOUT_MS, on_loaded)


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
            ready_ns = time.clock_gettime_ns(CLOCK)
            print(f"READY {ready_ns}", flush=True)
            if PROFILE:
                profiler.stop()
                with open(PROFILE, "w") as fh:
                    fh.write(profiler.output_text(unicode=True, show_all=False))
            if found is not None:
                after_start(app, found, ready_ns)
            else:
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
    from clinic_app.ui import app as app_module

    if hasattr(app_module, "Opening"):
        # A start with a sign-in window (issue 14): answered as soon as the clinic is open, as
        # the first clinician, with no password typed or checked (argon2id costs a clinician's
        # keystrokes, not the app's start). READY is then the window with rows after an instant
        # sign-in; SIGNIN the sign-in window shown (the first paint of such a start); ACCEPTED
        # the moment the sign-in was answered (READY - ACCEPTED: what a clinician waits for
        # after the password was checked).
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QDialog

        original_run = app_module.Opening.run

        def sign_in_at_once(opening):
            if opening.failure is not None:
                opening.dialog.done(QDialog.DialogCode.Rejected)
            elif opening.db is None:
                QTimer.singleShot(2, lambda: sign_in_at_once(opening))
            else:
                from clinic_app.storage import records

                opening.dialog.clinician = records.list_clinicians(opening.db)[0]
                print(f"ACCEPTED {time.clock_gettime_ns(CLOCK)}", flush=True)
                opening.dialog.done(QDialog.DialogCode.Accepted)

        def shown(opening):
            print(f"SIGNIN {time.clock_gettime_ns(CLOCK)}", flush=True)
            sign_in_at_once(opening)

        def run_signing_in(opening):
            opening._needs_first_admin = lambda: False  # synthetic clinicians have no password
            opening.sign_in_shown.connect(lambda: shown(opening))
            return original_run(opening)

        app_module.Opening.run = run_signing_in
    run = app_module.run

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
