"""Measurements that run in a process of their own, started by ``run.py``.

``python benchmarks/probes.py NAME 'JSON-PARAMS'`` runs one probe and prints ``RESULT {json}`` as
its last line. Each probe times with ``time.perf_counter_ns`` around exactly the work named in its
docstring and returns raw samples in milliseconds; ``run.py`` computes medians and percentiles.

Probes prefer the app's real objects (``MainWindow``, its search box, ``EvaluationPage.open``)
and fall back to the layer below when the UI piece is missing, saying so in ``"via"``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VIGNETTES = ROOT / "tests" / "core" / "vignettes"
EXAMPLES = ROOT / "examples"
USER_FALLBACK = "benchmark"

import episode  # noqa: E402  (benchmarks/ is this script's folder: the episode figures' probes)
import self_entry  # noqa: E402  (the patient's self-entry screen, issue 16)


def now_ms() -> float:
    return time.perf_counter_ns() / 1e6


def vm_hwm_mb() -> float:
    """Peak resident memory of this process (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------------------------
# Shared set-up


def qt_app() -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    QCoreApplication.setOrganizationName("clinic_app")
    QCoreApplication.setApplicationName("clinic_app")
    try:
        from clinic_app.ui.app import apply_style

        apply_style(app)
    except ImportError:
        pass
    return app


def load_form() -> Any:
    from clinic_app.core.form import load_form as _load
    from clinic_app.paths import default_form_path

    return _load(default_form_path())


def load_findings(form: Any, name: str) -> Any:
    from clinic_app.core import findings as findings_mod

    path = VIGNETTES / f"{name}.json"
    if not path.exists():
        path = EXAMPLES / f"{name}.json"
    return findings_mod.load(form, path)


def open_db(url: str) -> Any:
    from clinic_app.storage.database import open_database

    return open_database(url, backup=False)


WARM_TIMEOUT_MS = 10_000
WARM_UP: dict[str, Any] = {}  # how the last main_window() waited: {"how", "ms"}


def main_window(db: Any, form: Any, wait_warm: bool = True) -> tuple[Any, str]:
    """The app's MainWindow on ``db``, shown offscreen; or (None, reason).

    With ``wait_warm`` (the default) it returns only once the window has warmed up (see
    ``wait_warm_up``), so the idle-time warm-up (an editor view prebuilt, reportlab and fonts
    loaded) cannot run inside a measured sample. How long that took is left in ``WARM_UP``.
    """
    try:
        from clinic_app.ui.main_window import MainWindow
    except ImportError as exc:
        return None, f"no MainWindow ({exc})"
    from clinic_app.storage import records

    clinicians = records.list_clinicians(db)
    if not clinicians:
        return None, "no clinician in the database"
    window = MainWindow(db, form, clinicians[0])
    window.resize(1280, 800)
    window.show()
    process_events()
    WARM_UP.clear()
    WARM_UP.update({"how": "not waited", "ms": None})
    if wait_warm:
        WARM_UP.update(wait_warm_up(window))
    return window, "MainWindow"


def wait_warm_up(window: Any, timeout_ms: int = WARM_TIMEOUT_MS) -> dict[str, Any]:
    """Spin the event loop until ``window.is_warm`` (its ``warmed()`` signal), at most
    ``timeout_ms``. Returns ``{"how": "warmed" | "already warm" | "timeout" | "absent", "ms"}``;
    "absent": the window has no ``is_warm`` (no warm-up to wait for; nothing is waited)."""
    if not hasattr(window, "is_warm"):
        return {"how": "absent", "ms": None}
    if window.is_warm:
        return {"how": "already warm", "ms": 0.0}
    t0 = now_ms()
    signal = getattr(window, "warmed", None)
    if signal is not None and hasattr(signal, "connect"):
        wait_for(signal, lambda: None, timeout_ms=timeout_ms)
    else:
        from PySide6.QtCore import QEventLoop, QTimer

        while not window.is_warm and now_ms() - t0 < timeout_ms:
            loop = QEventLoop()
            QTimer.singleShot(10, loop.quit)
            loop.exec()
    process_events()
    return {"how": "warmed" if window.is_warm else "timeout", "ms": now_ms() - t0}


def process_events() -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()


def let_idle(window: Any) -> None:
    """What the app does once its event loop goes idle after a measured step: the access
    event of an open (``AppContext.when_idle``; a processEvents() loop never idles), then its
    write on the worker. Outside the clock, as in the app it follows the open's first paint;
    a tree without it has nothing to do here."""
    context = getattr(window, "context", None)
    if context is None or not hasattr(context, "run_idle"):
        return
    context.run_idle()
    runner = context.runner
    t0 = now_ms()
    while runner.pending() and now_ms() - t0 < 5000:
        process_events()
        time.sleep(0.001)


def wait_for(signal: Any, action: Callable[[], None], timeout_ms: int = 5000) -> bool:
    """Run ``action`` and spin the event loop until ``signal`` fires (or the timeout)."""
    from PySide6.QtCore import QEventLoop, QTimer

    fired = [False]
    loop = QEventLoop()

    def on_fired(*_args: object) -> None:
        fired[0] = True
        loop.quit()

    signal.connect(on_fired)
    try:
        action()
        if not fired[0]:
            QTimer.singleShot(timeout_ms, loop.quit)
            loop.exec()
    finally:
        signal.disconnect(on_fired)
    return fired[0]


def statement_counter(engine: Any) -> tuple[list[int], Callable[[], None]]:
    """Counts SQL statements sent through ``engine``: ``[on the GUI thread, on other threads]``.

    The typing path is the GUI thread; a save the autosaver runs on its worker thread while the
    clinician types is not on it, and is counted apart.
    """
    import threading

    from sqlalchemy import event

    count = [0, 0]
    gui = threading.get_ident()

    def before(*_args: object, **_kw: object) -> None:
        count[0 if threading.get_ident() == gui else 1] += 1

    event.listen(engine, "before_cursor_execute", before)
    return count, lambda: event.remove(engine, "before_cursor_execute", before)


# --------------------------------------------------------------------------------------------
# Probes


def probe_search(url: str, sequences: list[str], repeats: int) -> dict[str, Any]:
    """Keystroke to patient model updated.

    Through the main window when it exists: the key goes into the real search box (``setText``
    with one more character, as a QLineEdit does for a typed key; non-ASCII cannot go through
    QTest), the search debounce is set to 0 ms so its *work* is timed (the deliberate pause is
    reported separately), and the clock stops when the model has emitted ``loaded`` and the view
    has processed the resulting events. Without a main window: ``PatientTableModel.set_query``.
    Also times ``records.search_patients`` alone, per keystroke, to separate API and UI costs.
    """
    from clinic_app.storage import records

    qt_app()
    db = open_db(url)
    form = load_form()
    window, via = main_window(db, form)
    debounce_ms = None
    if window is not None:
        panel = window.patients
        model = panel.model
        debounce_ms = panel.debounce.interval()
        panel.debounce.setInterval(0)
        box = panel.search

        def type_text(text: str) -> None:
            box.setText(text)

        via = "MainWindow search box -> PatientTableModel (debounce set to 0)"
    else:
        from clinic_app.ui.patient_model import PatientTableModel

        model = PatientTableModel(db)

        def type_text(text: str) -> None:
            model.set_query(text)

        via = f"PatientTableModel.set_query ({via})"

    ui: list[float] = []
    api: list[float] = []
    per_query: dict[str, list[float]] = {}
    first_key: list[float] = []
    clear: list[float] = []
    rows: dict[str, int] = {}
    for _ in range(repeats):
        for seq in sequences:
            for n in range(1, len(seq) + 1):
                prefix = seq[:n]
                t0 = now_ms()
                ok = wait_for(model.loaded, lambda p=prefix: type_text(p))
                process_events()
                dt = now_ms() - t0
                if not ok:
                    raise RuntimeError(f"model never reloaded for {prefix!r}")
                ui.append(dt)
                per_query.setdefault(prefix, []).append(dt)
                if n == 1:
                    first_key.append(dt)
                rows[prefix] = model.rowCount()
                t0 = now_ms()
                records.search_patients(db, prefix, limit=getattr(model, "search_limit", 500))
                api.append(now_ms() - t0)
            t0 = now_ms()
            wait_for(model.loaded, lambda: type_text(""))
            process_events()
            clear.append(now_ms() - t0)
    worst = sorted(per_query.items(), key=lambda kv: -max(kv[1]))[:5]
    return {
        "via": via,
        "ui_ms": ui,
        "api_ms": api,
        "first_key_ms": first_key,
        "clear_ms": clear,
        "debounce_ms": debounce_ms,
        "slowest_prefixes": [{"text": k, "max_ms": max(v), "rows": rows.get(k)} for k, v in worst],
    }


def _prepare_full_evaluation(db: Any, form: Any, vignette: str) -> int:
    """A draft evaluation holding every item of ``vignette`` (added to a working copy)."""
    from clinic_app.storage import records

    clinicians = records.list_clinicians(db)
    user = clinicians[0].name if clinicians else USER_FALLBACK
    patient = records.list_patients(db, limit=1)[0]
    ev = records.start_evaluation(db, patient.id, form, user=user, copy_forward=False)
    findings = load_findings(form, vignette)
    records.save_draft(db, ev.id, findings, ev.version, user=user)
    return int(ev.id)


def probe_prepare_full(url: str) -> dict[str, Any]:
    """Add the full evaluation (every item of ``all_normal``) that ``probe_open`` opens.

    In a process of its own: preparing it parses the evaluation's form snapshot, and a process
    that did so before its window attached would not be a fresh start (the window's form could
    not be handed out for that snapshot, so its prebuilt editor view would go unused).
    """
    db = open_db(url)
    return {"full_id": _prepare_full_evaluation(db, load_form(), "all_normal")}


def probe_open(
    url: str,
    evaluation_ids: list[int],
    repeats: int,
    wait_warm: bool = True,
    full_id: int | None = None,
) -> dict[str, Any]:
    """Opening an evaluation into the editor.

    Through the main window: ``records.get_evaluation`` + ``MainWindow.open_evaluation`` (which
    loads the form snapshot, validates the findings, builds the EvaluationView with its live
    assessment and autosaver) and the events that follow (layout, first paint), clock stopped
    when the event queue is empty. Both generated drafts and one full evaluation (every item of
    ``all_normal``) are opened. Without a main window: get + ``EvaluationView(form, findings)``.

    The first open of the process (the full evaluation) is reported alone: with ``wait_warm``
    after the window's idle-time warm-up (as a clinician's first open after start, the target),
    without it at once after the window is shown (before any warm-up could run). The repeated
    samples always come after the warm-up, so it cannot run inside one of them. ``full_id``: the
    full evaluation made by ``probe_prepare_full`` (else it is made here, before the window).
    """
    from clinic_app.core.findings import validate
    from clinic_app.storage import records

    qt_app()
    db = open_db(url)
    form = load_form()
    if full_id is None:
        full_id = _prepare_full_evaluation(db, form, "all_normal")
    window, via = main_window(db, form, wait_warm=wait_warm)
    warm_up = dict(WARM_UP) if window is not None else {"how": "no window", "ms": None}
    patients = {}

    def open_one(eid: int) -> None:
        ev = records.get_evaluation(db, eid)
        if window is not None:
            patient = patients.get(ev.patient_id) or records.get_patient(db, ev.patient_id)
            window.open_evaluation(ev, patient)
        else:
            from clinic_app.ui.assessment import EvaluationView

            f = records.evaluation_form(db, eid)
            view = EvaluationView(f, validate(f, dict(ev.findings)))
            view.resize(1200, 760)
            view.show()
            holder.append(view)
        process_events()

    holder: list[Any] = []
    # the view the window built ahead of time, if it keeps one (EvaluationPage._spare; a
    # diagnostic only: did the first open use it?)
    page = getattr(window, "page", None)
    prebuilt = getattr(page, "_spare", None)
    t0 = now_ms()
    open_one(full_id)  # the first open of the process: reported alone, not in the samples
    first_open = now_ms() - t0
    if window is not None:
        let_idle(window)
    used_prebuilt = None if prebuilt is None else getattr(page, "view", None) is prebuilt
    if window is not None and not wait_warm and repeats:
        wait_warm_up(window)  # keep the warm-up out of the samples below
    generated: list[float] = []
    full: list[float] = []
    get_only: list[float] = []
    cpu: list[float] = []  # the process's CPU time of the same opens (all its threads)
    for _ in range(repeats):
        for eid in [*evaluation_ids, full_id]:
            c0, t0 = time.process_time_ns(), now_ms()
            open_one(eid)
            dt = now_ms() - t0
            if window is not None:
                let_idle(window)  # the open's access event, written after its paint
            cpu.append((time.process_time_ns() - c0) / 1e6)
            (full if eid == full_id else generated).append(dt)
            t0 = now_ms()
            records.get_evaluation(db, eid)
            get_only.append(now_ms() - t0)
            while holder:
                holder.pop().deleteLater()
    return {
        "via": "records.get_evaluation + MainWindow.open_evaluation" if window else via,
        "generated_ms": generated,
        "full_ms": full,
        "get_ms": get_only,
        "cpu_ms": cpu,
        "full_items": len(load_findings(form, "all_normal").values),
        "first_open_ms": first_open,
        "first_open_after_warm_up": wait_warm,
        "first_open_used_prebuilt_view": used_prebuilt,
        "warm_up": warm_up,
    }


def probe_autosave(url: str, repeats: int) -> dict[str, Any]:
    """Autosave round trip, and proof that the keystroke path does not touch the database.

    1. ``records.save_draft`` with one changed value (a full evaluation), ``repeats`` times.
    2. In the real editor (main window's evaluation page when it exists): a key typed into a
       number field with ``QTest.keyClick``; timed from the key press until ``findings_changed``
       was delivered, while counting SQL statements (SQLAlchemy ``before_cursor_execute``) until
       the key handler returns. Then the same with a *slow database* (every statement sleeps
       50 ms): the keystroke time must not change. Finally the autosave timer is let fire, and
       the statements it sends are counted (proof that the counter sees the real saves).
    """
    from sqlalchemy import event

    from clinic_app.storage import records

    qt_app()
    db = open_db(url)
    form = load_form()
    full_id = _prepare_full_evaluation(db, form, "all_normal")
    user = records.list_clinicians(db)[0].name if records.list_clinicians(db) else USER_FALLBACK

    ev = records.get_evaluation(db, full_id)
    findings = load_findings(form, "all_normal")
    version = ev.version
    number_items = [i for i in form.items.values() if i.type.value == "number" and not i.bilateral]
    item = number_items[0]
    lo = item.value_range.min if item.value_range else 0
    saves: list[float] = []
    unchanged: list[float] = []
    for n in range(repeats):
        changed = findings.with_value(form, item.id, lo + (n % 2) + 1)
        t0 = now_ms()
        result = records.save_draft(db, full_id, changed, version, user=user)
        saves.append(now_ms() - t0)
        version = result.version
        t0 = now_ms()
        records.save_draft(db, full_id, changed, version, user=user)
        unchanged.append(now_ms() - t0)

    # -- keystroke path ---------------------------------------------------------------------
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QLineEdit

    window, via = main_window(db, form)
    if window is not None:
        window.open_evaluation(records.get_evaluation(db, full_id), records.list_patients(db)[0])
        let_idle(window)
        editor = window.page.view.editor
        saver = window.page.saver
        via = "MainWindow evaluation page (EvaluationView + DraftAutosaver)"
    else:
        from clinic_app.core.findings import validate
        from clinic_app.ui.autosave import DraftAutosaver
        from clinic_app.ui.editor import EvaluationEditor

        ev = records.get_evaluation(db, full_id)
        editor = EvaluationEditor(form, validate(form, dict(ev.findings)))
        saver = DraftAutosaver(db, ev, user)
        editor.findings_changed.connect(saver.on_findings_changed)
        editor.show()
        via = f"EvaluationEditor + DraftAutosaver ({via})"
    process_events()
    line = None
    for w in editor.findChildren(QLineEdit):
        if w.objectName() == "" and w.isEnabled() and not w.isReadOnly():
            line = w
            break
    if line is None:
        line = editor.findChildren(QLineEdit)[0]

    def keystrokes(count: int, delay_ms: float) -> tuple[list[float], list[int]]:
        sleeper = None
        if delay_ms:

            def sleeper(*_a: object, **_k: object) -> None:
                time.sleep(delay_ms / 1000)

            event.listen(db.engine, "before_cursor_execute", sleeper)
        counter, remove = statement_counter(db.engine)
        times: list[float] = []
        statements: list[int] = []
        got: list[float] = []
        editor.findings_changed.connect(lambda *_: got.append(now_ms()))
        try:
            for n in range(count):
                line.setFocus()
                line.selectAll()
                key = Qt.Key.Key_1 if n % 2 else Qt.Key.Key_2
                before = counter[0]
                got.clear()
                t0 = now_ms()
                QTest.keyClick(line, key)
                t1 = got[0] if got else now_ms()
                times.append(t1 - t0)
                statements.append(counter[0] - before)
                for timer in (saver.timer, getattr(saver, "deadline", None)):
                    if timer is not None:  # keep autosaves out of the next keystroke's window
                        timer.stop()
        finally:
            remove()
            if sleeper is not None:
                event.remove(db.engine, "before_cursor_execute", sleeper)
        return times, statements

    fast_times, fast_statements = keystrokes(repeats, 0)
    slow_times, slow_statements = keystrokes(max(5, repeats // 2), 50)
    # Now let the autosave happen, with the counter on: the saves do reach the database.
    counter, remove = statement_counter(db.engine)
    requested: list[float] = []
    if hasattr(saver, "requested"):  # the write is handed to a worker thread
        saver.requested.connect(lambda *_: requested.append(now_ms()))
    t0 = now_ms()
    QTest.keyClick(line, Qt.Key.Key_3)
    fired = wait_for(saver.saved, lambda: None, timeout_ms=5000)
    t1 = now_ms()
    waited = t1 - t0
    remove()
    return {
        "via": via,
        "field": line.accessibleName() or line.objectName(),
        "save_changed_ms": saves,
        "save_unchanged_ms": unchanged,
        "keystroke_ms": fast_times,
        "keystroke_statements": fast_statements,
        "keystroke_slow_db_ms": slow_times,
        "keystroke_slow_db_statements": slow_statements,
        "autosave_fired": fired,
        "autosave_after_ms": waited,
        "autosave_write_ms": (t1 - requested[0]) if requested else None,
        "autosave_statements": counter[0] + counter[1],
        "autosave_statements_gui_thread": counter[0],
        "autosave_statements_other_threads": counter[1],
        "autosave_delay_ms": saver.timer.interval(),
    }


def probe_access(
    url: str, evaluation_ids: list[int], repeats: int, fill: int = 3000
) -> dict[str, Any]:
    """The access log (issue 14): writing one "view" event (what selecting a patient adds to the
    worker's queue: a write transaction in the audit chain) and reading a patient's trail and
    the newest 5,000 events of the whole clinic (the admin screen's first page), after ``fill``
    untimed events over the clinic's patients (a synthetic clinic has few audit events)."""
    from clinic_app.storage import records

    db = open_db(url)
    patient_ids = [records.get_evaluation(db, eid).patient_id for eid in evaluation_ids]
    others = [p.id for p in records.list_patients(db, limit=200)]
    for n in range(fill):
        pid = (patient_ids + others)[n % (len(patient_ids) + len(others))]
        records.log_access(
            db, actor=f"bench{n % 7}", action="view", entity="patient", entity_id=pid
        )
    write_ms: list[float] = []
    for n in range(repeats):
        pid = patient_ids[n % len(patient_ids)]
        t0 = time.perf_counter()
        records.log_access(db, actor="bench", action="view", entity="patient", entity_id=pid)
        write_ms.append((time.perf_counter() - t0) * 1000)
    patient_ms: list[float] = []
    clinic_ms: list[float] = []
    rows = 0
    for n in range(max(3, repeats // 10)):
        t0 = time.perf_counter()
        records.access_log(db, patient_id=patient_ids[n % len(patient_ids)])
        patient_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        rows = len(records.access_log(db, limit=5000))
        clinic_ms.append((time.perf_counter() - t0) * 1000)
    db.close()
    return {
        "write_ms": write_ms,
        "patient_trail_ms": patient_ms,
        "clinic_page_ms": clinic_ms,
        "clinic_page_rows": rows,
    }


def probe_engine(vignettes: list[str], repeats: int) -> dict[str, Any]:
    """``assess(form, findings)`` on whole evaluations; first call reported separately."""
    from clinic_app.core.engine import assess

    form = load_form()
    out: dict[str, Any] = {}
    for name in vignettes:
        findings = load_findings(form, name)
        t0 = now_ms()
        assess(form, findings)
        first = now_ms() - t0
        samples = []
        for _ in range(repeats):
            t0 = now_ms()
            assess(form, findings)
            samples.append(now_ms() - t0)
        out[name] = {"first_ms": first, "ms": samples, "items": len(findings.values)}
    return out


def report_data(name: str = "runner_left_proximal") -> Any:
    from datetime import date

    from clinic_app.reports import (
        ClinicianInfo,
        ClinicInfo,
        EvaluationInfo,
        PatientInfo,
        ReportData,
    )

    form = load_form()
    return ReportData(
        clinic=ClinicInfo(name="Benchmark Physio", address="1 Main Street", phone="+49 30 123"),
        clinician=ClinicianInfo(name="Alex Example", credentials="PT, DPT"),
        patient=PatientInfo(name="Łukasz Müller", date_of_birth=date(1988, 3, 7), mrn="M0000001"),
        evaluation=EvaluationInfo(date=date(2026, 11, 21)),
        form=form,
        findings=load_findings(form, name),
    )


def minimal_pdf(target: Any) -> None:
    """The baseline: a one-page reportlab document (one paragraph, the default font)."""
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    doc = SimpleDocTemplate(target)
    doc.build([Paragraph("Benchmark baseline: one page.", getSampleStyleSheet()["Normal"])])


def _builder(kind: str) -> Callable[[Any, Any], None]:
    if kind == "minimal":
        return lambda _data, target: minimal_pdf(target)
    from clinic_app import reports

    return reports.build_clinician_report if kind == "clinician" else reports.build_handout


def probe_report_cold(kind: str, vignette: str) -> dict[str, Any]:
    """The first build in a fresh process: lazy reportlab import, font registration, drawings.

    The ReportData (form, findings) is made before the clock starts; its assessment is computed
    by the builder, as in the app.
    """

    data = report_data(vignette) if kind != "minimal" else None
    build = _builder(kind)
    first, second, size = _build_twice(build, data)
    return {"first_ms": first, "second_ms": second, "bytes": size}


def _build_twice(build: Any, data: Any) -> tuple[float, float, int]:
    """ms of the first and the second build of ``data`` in this process, and the PDF's size."""
    import io

    buf = io.BytesIO()
    t0 = now_ms()
    build(data, buf)
    first = now_ms() - t0
    t0 = now_ms()
    build(data, io.BytesIO())
    return first, now_ms() - t0, len(buf.getvalue())


def probe_report_after_warmup(kind: str, vignette: str, url: str) -> dict[str, Any]:
    """The first PDF of a process that started the app's window and let it warm up.

    A MainWindow on ``url`` is shown (offscreen) and the event loop spun until it has warmed up
    (``warmed()``; it preloads reportlab and the fonts when idle); then the first and second
    build of ``kind`` are timed on the same ReportData as the warm rows. Without ``is_warm`` the
    window is still made, and the build is as cold as ``report_cold``'s (reported in ``warm_up``).
    """

    qt_app()
    db = open_db(url)
    form = load_form()
    window, via = main_window(db, form, wait_warm=True)
    if window is None:
        raise RuntimeError(f"no main window to warm up: {via}")
    preloaded = "reportlab" in sys.modules
    data = report_data(vignette)
    build = _builder(kind)
    process_events()
    first, second, size = _build_twice(build, data)
    return {
        "first_ms": first,
        "second_ms": second,
        "bytes": size,
        "warm_up": dict(WARM_UP),
        "reportlab_loaded_by_window": preloaded,
    }


def probe_report_warm(vignette: str, repeats: int) -> dict[str, Any]:
    """Builds after the first (fonts registered, modules imported), interleaved per kind."""
    import io

    data = report_data(vignette)
    out: dict[str, list[float]] = {"clinician": [], "handout": [], "minimal": []}
    builders = {k: _builder(k) for k in out}
    for b in builders.values():  # warm-up
        b(data, io.BytesIO())
    pages: dict[str, int] = {}
    for _ in range(repeats):
        for k, b in builders.items():
            buf = io.BytesIO()
            t0 = now_ms()
            b(data, buf)
            out[k].append(now_ms() - t0)
            pages[k] = buf.getvalue().count(b"/Type /Page\n") or buf.getvalue().count(b"/Page ")
    return {"ms": out, "pages": pages}


def probe_password_check(repeats: int) -> dict[str, Any]:
    """One sign-in's password check with the app's argon2id parameters (issue 14), the part
    of a sign-in the clinician waits for on top of the window: ms per check."""
    try:
        from clinic_app.storage import accounts
    except ImportError:
        return {"ms": [], "why": "no accounts in this tree"}
    # the module's own hasher (private names: the harness measures, it does not sign anyone in)
    stored = accounts._hash("correct horse battery staple")
    out = []
    for _ in range(repeats):
        t0 = now_ms()
        assert accounts._verify_hash(stored, "correct horse battery staple")
        out.append(now_ms() - t0)
    h = accounts._hasher
    return {"ms": out, "params": [h.time_cost, h.memory_cost, h.parallelism]}


PROBES: dict[str, Callable[..., dict[str, Any]]] = {
    "search": probe_search,
    "password_check": probe_password_check,
    "prepare_full": probe_prepare_full,
    "open": probe_open,
    "autosave": probe_autosave,
    "engine": probe_engine,
    "access": probe_access,
    "report_cold": probe_report_cold,
    "report_after_warmup": probe_report_after_warmup,
    "report_warm": probe_report_warm,
    **episode.PROBES,
    **self_entry.PROBES,
}


def main(argv: list[str]) -> int:
    name, params = argv[1], json.loads(argv[2]) if len(argv) > 2 else {}
    result = PROBES[name](**params)
    sys.stdout.flush()
    print("RESULT " + json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # skip Qt/SQLAlchemy teardown: not part of any figure


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
