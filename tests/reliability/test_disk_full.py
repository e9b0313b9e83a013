"""The disk fills up while drafts are being saved: the failing save says so, nothing is damaged.

A child process saves ever longer notes into one draft under a file-size limit (RLIMIT_FSIZE with
SIGXFSZ ignored: writes past the limit fail with EFBIG, as on a full disk) until a save fails.
The failure must be a storage error naming the database; afterwards, with room again, the
database must pass the integrity check and hold exactly the last save that succeeded.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from clinic_app.storage import records
from clinic_app.storage.database import open_database
from tests.reliability import report
from tests.reliability.helpers import child_env, run_python, seed_records, small_form

FILLER = """
import json, resource, signal, sys
from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.storage.errors import StorageError

url, evaluation_id, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = open_database(url, backup=False)
ev = records.get_evaluation(db, evaluation_id)
version, last_ok = ev.version, None
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
for n in range(1, 2000):
    note = f"save {n}: " + "x" * (n * 1000)
    findings = {"form": ev.form_id, "form_version": ev.form_version, "values": {"notes": note}}
    try:
        version = records.save_draft(db, evaluation_id, findings, version, user="filler").version
        last_ok = n
    except Exception as exc:
        print(json.dumps({"last_ok": last_ok, "error": type(exc).__name__,
                          "storage_error": isinstance(exc, StorageError), "message": str(exc)}))
        break
"""


def test_disk_full_during_autosaves_fails_cleanly_and_keeps_the_last_save(tmp_path: Path) -> None:
    db_file = tmp_path / "clinic.db"
    url = f"sqlite:///{db_file}"
    form = small_form()
    form_data = json.loads(json.dumps(form.model_dump(mode="json", by_alias=True)))
    form_data["sections"][0]["items"][-1]["max_length"] = 10_000_000
    from clinic_app.core.form import parse_form

    roomy = parse_form(form_data, "roomy form")
    with open_database(url, backup=False) as db:
        ev = seed_records(db, roomy)
    limit = db_file.stat().st_size + 256 * 1024
    proc = run_python(FILLER, url, str(ev.id), str(limit), env=child_env())
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no save failed under a {limit}-byte limit: {proc.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert result["last_ok"], result
    conn = sqlite3.connect(db_file)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    with open_database(url, backup=False) as db:
        stored = records.get_evaluation(db, ev.id).findings["values"]["notes"]
    n = result["last_ok"]
    assert stored == f"save {n}: " + "x" * (n * 1000), "the last successful save was not kept"
    assert result["storage_error"], f"a {result['error']} reached the caller: {result['message']}"
    assert str(db_file) in result["message"], result["message"]
    report.add(f"disk full while saving: after {n} saves the next failed: {result['message']}")
