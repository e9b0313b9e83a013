"""One measure across a patient's evaluations, for progress charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select

from clinic_app.storage import models as m
from clinic_app.storage.records.values import MeasurePoint

if TYPE_CHECKING:
    from clinic_app.storage.database import Database


def measure_history(
    db: Database, patient_id: int, item_id: str, *, signed_only: bool = False
) -> list[MeasurePoint]:
    """One measure across a patient's evaluations, oldest first (for progress charts).

    Evaluations that did not record the item are left out.
    """
    with db.reading() as s:
        query = (
            select(
                m.Evaluation.id,
                m.Evaluation.eval_date,
                m.Evaluation.kind,
                m.Evaluation.status,
                m.Evaluation.findings,
            )
            .where(m.Evaluation.patient_id == patient_id)
            .order_by(m.Evaluation.eval_date, m.Evaluation.id)
        )
        if signed_only:
            query = query.where(m.Evaluation.status == "signed")
        rows: Sequence[Row[Any]] = s.execute(query).all()
    points: list[MeasurePoint] = []
    for row in rows:
        value = row.findings.get("values", {}).get(item_id)
        if value is None:
            continue
        sided = isinstance(value, Mapping)
        points.append(
            MeasurePoint(
                evaluation_id=row.id,
                eval_date=row.eval_date,
                kind=row.kind,
                status=row.status,
                value=None if sided else value,
                left=value.get("left") if sided else None,
                right=value.get("right") if sided else None,
            )
        )
    return points
