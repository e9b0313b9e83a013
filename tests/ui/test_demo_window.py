"""``screenshots.demo_window``: the demo window the screenshots and the layout tests open, and
everything it made undone afterwards (the window deleted, the data folder variable put back)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import shiboken6

from clinic_app.ui.screenshots import WINDOW_SIZE, demo_window


@pytest.mark.parametrize("before", [None, "a folder of the caller's"])
def test_demo_window_opens_the_demo_and_undoes_everything(
    qapp: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, before: str | None
) -> None:
    if before is None:
        monkeypatch.delenv("CLINIC_APP_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(tmp_path / before))
    with demo_window() as demo:
        window = demo.window
        folder = Path(os.environ["CLINIC_APP_DATA_DIR"])
        assert folder != tmp_path / str(before)
        assert (folder / "demo.db").is_file()
        assert window.isVisible()
        assert (window.width(), window.height()) == WINDOW_SIZE
        assert demo.subjects.anna.mrn == "DEMO-0001"
        assert demo.subjects.zoe.mrn == "DEMO-0002"
    assert not shiboken6.isValid(window)  # closed and deleted, not left for a later test
    assert not folder.exists()
    caller = None if before is None else str(tmp_path / before)
    assert os.environ.get("CLINIC_APP_DATA_DIR") == caller


def _fail_inside(seen: dict[str, Any]) -> None:
    with demo_window((1280, 800)) as demo:
        seen["window"] = demo.window
        seen["folder"] = Path(os.environ["CLINIC_APP_DATA_DIR"])
        seen["size"] = (demo.window.width(), demo.window.height())
        raise LookupError("the caller's")


def test_demo_window_undoes_everything_when_the_caller_fails(
    qapp: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(tmp_path))
    seen: dict[str, Any] = {}
    with pytest.raises(LookupError, match="the caller's"):
        _fail_inside(seen)
    assert seen["size"] == (1280, 800)
    assert not shiboken6.isValid(seen["window"])
    assert not seen["folder"].exists()
    assert os.environ["CLINIC_APP_DATA_DIR"] == str(tmp_path)
