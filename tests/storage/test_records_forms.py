"""Form snapshots and the parsed-form cache each Database owns (``records.forms``)."""

from __future__ import annotations

import threading
from pathlib import Path

from clinic_app.core.form import Form, parse_form
from clinic_app.storage import records
from clinic_app.storage.database import Database, open_database
from tests.storage.conftest import small_form_data


def _evaluation(db: Database, form: Form, mrn: str) -> int:
    patient = records.create_patient(db, records.PatientFields("Ann", "Lee", mrn), user="t")
    return records.start_evaluation(db, patient.id, form, user="t").id


def test_two_databases_do_not_share_their_forms(tmp_path: Path) -> None:
    data = small_form_data()
    first, second, remembered = (parse_form(data, "test form") for _ in range(3))
    assert first == second == remembered  # one content, three objects
    with (
        open_database(f"sqlite:///{tmp_path / 'one.db'}") as one,
        open_database(f"sqlite:///{tmp_path / 'two.db'}") as two,
    ):
        in_one = _evaluation(one, first, "A1")
        in_two = _evaluation(two, second, "A1")
        records.remember_form(one, remembered)

        assert records.evaluation_form(one, in_one) is remembered
        # The other database keeps the form it stored the snapshot with.
        assert records.evaluation_form(two, in_two) is second
        assert len(one.forms) == len(two.forms) == 1


def test_a_reopened_database_parses_the_snapshot_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    form = parse_form(small_form_data(), "test form")
    with open_database(url) as db:
        evaluation_id = _evaluation(db, form, "A1")
    with open_database(url) as db:
        assert len(db.forms) == 0
        parsed = records.evaluation_form(db, evaluation_id)
        assert parsed == form
        assert parsed is not form
        assert records.evaluation_form(db, evaluation_id) is parsed


def test_remembering_while_another_thread_reads_hands_out_whole_forms(tmp_path: Path) -> None:
    """The autosave worker reads the cache while the GUI thread remembers forms."""
    data = small_form_data()
    forms = [parse_form(data, "test form") for _ in range(20)]
    with open_database(f"sqlite:///{tmp_path / 'clinic.db'}") as db:
        evaluation_id = _evaluation(db, forms[0], "A1")
        got: list[Form] = []
        failed: list[BaseException] = []

        def read() -> None:
            try:
                for _ in range(60):
                    got.append(records.evaluation_form(db, evaluation_id))
            except BaseException as exc:
                failed.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        for form in forms * 3:
            records.remember_form(db, form)
        reader.join()
        assert not failed
        assert len(got) == 60
        assert all(any(g is f for f in forms) for g in got)
        assert records.evaluation_form(db, evaluation_id) is forms[-1]
