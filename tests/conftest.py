"""Session-wide test settings: Qt offscreen, a private data folder, no user settings touched."""

from __future__ import annotations

import os
import tempfile

# Must be set before any Qt import: tests run headless, on CI and on a developer's desktop alike.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Commands run by tests without a data folder log here, never into the user's own log folder.
os.environ.setdefault("CLINIC_APP_LOG_DIR", tempfile.mkdtemp(prefix="clinic_app_test_logs_"))
# A test that sets no data folder of its own gets a throwaway one: the signing key, the record of
# the last committed state (storage/state.py) and backups never land in the user's real folder.
os.environ.setdefault("CLINIC_APP_DATA_DIR", tempfile.mkdtemp(prefix="clinic_app_test_data_"))
# Tests that name no data folder of their own (signing key, last committed state) use a private
# one, never the user's (storage tests and most others set their own in tmp_path).
os.environ.setdefault("CLINIC_APP_DATA_DIR", tempfile.mkdtemp(prefix="clinic_app_test_data_"))
os.environ.setdefault("QT_QUICK_BACKEND", "software")
# New SQLite clinics are encrypted with SQLCipher by default (issue 14); most tests read the raw
# file with sqlite3 to check what is stored, so their new clinics are plain. Encryption is tested
# in its own files (tests/storage/test_encryption*.py), which unset this.
os.environ.setdefault("CLINIC_APP_ENCRYPTION", "off")
