"""One workstation editing an evaluation, as a separate process driven line by line on stdin.

``python -m tests.reliability.workstation URL EVALUATION_ID USER``; commands, one per line:

- ``load`` -- read the evaluation; prints ``{"loaded": version}``
- ``save JSON`` -- ``save_draft`` the findings JSON over the loaded version; prints
  ``{"saved": version}`` or ``{"conflict": {...}}`` (who, their version, their findings, message)
  or ``{"error": type, "message": ...}``
- ``quit``

Two of these started on the same database are two clinicians at two computers.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def main() -> int:
    url, evaluation_id, user = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database
    from clinic_app.storage.errors import ConflictError

    db = open_database(url, backup=False)
    version = 0

    def say(**out: Any) -> None:
        sys.stdout.write(json.dumps(out, default=str) + "\n")
        sys.stdout.flush()

    say(ready=True)
    try:
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "load":
                version = records.get_evaluation(db, evaluation_id).version
                say(loaded=version)
            elif command == "save":
                try:
                    saved = records.save_draft(
                        db, evaluation_id, json.loads(arg), version, user=user
                    )
                except ConflictError as err:
                    say(
                        conflict={
                            "changed_by": err.changed_by,
                            "current_version": err.current_version,
                            "their_findings": err.their_findings,
                            "message": str(err),
                        }
                    )
                except Exception as exc:
                    say(error=type(exc).__name__, message=str(exc))
                else:
                    version = saved.version
                    say(saved=saved.version, changed=saved.changed)
            elif command == "quit":
                break
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
