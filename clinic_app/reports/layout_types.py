"""Types shared by the builders that must not pull in reportlab."""

from __future__ import annotations

from pathlib import Path
from typing import IO

Target = str | Path | IO[bytes]
