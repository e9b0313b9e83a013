"""The records API on both backends: patients, search, evaluations, signing, conflicts, audit."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from clinic_app.core.findings import FindingsError
from clinic_app.core.form import Form, parse_form
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import (
    ConflictError,
    DatabaseAccessError,
    DuplicateMRNError,
    EvaluationSignedError,
    NotFoundError,
    NotSignedError,
    StorageError,
)
from clinic_app.storage.search import search_name
from tests.storage.conftest import small_form_data

NAMES = [
    ("Anna", "Müller", "MRN-0001", date(1984, 3, 7)),
    ("Zoë", "Smith", "MRN-0002", date(1990, 12, 1)),
    ("Łukasz", "Kowalski", "MRN-0003", date(1979, 6, 30)),
    ("芳", "王", "MRN-0004", date(2001, 1, 15)),
    ("José", "Núñez", "MRN-0005", date(1984, 3, 7)),
    ("Mark", "Mueller", "MRN-0006", None),
]


def make_patients(db: Database) -> dict[str, r.Patient]:
    made = {}
    for given, family, mrn, dob in NAMES:
        made[family] = r.create_patient(
            db,
            r.PatientFields(given_name=given, family_name=family, mrn=mrn, date_of_birth=dob),
            user="alice",
        )
    return made


def patient(db: Database, mrn: str = "P-1") -> r.Patient:
    return r.create_patient(
        db, r.PatientFields(given_name="Eva", family_name="Berg", mrn=mrn), user="alice"
    )


def families(found: list[r.Patient]) -> list[str]:
    return [p.family_name for p in found]


class TestPatients:
    def test_create_get_update_archive(self, db: Database) -> None:
        p = r.create_patient(
            db,
            r.PatientFields(
                given_name=" Anna ",
                family_name="Müller",
                mrn="A1",
                sex="female",
                date_of_birth=date(1984, 3, 7),
                email="anna@example.org",
                activity="running",
            ),
            user="alice",
        )
        assert p.given_name == "Anna"
        assert r.get_patient(db, p.id) == p
        change = r.update_patient(
            db, p.id, r.PatientFields(**{**p.fields().__dict__, "phone": "555"}), user="bob"
        )
        assert change.changed == ("phone",)
        assert change.patient.updated_by == "bob"
        again = r.update_patient(db, p.id, change.patient.fields(), user="bob")
        assert again.changed == ()
        archived = r.archive_patient(db, p.id, user="bob")
        assert archived.changed == ("archived",)
        assert archived.patient.archived
        assert r.count_patients(db) == 0
        assert r.count_patients(db, include_archived=True) == 1
        assert r.get_patient_by_mrn(db, "A1") == archived.patient

    def test_duplicate_mrn_refused(self, db: Database) -> None:
        first = patient(db, "X")
        with pytest.raises(DuplicateMRNError, match="'X'"):
            patient(db, "X")
        other = patient(db, "Y")
        with pytest.raises(DuplicateMRNError):
            r.update_patient(db, other.id, r.PatientFields("A", "B", mrn="X"), user="a")
        assert r.count_patients(db) == 2
        assert r.get_patient(db, first.id).mrn == "X"

    def test_missing_patient(self, db: Database) -> None:
        with pytest.raises(NotFoundError, match="patient 99 does not exist"):
            r.get_patient(db, 99)

    def test_list_pages_sorted_ignoring_accents(self, db: Database) -> None:
        make_patients(db)
        page = r.list_patients(db, offset=0, limit=3)
        assert families(page) == ["Kowalski", "Mueller", "Müller"]
        assert families(r.list_patients(db, offset=3, limit=10)) == ["Núñez", "Smith", "王"]
        by_mrn = r.list_patients(db, sort="mrn", descending=True, limit=2)
        assert [p.mrn for p in by_mrn] == ["MRN-0006", "MRN-0005"]
        assert r.count_patients(db) == 6


class TestSearch:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("muller", ["Müller"]),
            ("MÜL", ["Müller"]),
            ("mül", ["Müller"]),
            ("zoe", ["Smith"]),
            ("ZOË", ["Smith"]),
            ("lukasz", ["Kowalski"]),
            ("Łuk", ["Kowalski"]),
            ("nunez", ["Núñez"]),
            ("jose nun", ["Núñez"]),
            ("王", ["王"]),
            ("MRN-0003", ["Kowalski"]),
            ("mrn-0003", ["Kowalski"]),
            ("1984-03-07", ["Müller", "Núñez"]),
            ("07.03.1984", ["Müller", "Núñez"]),
            ("07/03/1984", ["Müller", "Núñez"]),
            ("anna 07.03.1984", ["Müller"]),
            ("nobody", []),
            ("", []),
            ('"*', []),
        ],
    )
    def test_accent_and_case_insensitive(
        self, db: Database, query: str, expected: list[str]
    ) -> None:
        make_patients(db)
        assert families(r.search_patients(db, query)) == expected

    def test_exact_mrn_first_and_limit(self, db: Database) -> None:
        make_patients(db)
        found = r.search_patients(db, "MRN-0005")
        assert families(found)[0] == "Núñez"
        assert len(r.search_patients(db, "mrn", limit=2)) == 2

    def test_archived_hidden_unless_asked(self, db: Database) -> None:
        made = make_patients(db)
        r.archive_patient(db, made["Müller"].id, user="a")
        assert families(r.search_patients(db, "muller")) == []
        assert families(r.search_patients(db, "muller", include_archived=True)) == ["Müller"]

    def test_renamed_patient_is_found_by_new_name(self, db: Database) -> None:
        made = make_patients(db)
        p = made["Smith"]
        r.update_patient(db, p.id, r.PatientFields("Zoë", "Ørsted", mrn=p.mrn), user="a")
        assert families(r.search_patients(db, "orsted")) == ["Ørsted"]
        assert families(r.search_patients(db, "smith")) == []

    def test_found_patients_are_the_stored_values(self, db: Database) -> None:
        made = make_patients(db)
        r.archive_patient(db, made["Núñez"].id, user="a")
        stored = {p.id: r.get_patient(db, p.id) for p in made.values()}
        found = r.search_patients(db, "1984-03-07", include_archived=True)
        assert found == [stored[made["Müller"].id], stored[made["Núñez"].id]]
        assert found[1].archived is True
        assert found[0].archived is False
        assert found[0].created_at.tzinfo is not None
        assert r.list_patients(db, include_archived=True) == sorted(
            stored.values(), key=lambda p: (search_name(p.given_name, p.family_name), p.id)
        )

    @pytest.mark.parametrize(
        "call",
        [
            lambda db: r.search_patients(db, "anna"),
            lambda db: r.search_patients(db, "a"),
            lambda db: r.list_patients(db),
            lambda db: r.count_patients(db),
        ],
        ids=["search", "search-one-letter", "list", "count"],
    )
    def test_unreachable_database_is_a_storage_error_naming_it(
        self, tmp_path: Path, call: Callable[[Database], object]
    ) -> None:
        folder = tmp_path / "share"
        folder.mkdir()
        path = folder / "clinic.db"
        db = open_database(f"sqlite:///{path}")
        try:
            make_patients(db)
            db.engine.dispose()  # the network share goes away between two calls
            shutil.rmtree(folder)
            with pytest.raises(DatabaseAccessError) as caught:
                call(db)
            assert str(caught.value).startswith(f"{path}: ")
        finally:
            db.close()


class TestEvaluations:
    def test_start_save_sign_addendum(self, db: Database, form: Form) -> None:
        p = patient(db)
        ev = r.start_evaluation(db, p.id, form, user="alice")
        assert (ev.status, ev.version, ev.kind, ev.carried_forward) == ("draft", 1, "initial", ())
        findings = {
            "values": {
                "involved_side": "left",
                "pain_now": 4,
                "nordic_force": {"left": 210, "right": 300},
            }
        }
        saved = r.save_draft(db, ev.id, findings, 1, user="alice")
        assert saved.changed
        assert saved.version == 2
        assert saved.changed_items == ("involved_side", "nordic_force", "pain_now")
        loaded = r.get_evaluation(db, ev.id)
        assert loaded.involved_side == "left"
        assert loaded.values["nordic_force"] == {"left": 210, "right": 300}
        assert loaded.content_hash == saved.content_hash
        assert r.verify_evaluation(db, ev.id)

        signed = r.sign_evaluation(db, ev.id, saved.version, user="Dr Alice Doe")
        assert signed.version == 3
        loaded = r.get_evaluation(db, ev.id)
        assert loaded.is_signed
        assert loaded.signed_by == "Dr Alice Doe"
        assert loaded.content_hash == signed.content_hash != saved.content_hash
        assert r.verify_evaluation(db, ev.id)

        note = r.add_addendum(db, ev.id, "Patient called: pain eased.", user="alice")
        assert r.get_evaluation(db, ev.id).addenda == (note,)

    def test_save_draft_is_idempotent(self, db: Database, form: Form) -> None:
        ev = r.start_evaluation(db, patient(db).id, form, user="alice")
        data = {"values": {"pain_now": 3}}
        first = r.save_draft(db, ev.id, data, ev.version, user="alice")
        events = len(r.audit_events(db, entity="evaluation", entity_id=ev.id))
        again = r.save_draft(db, ev.id, data, first.version, user="alice")
        assert not again.changed
        assert again.version == first.version
        assert len(r.audit_events(db, entity="evaluation", entity_id=ev.id)) == events
        assert r.get_evaluation(db, ev.id).updated_at == first.updated_at

    def test_invalid_findings_refused(self, db: Database, form: Form) -> None:
        ev = r.start_evaluation(db, patient(db).id, form, user="alice")
        with pytest.raises(FindingsError, match="pain_now"):
            r.save_draft(db, ev.id, {"values": {"pain_now": 11}}, 1, user="alice")
        with pytest.raises(FindingsError, match="no such item"):
            r.save_draft(db, ev.id, {"values": {"bogus": 1}}, 1, user="alice")
        assert r.get_evaluation(db, ev.id).version == 1

    def test_concurrent_drafts_conflict(self, db: Database, form: Form) -> None:
        ev = r.start_evaluation(db, patient(db).id, form, user="alice")
        # Two workstations loaded version 1.
        mine = r.save_draft(db, ev.id, {"values": {"pain_now": 5}}, 1, user="alice")
        with pytest.raises(ConflictError) as caught:
            r.save_draft(db, ev.id, {"values": {"pain_now": 7}}, 1, user="bob")
        err = caught.value
        assert err.changed_by == "alice"
        assert err.changed_at == mine.updated_at
        assert err.current_version == 2
        assert err.their_findings["values"] == {"pain_now": 5}
        assert "alice" in str(err)
        # Nothing was overwritten; bob merges and saves over the version he now knows.
        assert r.get_evaluation(db, ev.id).values == {"pain_now": 5}
        merged = r.save_draft(
            db, ev.id, {"values": {"pain_now": 7}}, err.current_version, user="bob"
        )
        assert merged.version == 3
        # Saving what is already stored is no conflict, whatever version the caller had.
        same = r.save_draft(db, ev.id, {"values": {"pain_now": 7}}, 1, user="carol")
        assert not same.changed

    def test_sign_with_stale_version_conflicts(self, db: Database, form: Form) -> None:
        ev = r.start_evaluation(db, patient(db).id, form, user="alice")
        r.save_draft(db, ev.id, {"values": {"pain_now": 5}}, 1, user="bob")
        with pytest.raises(ConflictError, match="bob"):
            r.sign_evaluation(db, ev.id, 1, user="alice")
        assert r.get_evaluation(db, ev.id).status == "draft"

    def test_signed_is_locked_in_the_api(self, db: Database, form: Form) -> None:
        ev = r.start_evaluation(db, patient(db).id, form, user="alice")
        r.sign_evaluation(db, ev.id, 1, user="alice")
        with pytest.raises(EvaluationSignedError, match="signed by alice"):
            r.save_draft(db, ev.id, {"values": {"pain_now": 1}}, 2, user="alice")
        with pytest.raises(EvaluationSignedError):
            r.sign_evaluation(db, ev.id, 2, user="alice")
        assert r.get_evaluation(db, ev.id).values == {}

    def test_signed_is_locked_in_the_database(self, db: Database, form: Form) -> None:
        ev = r.start_evaluation(db, patient(db).id, form, user="alice")
        r.save_draft(db, ev.id, {"values": {"pain_now": 2}}, 1, user="alice")
        r.sign_evaluation(db, ev.id, 2, user="alice")
        r.add_addendum(db, ev.id, "note", user="alice")
        statements = [
            "UPDATE evaluation SET findings = '{}' WHERE id = :id",
            "UPDATE evaluation SET status = 'draft' WHERE id = :id",
            "UPDATE evaluation SET updated_by = 'mallory' WHERE id = :id",
            "DELETE FROM evaluation WHERE id = :id",
            "UPDATE addendum SET text = 'changed' WHERE evaluation_id = :id",
            "DELETE FROM addendum WHERE evaluation_id = :id",
            "DELETE FROM audit_event",
        ]
        for statement in statements:
            with (
                pytest.raises(sa.exc.DatabaseError, match="signed|addenda|audit"),
                db.engine.begin() as conn,
            ):
                conn.execute(sa.text(statement), {"id": ev.id})
        after = r.get_evaluation(db, ev.id)
        assert after.values == {"pain_now": 2}
        assert after.status == "signed"
        assert len(after.addenda) == 1
        assert r.verify_evaluation(db, ev.id)

    def test_drafts_can_still_be_changed_by_sql(self, db: Database, form: Form) -> None:
        ev = r.start_evaluation(db, patient(db).id, form, user="alice")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE evaluation SET eval_date = :d WHERE id = :id"),
                {"d": date(2020, 1, 1), "id": ev.id},
            )
        assert r.get_evaluation(db, ev.id).eval_date == date(2020, 1, 1)
        assert not r.verify_evaluation(db, ev.id)  # the hash notices a change outside the API

    def test_addendum_needs_signed_evaluation(self, db: Database, form: Form) -> None:
        ev = r.start_evaluation(db, patient(db).id, form, user="alice")
        with pytest.raises(NotSignedError):
            r.add_addendum(db, ev.id, "too early", user="alice")
        r.sign_evaluation(db, ev.id, 1, user="alice")
        with pytest.raises(StorageError, match="text"):
            r.add_addendum(db, ev.id, "  ", user="alice")

    def test_re_evaluation_carries_values_forward(self, db: Database, form: Form) -> None:
        p = patient(db)
        first = r.start_evaluation(db, p.id, form, user="alice", eval_date=date(2026, 1, 5))
        values = {
            "involved_side": "right",
            "pain_now": 6,
            "slump": {"right": "positive"},
            "nordic_force": {"left": 300, "right": 220},
        }
        r.save_draft(db, first.id, {"values": values}, 1, user="alice")
        r.sign_evaluation(db, first.id, 2, user="alice")

        again = r.start_evaluation(
            db, p.id, form, user="bob", kind="re_evaluation", eval_date=date(2026, 2, 5)
        )
        assert again.values == values
        assert again.carried_forward == ("involved_side", "nordic_force", "pain_now", "slump")
        assert again.carried_from == first.id
        saved = r.save_draft(
            db,
            again.id,
            {"values": {**values, "pain_now": 3}},
            again.version,
            user="bob",
            confirmed=["involved_side"],
        )
        assert saved.changed_items == ("pain_now",)
        assert saved.carried_forward == ("nordic_force", "slump")
        assert r.get_evaluation(db, again.id).carried_forward == ("nordic_force", "slump")

        blank = r.start_evaluation(
            db, p.id, form, user="bob", kind="re_evaluation", copy_forward=False
        )
        assert blank.values == {}

    def test_measure_history(self, db: Database, form: Form) -> None:
        p = patient(db)
        for n, (left, pain) in enumerate([(200, 7), (250, 5), (290, 2)]):
            ev = r.start_evaluation(
                db,
                p.id,
                form,
                user="a",
                eval_date=date(2026, n + 1, 1),
                kind="initial" if n == 0 else "re_evaluation",
                copy_forward=False,
            )
            r.save_draft(
                db,
                ev.id,
                {"values": {"pain_now": pain, "nordic_force": {"left": left}}},
                1,
                user="a",
            )
            if n < 2:
                r.sign_evaluation(db, ev.id, 2, user="a")
        nordic = r.measure_history(db, p.id, "nordic_force")
        assert [(x.left, x.right, x.value) for x in nordic] == [
            (200, None, None),
            (250, None, None),
            (290, None, None),
        ]
        pain = r.measure_history(db, p.id, "pain_now", signed_only=True)
        assert [(x.eval_date.month, x.value, x.status) for x in pain] == [
            (1, 7, "signed"),
            (2, 5, "signed"),
        ]
        assert [e.kind for e in r.list_evaluations(db, p.id)] == [
            "initial",
            "re_evaluation",
            "re_evaluation",
        ]

    def test_form_snapshot_survives_form_change(self, db: Database, form: Form) -> None:
        p = patient(db)
        ev = r.start_evaluation(db, p.id, form, user="a")
        r.save_draft(db, ev.id, {"values": {"notes": "ok"}}, 1, user="a")
        data = small_form_data(version=2)
        items = data["sections"][0]["items"]
        data["sections"][0]["items"] = [i for i in items if i["id"] != "notes"]
        newer = parse_form(data)
        later = r.start_evaluation(db, p.id, newer, user="a", kind="re_evaluation")
        assert "notes" not in later.values  # dropped: the new form has no such item
        assert r.evaluation_form(db, ev.id) == form
        assert r.evaluation_form(db, later.id) == newer
        assert r.get_evaluation(db, ev.id).form_version == 1
        # The old evaluation still validates and saves against its own form version.
        r.save_draft(db, ev.id, {"values": {"notes": "still ok"}}, 2, user="a")
        # The same form again reuses the snapshot.
        third = r.start_evaluation(db, p.id, form, user="a")
        assert third.form_snapshot_id == ev.form_snapshot_id

    def test_archived_patient_gets_no_new_evaluation(self, db: Database, form: Form) -> None:
        p = patient(db)
        r.archive_patient(db, p.id, user="a")
        with pytest.raises(StorageError, match="archived"):
            r.start_evaluation(db, p.id, form, user="a")


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    return out.getvalue()


TINY_PNG = _tiny_png()


class TestClinicAndAudit:
    def test_clinic_and_clinicians(self, db: Database) -> None:
        assert r.get_clinic(db) is None
        info = r.ClinicInfo(
            name="Praxis Süd",
            address="Hauptstr. 1",
            phone="+49 1",
            logo=TINY_PNG,  # a whole image: save_clinic refuses one no report could print
            paper_size="Letter",
        )
        r.save_clinic(db, info, user="admin")
        assert r.get_clinic(db) == info
        c = r.save_clinician(db, r.ClinicianInfo("Dr Zoë Ng", "PT, DPT", "PT-123"), user="admin")
        assert r.get_clinician(db, c.id) == c
        r.save_clinician(
            db,
            r.ClinicianInfo("Dr Zoë Ng", "PT", "PT-123", active=False),
            user="admin",
            clinician_id=c.id,
        )
        assert r.list_clinicians(db) == []
        assert [x.credentials for x in r.list_clinicians(db, include_inactive=True)] == ["PT"]
        with pytest.raises(StorageError, match="paper size"):
            r.save_clinic(db, r.ClinicInfo(name="x", paper_size="A5"), user="admin")  # type: ignore[arg-type]

    def test_every_mutation_is_audited(self, db: Database, form: Form) -> None:
        p = patient(db)
        r.update_patient(db, p.id, r.PatientFields("Eva", "Berg-Lund", mrn=p.mrn), user="bob")
        ev = r.start_evaluation(db, p.id, form, user="carol")
        saved = r.save_draft(db, ev.id, {"values": {"pain_now": 1}}, 1, user="carol")
        signed = r.sign_evaluation(db, ev.id, saved.version, user="dave")
        note = r.add_addendum(db, ev.id, "note", user="erin")
        r.archive_patient(db, p.id, user="frank")
        events = list(reversed(r.audit_events(db)))
        assert [(e.entity, e.action, e.actor) for e in events] == [
            ("patient", "create", "alice"),
            ("patient", "update", "bob"),
            ("episode", "create", "carol"),  # the first evaluation opens an episode
            ("evaluation", "create", "carol"),
            ("evaluation", "save_draft", "carol"),
            ("evaluation", "sign", "dave"),
            ("addendum", "create", "erin"),
            ("evaluation", "addendum", "erin"),
            ("patient", "archive", "frank"),
        ]
        assert events[0].before_digest is None
        assert events[1].before_digest == events[0].after_digest
        assert events[2].entity_id == r.get_evaluation(db, ev.id).episode_id
        assert events[4].after_digest == saved.content_hash
        assert events[5].before_digest == saved.content_hash
        assert events[5].after_digest == signed.content_hash
        assert events[6].entity_id == note.id
        assert all(len(e.after_digest or "") == 64 for e in events)

    def test_user_required(self, db: Database) -> None:
        with pytest.raises(StorageError, match="user"):
            r.create_patient(db, r.PatientFields("A", "B", mrn="1"), user=" ")


def _race_save(
    db: Database,
    ev_id: int,
    user: str,
    pain: int,
    version: int,
    barrier: threading.Barrier,
    outcomes: dict[str, object],
) -> None:
    barrier.wait()
    try:
        outcomes[user] = r.save_draft(db, ev_id, {"values": {"pain_now": pain}}, version, user=user)
    except ConflictError as err:
        outcomes[user] = err


def test_two_workstations_race_one_wins(database_url: str, form: Form) -> None:
    """Two connections save different drafts over the same version at the same moment."""
    first, second = open_database(database_url), open_database(database_url, backup=False)
    try:
        ev = r.start_evaluation(first, patient(first).id, form, user="alice")
        for round_ in range(5):
            version = r.get_evaluation(first, ev.id).version
            barrier = threading.Barrier(2)
            outcomes: dict[str, object] = {}
            threads = [
                threading.Thread(
                    target=_race_save,
                    args=(db, ev.id, user, pain, version, barrier, outcomes),
                )
                for db, user, pain in ((first, "alice", round_), (second, "bob", 5 + round_))
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            saved = [u for u, o in outcomes.items() if isinstance(o, r.DraftSaved)]
            conflicts = [o for o in outcomes.values() if isinstance(o, ConflictError)]
            assert len(saved) == 1
            assert len(conflicts) == 1
            assert conflicts[0].changed_by == saved[0]
            stored = r.get_evaluation(first, ev.id)
            assert stored.version == version + 1
            assert stored.updated_by == saved[0]
            assert conflicts[0].their_findings == stored.findings
    finally:
        first.close()
        second.close()


def test_sort_by_date_of_birth_puts_unknown_last(db: Database) -> None:
    make_patients(db)
    ascending = r.list_patients(db, sort="date_of_birth")
    descending = r.list_patients(db, sort="date_of_birth", descending=True)
    assert ascending[0].family_name == "Kowalski"
    assert ascending[-1].date_of_birth is None
    assert descending[0].family_name == "王"
    assert descending[-1].date_of_birth is None
