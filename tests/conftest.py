"""Session-wide test settings: Qt offscreen, a private data folder, no user settings touched."""

from __future__ import annotations

import os

# Must be set before any Qt import: tests run headless, on CI and on a developer's desktop alike.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")
