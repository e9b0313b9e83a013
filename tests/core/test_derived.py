"""Items the patient record answers (issue 18): sex and the age band, from the shipped form."""

from __future__ import annotations

from datetime import date

import pytest

from clinic_app.core.derived import age_on, patient_values
from clinic_app.core.form import FormError, load_form
from clinic_app.paths import forms_dir


@pytest.fixture(scope="module")
def form():
    return load_form(forms_dir() / "hamstring_whole_body.yaml")


def test_sex_and_age_band_from_the_record(form) -> None:
    values = patient_values(form, "female", date(1991, 4, 12), date(2026, 4, 11))
    assert values == {"sex": "female", "age_group": "age_30s"}
    assert patient_values(form, "male", date(1991, 4, 12), date(2026, 4, 12))["age_group"] == (
        "age_30s"
    )
    assert patient_values(form, "male", date(1996, 4, 12), date(2026, 4, 12))["age_group"] == (
        "age_30s"
    )
    assert patient_values(form, "male", date(1996, 4, 13), date(2026, 4, 12))["age_group"] == (
        "age_20s"
    )


@pytest.mark.parametrize(
    ("sex", "born", "expected"),
    [
        ("unknown", None, {}),
        ("other", None, {}),
        ("unknown", date(2030, 1, 1), {}),  # born after the evaluation: nothing guessed
        ("female", date(1900, 1, 1), {"sex": "female", "age_group": "age_70_plus"}),
        ("male", date(2012, 2, 29), {"sex": "male", "age_group": "under_20"}),
    ],
)
def test_a_record_that_says_nothing_fills_nothing(form, sex, born, expected) -> None:
    assert patient_values(form, sex, born, date(2026, 4, 12)) == expected


def test_leap_day_birthday() -> None:
    assert age_on(date(2000, 2, 29), date(2020, 2, 28)) == 19
    assert age_on(date(2000, 2, 29), date(2020, 3, 1)) == 20


def test_the_form_refuses_a_band_without_ages(tmp_path) -> None:
    text = (forms_dir() / "hamstring_whole_body.yaml").read_text(encoding="utf-8")
    broken = text.replace(
        "{id: age_20s, label: 20-29, ages: {min: 20, max: 29}}", "{id: age_20s, label: 20-29}"
    )
    assert broken != text
    path = tmp_path / "form.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(FormError, match="ages"):
        load_form(path)
