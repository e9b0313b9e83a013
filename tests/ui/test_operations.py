"""The operation runner: one worker thread, one order, results on the GUI thread, failures shown."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QMessageBox

from clinic_app.storage import records
from clinic_app.storage.errors import NotFoundError
from clinic_app.ui.operations import (
    Changes,
    OperationRunner,
    OperationTimeoutError,
    failure_text,
)
from tests.ui.helpers import press, when_modal


def _idle(qtbot, runner: OperationRunner) -> None:
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=5000)


def test_work_runs_on_one_worker_thread_and_results_come_back_on_the_gui_thread(
    qtbot, runner
) -> None:
    gui = threading.get_ident()
    ran_on: list[int] = []
    got: list[tuple[int, int]] = []

    def op(_db) -> int:
        ran_on.append(threading.get_ident())
        return len(ran_on)

    for _ in range(3):
        runner.run("Counting", op, on_success=lambda n: got.append((n, threading.get_ident())))
    assert runner.pending() == 3
    _idle(qtbot, runner)
    assert len(set(ran_on)) == 1  # one worker...
    assert ran_on[0] != gui  # ...which is not the GUI thread
    assert got == [(1, gui), (2, gui), (3, gui)]  # in the order queued, delivered on the GUI


def test_call_waits_after_what_was_queued_before_it(qtbot, runner, db) -> None:
    """One order: a read queued after a write sees the write."""
    patient = records.create_patient(db, records.PatientFields("Ana", "Order", "O-1"), user="t")

    def slow_write(db) -> None:
        time.sleep(0.2)
        records.update_patient(
            db, patient.id, records.PatientFields("Ana", "Order", "O-1", phone="42"), user="t"
        )

    runner.run("Writing", slow_write)
    phone = runner.call("Reading", lambda db: records.get_patient(db, patient.id).phone)
    assert phone == "42"
    _idle(qtbot, runner)


def test_call_raises_what_the_operation_raised(runner) -> None:
    with pytest.raises(NotFoundError):
        runner.call("Reading a patient", lambda db: records.get_patient(db, 999))


def test_call_gives_up_after_its_timeout(qtbot, runner) -> None:
    release = threading.Event()
    runner.run("Blocking", lambda _db: release.wait(5))
    with pytest.raises(OperationTimeoutError, match="did not answer within 0.05 s"):
        runner.call("Reading", lambda _db: None, timeout_s=0.05)
    release.set()
    _idle(qtbot, runner)


def test_changes_are_announced_after_the_success_handler(qtbot, runner) -> None:
    order: list[str] = []
    runner.changed.connect(lambda c: order.append(f"changed {sorted(c.patients)}"))
    runner.run(
        "Saving",
        lambda _db: 7,
        on_success=lambda n: order.append(f"success {n}"),
        changes=lambda n: Changes.patient(n),
    )
    runner.run("Reading", lambda _db: None)  # no changes: nothing announced
    _idle(qtbot, runner)
    assert order == ["success 7", "changed [7]"]


def test_changes_combine_and_know_when_they_are_empty() -> None:
    both = Changes.patient(1) | Changes.evaluation(5, 1)
    assert both.patients == {1}
    assert both.patient_list
    assert both.evaluations == {5}
    assert both.evaluations_of == {1}
    assert not Changes()
    assert Changes(clinic=True)


def test_a_failure_without_its_own_handler_is_shown_one_way(qtbot, runner) -> None:
    seen: list[tuple[str, str]] = []

    def read(box: QMessageBox) -> None:
        seen.append((box.windowTitle(), box.text()))
        press(box, "OK")

    when_modal(read)
    failed: list[str] = []
    runner.failed.connect(lambda what, _err: failed.append(what))
    runner.run("Reading patient 999", lambda db: records.get_patient(db, 999))
    qtbot.waitUntil(lambda: bool(failed), timeout=5000)
    assert seen[0][0] == "Reading patient 999"
    assert seen[0][1].startswith("Reading patient 999 did not work.\n\npatient 999 does not exist")
    assert "Nothing you typed has been lost" in seen[0][1]


def test_a_failure_with_its_own_handler_is_not_shown(qtbot, runner) -> None:
    caught: list[BaseException] = []
    runner.run("Reading", lambda db: records.get_patient(db, 999), on_failure=caught.append)
    _idle(qtbot, runner)
    assert isinstance(caught[0], NotFoundError)


def test_a_bug_is_not_explained_to_the_user_in_its_own_words() -> None:
    text = failure_text("Saving", KeyError("Müller"))
    assert "KeyError" in text
    assert "Müller" not in text  # a bug's message may hold patient data: it goes to the log


def test_a_cancelled_job_runs_but_calls_nobody(qtbot, runner) -> None:
    ran: list[int] = []
    heard: list[int] = []
    number = runner.run("Counting", lambda _db: ran.append(1), on_success=heard.append)
    runner.cancel(number)
    _idle(qtbot, runner)
    assert ran == [1]
    assert heard == []


def test_a_stopped_runner_starts_nothing_and_its_thread_has_ended(qtbot, db) -> None:
    runner = OperationRunner(db)
    thread: QThread = runner._thread
    runner.stop()
    assert thread.isFinished()
    ran: list[int] = []
    assert runner.run("Late", lambda _db: ran.append(1)) == 0
    with pytest.raises(OperationTimeoutError, match="stopped"):
        runner.call("Late", lambda _db: None)
    qtbot.wait(20)
    assert ran == []
    runner.deleteLater()


def test_an_operation_may_call_another_without_waiting_for_itself(qtbot, runner) -> None:
    """call() from inside an operation (on the worker) runs inline instead of deadlocking."""
    got: list[int] = []
    runner.run(
        "Outer",
        lambda _db: runner.call("Inner", lambda _db2: 41, timeout_s=2) + 1,
        on_success=got.append,
        on_failure=lambda _err: got.append(-1),  # the deadlock ends in a timeout: -1
    )
    _idle(qtbot, runner)
    assert got == [42]
