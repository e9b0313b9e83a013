"""Fixtures for the core tests: a small form written to tmp_path, and the shipped form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from clinic_app.core.form import Form, load_form, parse_form
from clinic_app.paths import default_form_path


def mini_form_data() -> dict[str, Any]:
    """A small but complete form: every item type, one factor per kind of test."""
    return {
        "id": "mini",
        "version": 1,
        "title": "Mini form",
        "involved_side_item": "involved_side",
        "sections": [
            {
                "id": "subjective",
                "title": "Subjective",
                "items": [
                    {
                        "id": "involved_side",
                        "label": "Involved side",
                        "type": "choice",
                        "source": "domain",
                        "choices": [
                            {"id": "left", "label": "Left"},
                            {"id": "right", "label": "Right"},
                            {"id": "both", "label": "Both"},
                        ],
                    },
                    {"id": "pain_now", "label": "Pain now", "type": "scale", "source": "S3"},
                    {
                        "id": "quality",
                        "label": "Pain quality",
                        "type": "multi",
                        "source": "S3",
                        "choices": [
                            {"id": "ache", "label": "Ache"},
                            {"id": "tingling", "label": "Tingling"},
                        ],
                    },
                    {
                        "id": "notes",
                        "label": "Notes",
                        "type": "text",
                        "source": "clinic",
                        "max_length": 50,
                    },
                ],
            },
            {
                "id": "tests",
                "title": "Tests",
                "items": [
                    {
                        "id": "nordic",
                        "label": "Nordic force",
                        "type": "number",
                        "unit": "N",
                        "range": {"min": 0, "max": 1000},
                        "bilateral": True,
                        "source": "S1",
                        "symmetry": {"method": "deficit", "threshold": 15, "source": "S1"},
                    },
                    {
                        "id": "slr",
                        "label": "Passive SLR",
                        "type": "number",
                        "unit": "°",
                        "integer": True,
                        "range": {"min": 0, "max": 130},
                        "bilateral": True,
                        "source": "S1",
                        "symmetry": {"method": "difference", "threshold": 7, "source": "S1"},
                    },
                    {
                        "id": "hip_flex",
                        "label": "Hip flexor MMT",
                        "type": "mmt",
                        "bilateral": True,
                        "source": "S0",
                    },
                    {
                        "id": "slump",
                        "label": "Slump",
                        "type": "posneg",
                        "bilateral": True,
                        "source": "S1",
                    },
                    {"id": "pop", "label": "Felt a pop", "type": "yesno", "source": "S1"},
                ],
            },
        ],
        "factors": [
            {
                "id": "F6",
                "name": "Eccentric weakness",
                "region": "Eccentric strength",
                "sources": ["S1"],
                "local": True,
                "indicators": [
                    {
                        "label": "Nordic deficit",
                        "source": "S1",
                        "when": {"item": "nordic", "measure": "deficit", "op": ">="},
                    }
                ],
            },
            {
                "id": "F1",
                "name": "Weak opposite hip flexor",
                "region": "Hips",
                "sources": ["S0"],
                "indicators": [
                    {
                        "label": "MMT",
                        "source": "S0",
                        "when": {"item": "hip_flex", "side": "opposite", "op": "<", "threshold": 5},
                    }
                ],
            },
            {
                "id": "F7",
                "name": "Painful leg less flexible",
                "region": "Flexibility",
                "sources": ["S1"],
                "local": True,
                "indicators": [
                    {
                        "label": "SLR gap",
                        "source": "S1",
                        "when": {
                            "item": "slr",
                            "measure": "difference",
                            "worse": "involved",
                            "op": ">",
                        },
                    }
                ],
            },
            {
                "id": "F8",
                "name": "Sciatic nerve",
                "region": "Nerve",
                "sources": ["S1"],
                "advice": ["no_stretch_irritated"],
                "min_indicators": 1,
                "indicators": [
                    {
                        "label": "Slump",
                        "source": "S1",
                        "when": {"item": "slump", "in": ["positive"]},
                    },
                    {
                        "label": "Neural quality",
                        "source": "S3",
                        "supporting_only": True,
                        "when": {"item": "quality", "in": ["tingling"]},
                    },
                ],
            },
        ],
        "red_flags": [
            {
                "id": "R1",
                "name": "Possible avulsion",
                "urgency": "urgent",
                "message": "Refer urgently",
                "sources": ["S1"],
                "when": {
                    "all": [
                        {"item": "pop", "in": ["yes"]},
                        {"item": "pain_now", "op": ">=", "threshold": 5},
                    ]
                },
            },
        ],
        "running": [
            {
                "level": "green",
                "label": "Mild",
                "message": "Keep running",
                "source": "S3",
                "when": {"item": "pain_now", "op": "<", "threshold": 5},
            },
            {
                "level": "stop",
                "label": "Too painful",
                "message": "Stop",
                "source": "S3",
                "when": {"item": "pain_now", "op": ">=", "threshold": 5},
            },
        ],
    }


@pytest.fixture
def mini_data() -> dict[str, Any]:
    return mini_form_data()


@pytest.fixture(scope="session")
def mini_form() -> Form:
    return parse_form(mini_form_data(), "mini.yaml")


@pytest.fixture
def write_form(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write form data (or raw text) to tmp_path/form.yaml and return the path."""

    def write(data: dict[str, Any] | str, name: str = "form.yaml") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def shipped_form() -> Form:
    return load_form(default_form_path())


@pytest.fixture
def shipped_data() -> dict[str, Any]:
    """The shipped form file as plain data, to change one thing in it."""
    data: dict[str, Any] = yaml.safe_load(default_form_path().read_text(encoding="utf-8"))
    return data
