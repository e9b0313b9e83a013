"""Values the patient record already answers, so the form does not ask them twice.

An item marked ``from_patient: sex`` or ``from_patient: age_group`` in the form is filled from
the patient's record when an evaluation starts: the sex when it is one of the item's choices, the
age band (the choice whose ``ages`` hold the age on the evaluation date) from the date of birth.
A record that says nothing usable (sex "unknown", no date of birth, an age no band holds) fills
nothing: the clinician asks as before. The values are ordinary findings, still changeable.
"""

from __future__ import annotations

from datetime import date

from clinic_app.core.form_schema import Form, Item


def age_on(date_of_birth: date, on: date) -> int:
    """Whole years of age on ``on`` (a birthday on 29 February counts from 1 March)."""
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def patient_value(item: Item, sex: str, date_of_birth: date | None, on: date) -> str | None:
    """The choice id the record gives ``item`` (None when the record does not answer it)."""
    if item.from_patient == "sex":
        return sex if sex in item.allowed else None
    if item.from_patient == "age_group" and date_of_birth is not None:
        age = age_on(date_of_birth, on)
        if age < 0:
            return None  # born after the evaluation date: a typing error in the record
        for choice in item.choices:
            if choice.ages is not None and choice.ages.min <= age <= choice.ages.max:
                return choice.id
    return None


def patient_values(form: Form, sex: str, date_of_birth: date | None, on: date) -> dict[str, str]:
    """Every ``from_patient`` item of ``form`` the record answers, by item id."""
    out: dict[str, str] = {}
    for item in form.items.values():
        if item.from_patient is None:
            continue
        value = patient_value(item, sex, date_of_birth, on)
        if value is not None:
            out[item.id] = value
    return out
