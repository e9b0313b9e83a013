"""Run one storage operation in a fresh process and print what happened as one JSON line.

``python -m tests.reliability.probe ACTION [ARGS] [--fsize-limit BYTES]``; actions:
``open [URL]``, ``copy SOURCE DEST``, ``backup SOURCE FOLDER``, ``restore CANDIDATE TARGET``.

The fault tests run it as a separate process so that the fault can be real: without root's
capabilities (read-only folders), or with a file-size limit (a full disk: RLIMIT_FSIZE with
SIGXFSZ ignored makes every write past the limit fail with EFBIG, as ENOSPC would).
The printed ``error`` is the exception type, ``storage_error`` whether it is one of the storage
errors a screen shows as it is, ``message`` its text. An unexpected exception still prints the
JSON line, then re-raises (so the traceback is in stderr for the report).
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
from pathlib import Path


def _run(action: str, args: list[str]) -> str:
    from clinic_app.storage import backup

    if action == "open":
        from clinic_app.storage.database import open_database

        with open_database(args[0] if args else None) as db:
            return str(db.path or db.display_url)
    if action == "copy":
        return str(backup.copy_database(Path(args[0]), Path(args[1])))
    if action == "backup":
        return str(backup.make_backup(Path(args[0]), "manual", directory=Path(args[1])))
    if action == "restore":
        return str(backup.restore(Path(args[0]), Path(args[1])).restored_from)
    raise SystemExit(f"unknown action {action}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("action")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--fsize-limit", type=int)
    ns = parser.parse_args()
    if ns.fsize_limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (ns.fsize_limit, ns.fsize_limit))
    from clinic_app.storage.errors import StorageError

    try:
        result = _run(ns.action, ns.args)
    except Exception as exc:
        out = {
            "ok": False,
            "error": type(exc).__name__,
            "storage_error": isinstance(exc, StorageError),
            "message": str(exc),
        }
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        if not isinstance(exc, StorageError):
            raise
        return 1
    sys.stdout.write(json.dumps({"ok": True, "result": result}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
