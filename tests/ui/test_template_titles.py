"""Saved programs name their exercises by title, never by library id.

A template saved without snapshots (from a script, the storage API or an older release) holds
only ids; the library dialog's "Saved programs" tab and the program editor a template is applied
to show each one's title from the library the app uses, and an id no library knows stays
visible, marked. Real dialog and editor offscreen, a real SQLite file in tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clinic_app.core.library import shipped_library
from clinic_app.storage import records
from clinic_app.ui.context import AppContext
from clinic_app.ui.library_dialog import LibraryDialog


@pytest.fixture
def context(qapp: object, db: Any, mini_form: Any, clinician: Any) -> Iterator[AppContext]:
    ctx = AppContext(clinician)
    ctx.attach(db, mini_form)
    yield ctx
    ctx.runner.stop()


def test_a_shipped_exercise_is_named_by_its_library_title(
    qtbot: Any, context: AppContext, db: Any, mini_form: Any
) -> None:
    library = shipped_library(mini_form)
    title = library["nordic_curl"].title
    assert title != "nordic_curl"
    program = {
        "exercises": [
            {"exercise": "nordic_curl", "sets": 3, "reps": 5},
            {"exercise": "retired_drill", "sets": 2},  # in no library (any more)
        ]
    }
    records.save_template(db, "eccentric start", program, user="Dana")
    d = LibraryDialog(context)
    qtbot.addWidget(d)
    d.tabs.setCurrentIndex(1)
    d.show()
    text = d.templates.item(0).text()
    assert f"2 exercises: {title}, retired_drill (not in the library); saved by Dana" in text
    assert "nordic_curl" not in text


def test_a_clinic_exercise_is_named_by_its_title_too(
    qtbot: Any, context: AppContext, db: Any
) -> None:
    ex = records.add_exercise(
        db,
        {"id": "clinic:wall_sit", "title": "Wall sit", "steps": ["Slide down a wall."]},
        user="Dana",
    )
    records.save_template(db, "quads", {"exercises": [{"exercise": ex.id}]}, user="Dana")
    d = LibraryDialog(context)
    qtbot.addWidget(d)
    text = d.templates.item(0).text()
    assert "1 exercise: Wall sit; saved by Dana" in text
    assert ex.id not in text


def test_a_template_of_ids_applied_in_the_editor_shows_titles_and_keeps_their_words(
    qtbot: Any,
) -> None:
    from clinic_app.core.form import load_form
    from clinic_app.core.program import parse_program
    from clinic_app.paths import default_form_path
    from clinic_app.ui.program_editor import ProgramEditor

    form = load_form(default_form_path())
    library = shipped_library(form)
    ed = ProgramEditor(form.items["home_program"])
    qtbot.addWidget(ed)
    ed.set_environment(library=library, form=form, user="t")
    ed.set_value(None)
    template = parse_program(
        {"exercises": [{"exercise": "nordic_curl", "sets": 3}, {"exercise": "retired_drill"}]}
    )
    assert ed.apply_program(template) == 2
    rows = [ed.list.item(n).text() for n in range(ed.list.count())]
    assert rows[0].startswith(f"1. {library['nordic_curl'].title}  (")
    assert rows[1] == "2. retired_drill (not in the library)"
    value = ed.value()
    assert value is not None
    # the shipped exercise keeps the words it was applied with, as one added by hand does
    first, second = value.exercises
    assert first.snapshot is not None
    assert first.snapshot.title == library["nordic_curl"].title
    assert second.snapshot is None
