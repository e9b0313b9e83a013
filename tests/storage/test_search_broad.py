"""A search matching more patients than it is worth ranking (SQLite's capped path)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from clinic_app.storage import records
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.search import search_name
from clinic_app.storage.synthetic import generate


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("broad") / "clinic.db"
    db = open_database(f"sqlite:///{path}", backup=False)
    generate(db, patients=records.RANK_CAP + 300)
    try:
        yield db
    finally:
        db.close()


def test_broad_prefix_returns_a_full_page_in_name_order(crowded: Database) -> None:
    assert records.count_patients(crowded) > records.RANK_CAP
    found = records.search_patients(crowded, "syn", limit=40)  # every MRN is SYN-<n>
    assert len({p.id for p in found}) == 40
    assert all(p.mrn.lower().startswith("syn") for p in found)
    # The newest matches, not an arbitrary slice: all from the last 80 patients added.
    newest = max(
        p.id for p in records.list_patients(crowded, sort="created", limit=1, descending=True)
    )
    assert min(p.id for p in found) > newest - 80


def test_exact_mrn_comes_first_among_many_similar(crowded: Database) -> None:
    target = records.list_patients(crowded, offset=700, limit=1)[0]
    found = records.search_patients(crowded, target.mrn, limit=20)
    assert found[0].id == target.id
    found_lower = records.search_patients(crowded, target.mrn.lower(), limit=20)
    assert found_lower[0].id == target.id


def _name_order(found: list[records.Patient]) -> list[tuple[str, int]]:
    return [(search_name(p.given_name, p.family_name), p.id) for p in found]


def test_archived_among_the_newest_are_dropped_and_the_page_stays_in_name_order(
    crowded: Database,
) -> None:
    newest = records.list_patients(crowded, sort="created", descending=True, limit=80)
    archived = {p.id for p in newest[:5]}
    for pid in archived:
        records.archive_patient(crowded, pid, user="test")
    try:
        found = records.search_patients(crowded, "syn", limit=40)
        # The newest 2 x 40 matches, the archived ones dropped, in name order, the first 40.
        expected = sorted(
            (search_name(p.given_name, p.family_name), p.id) for p in newest if p.id not in archived
        )[:40]
        assert _name_order(found) == expected
        with_archived = records.search_patients(crowded, "syn", limit=40, include_archived=True)
        assert _name_order(with_archived) == sorted(_name_order(newest))[:40]
    finally:
        for pid in archived:
            records.archive_patient(crowded, pid, user="test", archived=False)


def test_exact_mrn_of_an_old_patient_comes_first_on_the_capped_path(crowded: Database) -> None:
    old = records.list_patients(crowded, sort="created", limit=1)[0]
    records.update_patient(crowded, old.id, replace(old.fields(), mrn="SYN"), user="test")
    try:
        for typed in ("SYN", "syn", " syn "):
            found = records.search_patients(crowded, typed, limit=40)
            assert found[0].id == old.id, typed
            assert len(found) == 40
            assert _name_order(found[1:]) == sorted(_name_order(found[1:]))
    finally:
        records.update_patient(crowded, old.id, old.fields(), user="test")
