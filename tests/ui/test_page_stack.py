"""The editor's page stack is as wide as the page shown, not as its widest page.

A plain ``QStackedWidget`` takes the largest minimum of its pages once each has been laid out:
after the Flexibility page, every later page of a 1024 px window kept the assessment panel at
its 240 px minimum, and the clinician could not drag it wider.
"""

from __future__ import annotations

from clinic_app.ui.screenshots import _settle, application, demo_window


def test_the_panel_gets_its_width_back_after_a_wide_page(qapp: object) -> None:
    app = application()
    with demo_window((1024, 700)) as demo:
        demo.window.open_evaluation(demo.subjects.anna_latest, demo.subjects.anna)
        view = demo.window.page.view
        assert view is not None
        editor, splitter = view.editor, view.splitter
        _settle(app, 10)
        before = splitter.sizes()[1]
        widths: dict[str, int] = {}
        for section in editor.sections:  # as Ctrl+PgDown walks them
            editor.set_current_section(section.id)
            _settle(app, 3)
            page = editor.pages.currentWidget()
            assert editor.pages.minimumSizeHint() == page.minimumSizeHint(), section.id
            assert page.width() >= page.minimumSizeHint().width(), section.id  # never squeezed
            widths[section.id] = splitter.sizes()[1]
        assert widths["flexibility"] < before  # the widest page takes what it needs
        for later in ("assessment_plan", "home_program"):
            assert widths[later] == before, widths
        # And the clinician can widen the panel there again.
        splitter.setSizes([400, 620])
        _settle(app, 3)
        assert splitter.sizes()[1] > before + 100
