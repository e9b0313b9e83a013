"""A search matching more patients than it is worth ranking (SQLite's capped path)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clinic_app.storage import records
from clinic_app.storage.database import Database, open_database
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
