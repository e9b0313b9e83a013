"""The PySide6 desktop interface.

Importing the package first works around a reference-counting bug of PySide6 6.12.0 on CPython
3.11 (found in this session; not seen with 6.11.3): every call of a Qt method that returns
nothing (``QLabel.setText``, ``QPainter.drawLine``, ``widget.hide``...) hands back ``None``
without the reference it owes, so ``None``'s count falls by one per call until, after some
tens of thousands of calls, Python aborts the whole process with "none_dealloc: deallocating
None". A therapist's afternoon of typing makes that many calls. From Python 3.12 on, ``None``
is immortal and the bug is harmless; here it is made as good as immortal the same way, once, by
raising its count far beyond what any session could lose (2**48 calls). ``None`` is never
freed by the interpreter anyway, so nothing else changes. Remove this when the pinned PySide6
no longer drops the reference (tests/ui/test_qt_none.py shows whether it does).
"""

from __future__ import annotations

import sys

NONE_RESERVE = 1 << 48


def _keep_none_alive() -> None:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import ctypes

    if sys.getrefcount(None) < NONE_RESERVE:  # once per process
        ctypes.c_ssize_t.from_address(id(None)).value += NONE_RESERVE


_keep_none_alive()
