"""Child process of the write-crash test: save drafts back to back until killed.

``python -m tests.reliability.writer URL EVALUATION_ID LOG``. Each round saves findings whose
note carries the round number; before the call it logs ``{"try": n}``, after ``save_draft``
returns (the transaction is committed) it logs ``{"done": n, "version": v}``, each line fsync'd.
The parent kills it with SIGKILL at a random moment -- very likely inside a transaction.
"""

from __future__ import annotations

import json
import os
import sys


def note(n: int) -> str:
    return f"round {n}: " + "x" * (n % 200)


def main() -> int:
    url, evaluation_id, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database

    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def log(**entry: object) -> None:
        os.write(fd, (json.dumps(entry) + "\n").encode())
        os.fsync(fd)

    db = open_database(url, backup=False)
    evaluation = records.get_evaluation(db, evaluation_id)
    version = evaluation.version
    form_id, form_version = evaluation.form_id, evaluation.form_version
    log(ready=True)
    n = 0
    while True:
        n += 1
        log(**{"try": n})
        values = {"notes": note(n), "pain_now": n % 11}
        saved = records.save_draft(
            db,
            evaluation_id,
            {"form": form_id, "form_version": form_version, "values": values},
            version,
            user="writer",
        )
        version = saved.version
        log(done=n, version=version)


if __name__ == "__main__":
    sys.exit(main())
