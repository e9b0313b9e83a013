"""The PostgreSQL server goes down mid-session and comes back: nothing typed is lost.

A private cluster (``own_postgres``; the shared one serves other tests) is stopped with
``pg_ctl -m immediate`` -- what a crashed or unplugged clinic server looks like -- while a draft is
being edited. A save during the outage must fail with a message naming the server (not a
traceback), the autosaver must keep the findings, and once the server is back its own retry must
store them; the database must hold every save made before the outage.
"""

from __future__ import annotations

import pytest

from clinic_app.core.findings import validate
from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.storage.errors import StorageError
from tests.reliability.helpers import USER, autosaver, findings, seed_records, small_form

REPORT_WITHIN_MS = 30_000


@pytest.mark.postgres
@pytest.mark.slow
def test_server_crash_mid_session_keeps_the_typing_and_saves_it_when_back(
    qtbot, own_postgres
) -> None:
    form = small_form()
    url = own_postgres.url
    with open_database(url, backup=False) as db:
        ev = seed_records(db, form)
        before = records.save_draft(db, ev.id, findings(form, pain_now=2), ev.version, user=USER)
        ev = records.get_evaluation(db, ev.id)
        typed = validate(form, findings(form, pain_now=5, notes="typed while the server was down"))
        with autosaver(db, ev, USER, delay_ms=50) as saver:
            failures: list[str] = []
            saver.failed.connect(failures.append)
            own_postgres.crash()
            with pytest.raises(StorageError) as caught:
                records.get_evaluation(db, ev.id)
            assert "127.0.0.1" in str(caught.value), str(caught.value)
            with qtbot.waitSignal(saver.failed, timeout=REPORT_WITHIN_MS):
                saver.on_findings_changed(typed)
            assert saver.has_pending()
            assert "127.0.0.1" in failures[0], failures
            assert "Traceback" not in failures[0]
            own_postgres.start()
            with qtbot.waitSignal(saver.saved, timeout=REPORT_WITHIN_MS):
                pass
            assert not saver.has_pending()
        stored = records.get_evaluation(db, ev.id)
    assert stored.findings["values"] == typed.to_dict()["values"]
    assert stored.version == before.version + 1
