"""The FHIR export of a long episode: every visit note's resources present and right, its PDF the
same bytes as ``clinic-app report`` writes, goals referenced by their care plan, and the work
read from the database growing with the records, not with visits × records or visits × goals
(a visit note's PDF prints the episode's goals; the episode is read once, not once a note)."""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from sqlalchemy import event

from clinic_app.core.form import Form
from clinic_app.interop.fhir import build_bundle
from clinic_app.reports.visit_note import write_visit_note
from clinic_app.storage import models as m
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from tests.interop.big_patient import build_patient
from tests.interop.fhir_helpers import by_url, record_of, resources


@dataclass
class Reads:
    statements: int = 0
    rows: Counter[str] = field(default_factory=Counter)  # ORM rows loaded, by table


@contextmanager
def counted(db: Database) -> Iterator[Reads]:
    """The SQL statements run and the ORM rows loaded while the block runs."""
    reads = Reads()

    def statement(*_args: Any) -> None:
        reads.statements += 1

    def loaded(target: Any, _context: Any) -> None:
        reads.rows[type(target).__tablename__] += 1

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(m.Base, "load", loaded, propagate=True)
    try:
        yield reads
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(m.Base, "load", loaded)


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_reads_grow_with_the_records_not_visits_times_goals(
    sqlite_db: Database, shipped_form: Form
) -> None:
    """N visits and G goals, then 2N and 2G: twice the records, so about twice the reads. The
    old export read the whole episode and all its goals again for each visit note's PDF
    (rows ≈ N × (N + G), four times as many for twice the records)."""
    db = sqlite_db
    small = build_patient(db, shipped_form, 10, 3, mrn="SCALE-1")
    large = build_patient(db, shipped_form, 20, 6, mrn="SCALE-2")
    with counted(db) as one:
        build_bundle(db, small.patient_id)
    with counted(db) as two:
        build_bundle(db, large.patient_id)
    rows_one, rows_two = sum(one.rows.values()), sum(two.rows.values())
    assert rows_one > 0
    assert one.statements > 0
    assert rows_two <= 2.3 * rows_one, (one.rows, two.rows)
    assert two.statements <= 2.3 * one.statements, (one.statements, two.statements)
    # goals are read once per episode: each goal row a handful of times at most, not per visit
    assert two.rows["goal"] <= 2 * len(large.goal_ids), two.rows
    assert two.rows["evaluation"] <= 8 * (len(large.visit_ids) + len(large.review_ids) + 1)


def test_every_visit_note_is_in_the_bundle_as_the_report_prints_it(
    sqlite_db: Database, shipped_form: Form
) -> None:
    db = sqlite_db
    built = build_patient(db, shipped_form, 21, 8, mrn="SCALE-3")
    bundle = build_bundle(db, built.patient_id, kind="document")
    urls = by_url(bundle)
    encounters = {record: url for url, record in record_of(bundle).items()}
    records = [built.initial_id, *built.visit_ids, *built.review_ids]
    assert sorted(encounters) == sorted(records)
    documents = {
        d["context"]["encounter"][0]["reference"]: d for d in resources(bundle, "DocumentReference")
    }
    provenance = {p["target"][0]["reference"]: p for p in resources(bundle, "Provenance")}
    goals = r.list_goals(db, built.episode_id)
    assert len(goals) == 8
    for number, visit in enumerate(built.visit_ids, start=1):
        ev = r.get_evaluation(db, visit)
        enc = encounters[visit]
        assert urls[enc]["type"][0]["coding"][0]["code"] == "visit"
        assert urls[enc]["period"]["start"] == ev.eval_date.isoformat()
        attachment = documents[enc]["content"][0]["attachment"]
        data = base64.b64decode(attachment["data"])
        stream = io.BytesIO()
        write_visit_note(db, visit, stream)  # what `clinic-app report` writes for this note
        assert data == stream.getvalue(), f"visit {number}: the PDF differs from the report"
        assert attachment["title"] == f"Visit note of {ev.eval_date.isoformat()}"
        assert enc in [t["reference"] for t in provenance[enc]["target"]]
        if number in (1, len(built.visit_ids)):  # read back: the note lists every goal
            text = " ".join(_pdf_text(data).split())
            assert f"Visit {number} of" in text
            for goal in goals:
                assert " ".join(goal.text.split()) in text, (number, goal.text)
    # the care plan references every goal, in the episode's order, and each goal resolves
    (plan,) = resources(bundle, "CarePlan")
    goal_urls = [g["reference"] for g in plan["goal"]]
    assert [urls[u]["description"]["text"] for u in goal_urls] == [g.text for g in goals]
    assert all(urls[u]["resourceType"] == "Goal" for u in goal_urls)
    # a goal from a contributing factor addresses the latest record's Condition for it
    conditions = resources(bundle, "Condition")
    for u in goal_urls:
        goal = next(g for g in goals if g.text == urls[u]["description"]["text"])
        if goal.from_factor is None:
            assert "addresses" not in urls[u]
            continue
        fired = [c for c in conditions if c["code"]["coding"][0]["code"] == goal.from_factor]
        if not fired:
            assert "addresses" not in urls[u]
            continue
        latest = max(fired, key=lambda c: record_of(bundle)[c["encounter"]["reference"]])
        assert urls[u]["addresses"] == [{"reference": f"urn:uuid:{latest['id']}"}]
    # each record's section: its Encounter, then every resource of that encounter, in order
    sections = bundle["entry"][0]["resource"]["section"]
    assert len(sections) == 1 + len(records)
    for section in sections[1:]:
        enc = section["entry"][0]["reference"]
        want = [
            e["fullUrl"]
            for e in bundle["entry"]
            if e["resource"].get("encounter") == {"reference": enc}
        ]
        assert [x["reference"] for x in section["entry"][1:]] == want
