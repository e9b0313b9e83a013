"""Whether a date of birth is plausible: one rule for every route that stores one.

The patient dialog, the records API (so the CLI, the demo and every other caller of
``create_patient``/``update_patient``), the CSV patient import and ``report --patient-dob`` all
ask :func:`date_of_birth_problem`; each shows its answer the way it shows any refusal (beside the
field, as a StorageError, on the file's line, as the flag's error). A date of birth in the future
is refused, and so is one more than :data:`MAX_AGE_YEARS` years ago: 0001-01-01, 1800-01-01 or a
placeholder such as 1900-01-01 is a typing or conversion mistake, not a patient's age.

Records that already hold such a date are still read and shown as they are; only new input is
checked.
"""

from __future__ import annotations

from datetime import date

# The oldest verified human lived to 122: a living patient older than 120 is far likelier a
# mistyped year.
MAX_AGE_YEARS = 120


def earliest_birth(today: date) -> date:
    """The oldest date of birth accepted on ``today``: the same day ``MAX_AGE_YEARS`` earlier
    (28 February when ``today`` is 29 February and that year has none)."""
    year = today.year - MAX_AGE_YEARS
    if year < date.min.year:
        return date.min
    try:
        return today.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return date(year, 2, 28)


def date_of_birth_problem(born: date, today: date) -> str | None:
    """Why ``born`` cannot be a patient's date of birth on ``today``, naming the field; None
    when it can."""
    if born > today:
        return f"Date of birth: {born.isoformat()} is in the future"
    if born < earliest_birth(today):
        return f"Date of birth: {born.isoformat()} is more than {MAX_AGE_YEARS} years ago"
    return None
