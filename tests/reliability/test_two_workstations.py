"""Two workstations save the same evaluation at the same moment: one wins, the other is told.

Two real processes (``tests.reliability.workstation``) load the same draft and are told to save
different findings at the same instant, round after round, on SQLite and on PostgreSQL. In every
round exactly one save is stored; the other gets a conflict naming who saved and carrying their
findings (so a screen can show both versions), and nothing is overwritten: the stored findings
are the winner's, the version went up by one, and exactly one save was audited. The editor's
autosaver, on a conflict, keeps the clinician's unsaved findings instead of dropping them.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
from typing import Any

from clinic_app.core.findings import validate
from clinic_app.storage import records
from clinic_app.storage.database import open_database
from tests.reliability.helpers import (
    REPO,
    autosaver,
    child_env,
    findings,
    seed_records,
    small_form,
)

ROUNDS = 8


class Workstation:
    def __init__(self, url: str, evaluation_id: int, user: str) -> None:
        self.user = user
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.workstation", url, str(evaluation_id), user],
            cwd=REPO,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.read() == {"ready": True}

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def read(self, timeout: float = 60) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            err = (
                self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
            )
            raise AssertionError(f"workstation {self.user} said nothing: {err[-2000:]}")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            self.send("quit")
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _saves(db: Any, evaluation_id: int) -> int:
    events = records.audit_events(db, entity="evaluation", entity_id=evaluation_id, limit=10_000)
    return sum(1 for e in events if e.action == "save_draft")


def test_simultaneous_saves_from_two_processes_conflict_and_overwrite_nothing(
    database_url: str,
) -> None:
    form = small_form()
    with open_database(database_url, backup=False) as db:
        ev = seed_records(db, form)
    desks = [
        Workstation(database_url, ev.id, "Alex at desk 1"),
        Workstation(database_url, ev.id, "Blake at desk 2"),
    ]
    winners: list[str] = []
    try:
        for n in range(ROUNDS):
            for desk in desks:
                desk.send("load")
            loaded = [desk.read()["loaded"] for desk in desks]
            assert loaded[0] == loaded[1]
            mine = {
                desk.user: findings(form, notes=f"{desk.user}, round {n}", pain_now=(n + k) % 11)
                for k, desk in enumerate(desks)
            }
            for desk in desks:  # as close together as two processes can be told
                desk.send("save " + json.dumps(mine[desk.user]))
            results = {desk.user: desk.read() for desk in desks}
            saved = [user for user, r in results.items() if "saved" in r]
            conflicted = [user for user, r in results.items() if "conflict" in r]
            assert len(saved) == 1, results
            assert len(conflicted) == 1, results
            winner, loser = saved[0], conflicted[0]
            winners.append(winner)
            conflict = results[loser]["conflict"]
            assert conflict["changed_by"] == winner
            assert winner in conflict["message"]
            assert conflict["their_findings"]["values"] == mine[winner]["values"]
            assert results[winner]["saved"] == loaded[0] + 1
            with open_database(database_url, backup=False) as db:
                stored = records.get_evaluation(db, ev.id)
                assert stored.findings["values"] == mine[winner]["values"]
                assert stored.version == loaded[0] + 1
                assert stored.updated_by == winner
                assert _saves(db, ev.id) == n + 1
    finally:
        for desk in desks:
            desk.close()


def test_autosaver_keeps_the_clinicians_findings_on_a_conflict(qtbot, database_url: str) -> None:
    form = small_form()
    with open_database(database_url, backup=False) as setup:
        ev = seed_records(setup, form)
    with (
        open_database(database_url, backup=False) as db1,
        open_database(database_url, backup=False) as db2,
        autosaver(db1, records.get_evaluation(db1, ev.id), "Alex at desk 1") as first,
        autosaver(db2, records.get_evaluation(db2, ev.id), "Blake at desk 2") as second,
    ):
        theirs = validate(form, findings(form, notes="desk 1 note", pain_now=3))
        mine = validate(form, findings(form, notes="desk 2 note", pain_now=7))
        first.on_findings_changed(theirs)
        assert first.flush()
        second.on_findings_changed(mine)
        with qtbot.waitSignal(second.conflicted, timeout=10_000) as signal:
            assert not second.flush()
        err = signal.args[0]
        assert err.changed_by == "Alex at desk 1"
        assert dict(err.their_findings)["values"] == theirs.to_dict()["values"]
        assert second.has_pending()
        assert second.pending == mine
        stored = records.get_evaluation(db1, ev.id)
        assert stored.findings["values"] == theirs.to_dict()["values"]
        # More typing while the conflict is open, then closing the window (flush), does not save
        # over theirs either: the clinician has not chosen yet.
        second.on_findings_changed(validate(form, findings(form, notes="desk 2 more", pain_now=8)))
        assert not second.flush()
        assert second.has_pending()
        assert records.get_evaluation(db1, ev.id).version == stored.version
