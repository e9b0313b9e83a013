"""Episode-of-care figures (issue 15), on a 30-visit episode built for each run.

``run.py --only episode`` builds, in a temporary SQLite clinic of its own (``.cache/work/``, made
anew each run, never a cached clinic), the demo (``clinic-app demo``: clinic, clinicians, demo
patients) plus one patient with a 30-visit episode: a signed initial evaluation, a plan of care,
the demo episode's goals, 30 visit notes re-measuring the demo's items (every 10th followed by a
re-evaluation, at which each goal is set to the status suggested), all signed but the last two.
Its values come from the demo episode's files (``resources/demo/lukasz_nowak_left_thigh``).
Then, each in a process of its own:

- **episode: timeline** — ``records.timeline(db, episode_id)``; target ≤ 50 ms.
- **episode: note text** — ``clinic_app.reports.note.note_text(db, id)`` of the latest signed
  visit note and of the initial evaluation; target ≤ 20 ms.
- **episode: progress report** — ``write_progress_report(db, episode_id, "progress", path)`` after
  the first build of the process (reported apart, with reportlab's import and fonts); target
  ≤ 200 ms.
- **episode: open a visit note** — ``probe_open`` (see ``probes.py``) with visit notes: get +
  ``MainWindow.open_evaluation`` + the events that follow, after the window's warm-up; the first
  open of the process apart; target ≤ 50 ms. The note says whether the visit note's own view
  (``EvaluationPage.visit``) opened it, and the figure as a multiple of a bare window's repaint
  measured in the same run (``probe_bare_window``: comparable across a quiet and a loaded
  machine).

A part of the app that is not there yet gives a row saying "not available" instead of a number,
so the harness runs while the episode work lands piece by piece.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

VISITS = 30
REVIEW_EVERY = 10  # a re-evaluation after every 10th visit (the progress-report default)
SIZE = f"{VISITS} visits"
TARGETS = {"timeline_ms": 50.0, "note_ms": 20.0, "progress_report_ms": 200.0, "open_visit_ms": 50.0}
CHART_TARGETS = {"qt_ms": 30.0, "pdf_ms": 50.0, "score_ms": 1.0}  # issue 16
CHART_VISITS = 50
USER = "benchmark"


def now_ms() -> float:
    return time.perf_counter_ns() / 1e6


def available(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` if it can be imported, else None (that part of the app is not there)."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


# --------------------------------------------------------------------------------------------
# Building the episode (in a probe process)


def build_episode(db: Any, form: Any, visits: int = VISITS, today: date | None = None) -> dict:
    """One patient with a ``visits``-visit episode in ``db`` (which already holds the demo)."""
    from clinic_app.storage import demo
    from clinic_app.storage import records as r

    today = today or date.today()
    story = demo.EPISODES[0]
    clinician = r.list_clinicians(db)[0]
    user = clinician.name
    patient = r.create_patient(
        db, r.PatientFields("Episode", "Benchmark", "BENCH-EPISODE-1"), user=USER
    )
    days = visits * 3 + 10
    start = today - timedelta(days=days)
    info = r.EpisodeInfo(**story.details, start_date=start)
    episode = r.create_episode(db, patient.id, info, user=user)
    by_kind: dict[str, list[Any]] = {}
    for record in story.records:
        by_kind.setdefault(record.kind, []).append(record.values)

    def add(kind: str, on: date, values: Any, sign: bool) -> int:
        ev = r.start_evaluation(
            db,
            patient.id,
            form,
            user=user,
            kind=kind,  # type: ignore[arg-type]
            clinician_id=clinician.id,
            eval_date=on,
            episode_id=episode.id,
        )
        saved = r.save_draft(db, ev.id, demo.demo_findings(form, values), ev.version, user=user)
        if sign:
            r.sign_evaluation(db, ev.id, saved.version, user=user)
        return int(ev.id)

    initial = add("initial", start, by_kind["initial"][0], True)
    for _day, plan in story.plans[:1]:
        r.save_plan(db, episode.id, r.PlanInfo(**plan, start_date=start), user=user)
    for goal in story.goals:
        target_date = start + timedelta(weeks=goal.weeks) if goal.weeks else None
        r.add_goal(
            db, episode.id, r.GoalInfo(**goal.info, target_date=target_date), user=user, form=form
        )
    visit_ids: list[int] = []
    reviews: list[int] = []
    for n in range(visits):
        on = start + timedelta(days=3 * (n + 1))
        values = by_kind["visit"][n % len(by_kind["visit"])]
        visit_ids.append(add("visit", on, values, n < visits - 2))
        if (n + 1) % REVIEW_EVERY == 0 and n + 1 < visits:
            reviews.append(add("re_evaluation", on, by_kind["re_evaluation"][0], True))
            _review_goals(db, form, episode, on, user)
    signed = visit_ids[: visits - 2]
    richest = max(signed, key=lambda i: len(r.get_evaluation(db, i).values))
    return {
        "episode_id": int(episode.id),
        "patient_id": int(patient.id),
        "initial_id": initial,
        "visit_ids": visit_ids,
        "review_ids": reviews,
        "latest_signed_visit": signed[-1],
        "richest_visit": richest,
        "records": len(r.episode_records(db, episode.id)),
    }


def _review_goals(db: Any, form: Any, episode: Any, on: date, user: str) -> None:
    """Each goal set to the status the records so far suggest, on ``on`` (a goal history)."""
    from datetime import UTC, datetime, time

    from clinic_app.core import progress
    from clinic_app.storage import records as r

    records = [
        progress.Record(e.id, e.kind, e.eval_date, e.values, e.status)
        for e in r.episode_records(db, episode.id)
    ]
    goals = r.list_goals(db, episode.id)
    shown = progress.goal_progress(form, goals, records, involved=episode.involved_side, today=on)
    at = min(datetime.combine(on, time(12), tzinfo=UTC), datetime.now(UTC))
    for goal, g in zip(goals, shown, strict=True):
        if g.suggested != goal.status:
            r.set_goal_status(db, goal.id, g.suggested, goal.version, user=user, at=at)


def probe_episode_build(url: str, visits: int = VISITS) -> dict[str, Any]:
    """The demo and the benchmark episode in the empty clinic at ``url``."""
    import probes  # benchmarks/ is the probe process's script folder

    from clinic_app.storage.demo import fill_demo

    db = probes.open_db(url)
    form = probes.load_form()
    t0 = now_ms()
    fill_demo(db, form)
    built = build_episode(db, form, visits)
    built["build_ms"] = now_ms() - t0
    return built


# --------------------------------------------------------------------------------------------
# Measuring (in a probe process)


def _samples(call: Callable[[], Any], repeats: int) -> tuple[float, list[float], list[float]]:
    """ms of the first call, and wall and CPU ms (this process's ``process_time``) of
    ``repeats`` calls after it. CPU time is what a busy shared machine inflates least."""
    t0 = now_ms()
    call()
    first = now_ms() - t0
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time_ns(), now_ms()
        call()
        wall.append(now_ms() - t0)
        cpu.append((time.process_time_ns() - c0) / 1e6)
    return first, wall, cpu


def probe_episode(
    url: str, built: dict[str, Any], repeats: int, report_repeats: int
) -> dict[str, Any]:
    """Timeline, note text and progress report of the built episode (see the module's text)."""
    import probes

    from clinic_app.storage import records as r

    db = probes.open_db(url)
    episode_id = built["episode_id"]
    out: dict[str, Any] = {}
    first, samples, cpu = _samples(lambda: r.timeline(db, episode_id), repeats)
    out["timeline"] = {
        "first_ms": first,
        "ms": samples,
        "cpu_ms": cpu,
        "entries": len(r.timeline(db, episode_id)),
    }
    note_text = available("clinic_app.reports.note", "note_text")
    if note_text is None:
        out["note"] = {"missing": "clinic_app.reports.note.note_text"}
    else:
        visit, initial = built["latest_signed_visit"], built["initial_id"]
        first_visit, visit_ms, visit_cpu = _samples(lambda: note_text(db, visit), repeats)
        first_eval, eval_ms, eval_cpu = _samples(lambda: note_text(db, initial), repeats)
        out["note"] = {
            "visit_first_ms": first_visit,
            "visit_ms": visit_ms,
            "visit_cpu_ms": visit_cpu,
            "evaluation_cpu_ms": eval_cpu,
            "visit_chars": len(note_text(db, visit)),
            "evaluation_first_ms": first_eval,
            "evaluation_ms": eval_ms,
            "evaluation_chars": len(note_text(db, initial)),
        }
    write = available("clinic_app.reports.progress_report", "write_progress_report")
    if write is None:
        out["report"] = {"missing": "clinic_app.reports.progress_report.write_progress_report"}
    else:
        folder = Path(tempfile.mkdtemp(prefix="bench-progress-"))
        path = folder / "progress.pdf"
        try:
            first, samples, cpu = _samples(
                lambda: write(db, episode_id, "progress", path), report_repeats
            )
            out["report"] = {
                "first_ms": first,
                "ms": samples,
                "cpu_ms": cpu,
                "bytes": path.stat().st_size,
            }
            try:
                from pypdf import PdfReader

                out["report"]["pages"] = len(PdfReader(str(path)).pages)
            except ImportError:
                pass
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return out


def probe_open_visit_via(url: str, visit_id: int) -> dict[str, Any]:
    """Whether the window opens a visit note in its own view (``EvaluationPage.visit``)."""
    import probes

    from clinic_app.storage import records as r

    probes.qt_app()
    db = probes.open_db(url)
    window, via = probes.main_window(db, probes.load_form())
    if window is None:
        return {"via": via, "visit_view": None}
    ev = r.get_evaluation(db, visit_id)
    window.open_evaluation(ev, r.get_patient(db, ev.patient_id))
    probes.process_events()
    page = getattr(window, "page", None)
    view = getattr(page, "view", None)
    return {
        "via": via,
        "visit_view": getattr(page, "visit", None) is not None,
        "view_class": type(view).__name__ if view is not None else None,
    }


def probe_bare_window(repeats: int) -> dict[str, Any]:
    """The same machine's floor for what an open does on screen, done by bare Qt: a
    QMainWindow (the app's style sheet, 1280×800, offscreen) with two pages of 20 rows (a label
    and two line edits each, as a visit note's page of bilateral items); a sample refills the
    hidden page's fields, shows it, and runs the events that follow (layout, repaint), as
    ``probe_open`` stops its clock. The open's figure over this one reads alike on a quiet and
    on a loaded machine (as the start figure's "× bare")."""
    import probes
    from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QMainWindow, QStackedWidget
    from PySide6.QtWidgets import QWidget as Page

    probes.qt_app()
    window = QMainWindow()
    stack = QStackedWidget(window)
    fields: list[list[QLineEdit]] = []
    for _ in range(2):
        page = Page(stack)
        grid = QGridLayout(page)
        edits = []
        for row in range(20):
            grid.addWidget(QLabel(f"Item {row}", page), row, 0)
            for col in (1, 2):
                edit = QLineEdit(page)
                grid.addWidget(edit, row, col)
                edits.append(edit)
        stack.addWidget(page)
        fields.append(edits)
    window.setCentralWidget(stack)
    window.resize(1280, 800)
    window.show()
    probes.process_events()
    ms: list[float] = []
    for n in range(max(repeats, 5)):
        t0 = now_ms()
        page_index = (n + 1) % 2
        for edit in fields[page_index]:
            edit.setText(str(n))
        stack.setCurrentIndex(page_index)
        probes.process_events()
        ms.append(now_ms() - t0)
    return {"ms": ms}


def probe_charts(repeats: int) -> dict[str, Any]:
    """A 50-visit Nordic chart drawn by both painters, and LEFS scoring (issue 16's figures).

    Qt: describe + lay out + paint into the widget + grab it as a QImage; PDF: describe + lay
    out + draw the Flowable on a page of a canvas (the document's fonts are registered once per
    process, as in a report)."""
    import io
    from datetime import timedelta

    from PySide6.QtWidgets import QApplication
    from reportlab.pdfgen.canvas import Canvas

    from clinic_app.core import chart as ch
    from clinic_app.core.form import load_form
    from clinic_app.core.progress import Record
    from clinic_app.core.questionnaire import shipped
    from clinic_app.core.scoring import parse_answers, score
    from clinic_app.paths import default_form_path
    from clinic_app.reports.chart_pdf import chart_flowable
    from clinic_app.ui.chart_widget import ChartWidget

    app = QApplication.instance() or QApplication(["bench"])
    form = load_form(default_form_path())
    start = date(2026, 1, 5)
    recs = [
        Record(
            n,
            "visit",
            start + timedelta(days=3 * n),
            {"nordic_force": {"left": 200 + 2 * n, "right": 300 + (n % 5)}},
        )
        for n in range(CHART_VISITS)
    ]
    widget = ChartWidget(ch.measure_chart(form, "nordic_force", recs))
    widget.resize(480, 240)
    widget.show()
    app.processEvents()

    def qt() -> None:
        widget.set_chart(ch.measure_chart(form, "nordic_force", recs))
        widget.grab().toImage()

    def pdf() -> None:
        canvas = Canvas(io.BytesIO())
        chart_flowable(ch.measure_chart(form, "nordic_force", recs), 480, 240).drawOn(
            canvas, 40, 400
        )
        canvas.showPage()

    lefs = shipped("lefs")
    answers = parse_answers(
        lefs, {"questionnaire": "lefs", "answers": {f"q{n:02d}": n % 5 for n in range(1, 21)}}
    )
    first_qt = now_ms()
    qt()
    first_qt = now_ms() - first_qt
    _, qt_ms, qt_cpu = _samples(qt, repeats)
    _, pdf_ms, pdf_cpu = _samples(pdf, repeats)
    _, score_ms, _ = _samples(lambda: score(lefs, answers), repeats * 10)
    return {
        "qt_first_ms": first_qt,
        "qt_ms": qt_ms,
        "qt_cpu_ms": qt_cpu,
        "pdf_ms": pdf_ms,
        "pdf_cpu_ms": pdf_cpu,
        "score_ms": score_ms,
    }


def chart_rows(bench: Any, h: ModuleType) -> None:
    Row, p50, pct = h.Row, h.p50, h.pct
    r = h.run_probe("episode_charts", {"repeats": 10 if bench.args.quick else 30})
    bench.raw.setdefault("episode", {})["charts"] = r
    for label, key, note in (
        ("chart of 50 visits, Qt (describe, paint, grab)", "qt", "ChartWidget 480×240"),
        ("chart of 50 visits, PDF (describe, draw on a page)", "pdf", "chart_flowable 480×240"),
    ):
        ms = r[f"{key}_ms"]
        target = CHART_TARGETS[f"{key}_ms"]
        bench.rows.append(
            Row(
                f"charts: {label}",
                f"{CHART_VISITS} visits",
                p50(ms),
                pct(ms, 95),
                "ms",
                f"≤ {target:.0f}",
                p50(ms) <= target,
                f"{note}; CPU p50 {p50(r[f'{key}_cpu_ms']):.1f} ms",
            )
        )
    ms = r["score_ms"]
    bench.rows.append(
        Row(
            "questionnaires: score a LEFS answer set",
            "20 items",
            p50(ms),
            pct(ms, 95),
            "ms",
            "≤ 1",
            p50(ms) <= CHART_TARGETS["score_ms"],
            "core.scoring.score",
        )
    )


PROBES = {
    "episode_charts": probe_charts,
    "episode_build": probe_episode_build,
    "episode": probe_episode,
    "episode_open_via": probe_open_visit_via,
    "episode_bare_window": probe_bare_window,
}


# --------------------------------------------------------------------------------------------
# The rows (in run.py's process)


def measure(bench: Any, h: ModuleType) -> None:
    """Build the episode, run the probes and add the rows to ``bench`` (``h``: run.py)."""
    Row, p50, pct = h.Row, h.p50, h.pct
    args = bench.args
    repeats = 20 if args.quick else 10 * args.start_repeats
    report_repeats = 3 if args.quick else max(5, args.start_repeats)
    folder = Path(tempfile.mkdtemp(prefix="episode-", dir=h.WORK))
    url = h.url_of(folder / "clinic.db")
    try:
        bench.log(f"episode: building a {VISITS}-visit episode in {folder.name}")
        built = h.run_probe("episode_build", {"url": url, "visits": VISITS})
        bench.log(f"episode: {built['records']} records built in {built['build_ms']:,.0f} ms")
        r = h.run_probe(
            "episode",
            {"url": url, "built": built, "repeats": repeats, "report_repeats": report_repeats},
        )
        r["built"] = built
        bench.raw["episode"] = r
        size = SIZE

        def missing(figure: str, what: str, target: str) -> None:
            bench.rows.append(
                Row(figure, size, None, None, "ms", target, None, f"not available: {what}")
            )

        t = r["timeline"]
        bench.rows.append(
            Row(
                "episode: patient timeline (records.timeline)",
                size,
                p50(t["ms"]),
                pct(t["ms"], 95),
                "ms",
                f"≤ {TARGETS['timeline_ms']:.0f}",
                p50(t["ms"]) <= TARGETS["timeline_ms"],
                f"{built['records']} records, {t['entries']} timeline lines; CPU p50"
                f" {p50(t['cpu_ms']):.1f} ms; first call of the process {t['first_ms']:.1f} ms;"
                f" {len(t['ms'])} calls",
            )
        )
        n = r["note"]
        note_target = f"≤ {TARGETS['note_ms']:.0f}"
        if "missing" in n:
            missing("episode: note text (reports.note.note_text)", n["missing"], note_target)
        else:
            for label, key in (("visit note", "visit"), ("initial evaluation", "evaluation")):
                ms = n[f"{key}_ms"]
                bench.rows.append(
                    Row(
                        f"episode: note text of the {label}",
                        size,
                        p50(ms),
                        pct(ms, 95),
                        "ms",
                        note_target,
                        p50(ms) <= TARGETS["note_ms"],
                        f"reports.note.note_text; {n[f'{key}_chars']:,} characters; CPU p50"
                        f" {p50(n[f'{key}_cpu_ms']):.1f} ms; first call of the process"
                        f" {n[f'{key}_first_ms']:.1f} ms",
                    )
                )
        rep = r["report"]
        report_target = f"≤ {TARGETS['progress_report_ms']:.0f}"
        if "missing" in rep:
            missing("episode: progress report PDF", rep["missing"], report_target)
        else:
            pages = f", {rep['pages']} page(s)" if "pages" in rep else ""
            bench.rows.append(
                Row(
                    "episode: progress report PDF (write_progress_report)",
                    size,
                    p50(rep["ms"]),
                    pct(rep["ms"], 95),
                    "ms",
                    report_target,
                    p50(rep["ms"]) <= TARGETS["progress_report_ms"],
                    f"to a file, {rep['bytes'] / 1024:.0f} KiB{pages}; CPU p50"
                    f" {p50(rep['cpu_ms']):.0f} ms; builds after the first of the process;"
                    f" {len(rep['ms'])} builds",
                )
            )
            bench.rows.append(
                Row(
                    "  progress report, first build of the process",
                    size,
                    rep["first_ms"],
                    None,
                    "ms",
                    "",
                    None,
                    "informational: reportlab import and font registration included",
                )
            )
        _open_visit(bench, h, url, built)
        chart_rows(bench, h)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _open_visit(bench: Any, h: ModuleType, url: str, built: dict[str, Any]) -> None:
    Row, p50, pct = h.Row, h.p50, h.pct
    target = f"≤ {TARGETS['open_visit_ms']:.0f}"
    via = h.run_probe("episode_open_via", {"url": url, "visit_id": built["richest_visit"]})
    if via.get("visit_view") is None:
        note = f"not available: {via['via']}"
        bench.rows.append(
            Row("episode: open a visit note", SIZE, None, None, "ms", target, None, note)
        )
        return
    # The probe of "open an evaluation", once with signed visit notes (its "full" evaluation is
    # the visit note holding the most items: the process's first open, then reopened with five
    # others) and once with the two drafts (opening a signed record also checks its seal and
    # shows it read-only).
    drafts = built["visit_ids"][-2:]
    signed = [v for v in built["visit_ids"][-8:-2] if v != built["richest_visit"]][:5]
    runs: dict[str, Any] = {}
    for kind, ids, full in (
        ("signed", signed, built["richest_visit"]),
        ("draft", drafts[:1], drafts[1]),
    ):
        params = {"url": url, "evaluation_ids": ids, "repeats": bench.args.open_repeats}
        runs[kind] = h.run_probe("open", {**params, "full_id": full})
        runs[kind]["opened"] = len(ids) + 1
    bare = h.run_probe("episode_bare_window", {"repeats": 10 * bench.args.open_repeats})["ms"]
    bench.raw.setdefault("episode", {})["open_visit"] = {**runs, "visit_view": via, "bare": bare}
    how = (
        "the visit note's own view"
        if via["visit_view"]
        else f"NOT the visit note's view ({via.get('view_class')})"
    )
    for kind in ("signed", "draft"):
        x = runs[kind]
        both = x["generated_ms"] + x["full_ms"]
        bench.rows.append(
            Row(
                f"episode: open a {kind} visit note into the window",
                SIZE,
                p50(both),
                pct(both, 95),
                "ms",
                target,
                p50(both) <= TARGETS["open_visit_ms"],
                f"{x['via']}, {how}; {x['opened']} {kind} visit note(s) ×"
                f" {bench.args.open_repeats} after the window's warm-up; CPU p50"
                f" {p50(x.get('cpu_ms') or [float('nan')]):.0f} ms;"
                f" {p50(both) / p50(bare):.1f}× bare (bare Qt refilling and showing a page"
                f" of 20 rows, p50 {p50(bare):.1f} ms this run)",
            )
        )
        if kind == "signed":
            bench.rows.append(
                Row(
                    "  first visit note opened after start (after warm-up)",
                    SIZE,
                    x["first_open_ms"],
                    None,
                    "ms",
                    target,
                    x["first_open_ms"] <= TARGETS["open_visit_ms"],
                    f"the process's first open (the signed visit note with the most items);"
                    f" {h.warm_up_note([x['warm_up']])};"
                    f" {x['first_open_ms'] / p50(bare):.1f}× bare",
                )
            )
