"""Demo data: a handful of realistic patients and evaluations, for trying the app and for tests.

Names come from several scripts (Müller, Zoë, Łukasz, 王芳, Núñez) so that search, sorting, reports
and fonts are exercised. Findings tell clinical stories from the domain brief: a runner with
proximal tendinopathy and a signed evaluation with an addendum and a re-evaluation, a footballer
with a sudden pop (a red flag), a sprinter with sciatic nerve involvement, a badminton player with
weak hip flexors on the opposite side, a triathlete with SI and core findings.

Every value is checked against the form with ``clinic_app.core.findings.validate``; items the form
does not have are left out (``unknown_items`` tells which, and a test keeps it empty for the
shipped form).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from clinic_app.core import findings as findings_mod
from clinic_app.core.form import Form
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError

DEMO_USER = "demo"
MRN_PREFIX = "DEMO-"


@dataclass(frozen=True)
class DemoPatient:
    fields: r.PatientFields
    # (days before today, kind, values, sign?, addendum text)
    visits: tuple[tuple[int, r.EvaluationKind, Mapping[str, Any], bool, str], ...]


def _lr(left: Any, right: Any) -> dict[str, Any]:
    return {"left": left, "right": right}


ANNA_INITIAL: dict[str, Any] = {
    "involved_side": "right",
    "age_group": "age_40s",
    "sex": "female",
    "onset": "gradual",
    "onset_mechanism": ["long_run", "hills"],
    "duration_weeks": 10,
    "pain_now": 3,
    "pain_worst": 6,
    "pain_location": {"right": ["sit_bone", "thigh_upper"]},
    "pain_quality": ["ache"],
    "aggravating": ["sitting", "uphill_stairs", "running"],
    "sitting_tolerance_min": 30,
    "sitting_hours": 8,
    "previous_strains": 0,
    "weekly_volume_km": 55,
    "load_increase_pct": 25,
    "training_includes": ["hills", "long_runs"],
    "training_changes": ["more_volume", "more_hills"],
    "pain_during_run": 4,
    "run_pain_behaviour": "warms_up",
    "pain_next_day": 4,
    "worse_next_day": "no",
    "hip_flexor_mmt": _lr(4.5, 5),
    "hip_ext_mmt": _lr(5, 4),
    "hip_ext_torque": _lr(150, 118),
    "hip_abd_mmt": _lr(5, 4.5),
    "trendelenburg": _lr("negative", "positive"),
    "ischial_tenderness": _lr("none", "moderate"),
    "puranen_orava": _lr("negative", "positive"),
    "bent_knee_stretch": _lr("negative", "positive"),
    "modified_bent_knee_stretch": _lr("negative", "positive"),
    "nordic_force": _lr(290, 235),
    "sl_bridge_reps": _lr(24, 16),
    "slr_deg": _lr(85, 78),
    "ake_deg": _lr(18, 24),
    "slump": _lr("negative", "negative"),
    "hop_painful": _lr("no", "no"),
    "lefs_total": 58,
    "psfs_mean": 5.5,
    "psfs_activity_1": "Sitting through a work meeting",
    "psfs_activity_2": "Running hills",
    "assessment": "Proximal hamstring tendon irritation with load error; glute weakness right.",
    "plan": "Isometrics, hip thrust progression, reduce hills, break up sitting.",
    "goals": "Run the city half-marathon in 12 weeks.",
}
ANNA_REVIEW: dict[str, Any] = {
    **ANNA_INITIAL,
    "pain_now": 1,
    "pain_worst": 3,
    "sitting_tolerance_min": 60,
    "hip_ext_torque": _lr(152, 138),
    "nordic_force": _lr(300, 272),
    "sl_bridge_reps": _lr(26, 22),
    "ischial_tenderness": _lr("none", "mild"),
    "lefs_total": 70,
    "psfs_mean": 7.5,
}

ZOE_POP: dict[str, Any] = {
    "involved_side": "left",
    "age_group": "age_20s",
    "sex": "female",
    "onset": "sudden",
    "onset_mechanism": ["sprinting", "overstretch"],
    "duration_weeks": 0.5,
    "pain_now": 7,
    "pain_worst": 9,
    "pain_location": {"left": ["sit_bone", "thigh_upper"]},
    "pain_quality": ["sharp"],
    "rf_pop": "yes",
    "rf_bruising": "yes",
    "rf_gap": "no",
    "rf_cannot_bear_weight": "no",
    "knee_flex_mmt_90": _lr(3, 5),
    "knee_flex_painful": _lr("yes", "no"),
    "belly_tenderness": _lr("marked", "none"),
    "assessment": "Sudden pop with bruising while sprinting: possible avulsion. Urgent referral.",
    "plan": "Refer to sports physician today for imaging. No stretching.",
}

LUKASZ_NERVE: dict[str, Any] = {
    "involved_side": "right",
    "age_group": "age_30s",
    "sex": "male",
    "onset": "gradual",
    "onset_mechanism": ["no_clear_event"],
    "duration_weeks": 6,
    "pain_now": 4,
    "pain_worst": 7,
    "pain_location": {"right": ["buttock", "thigh_mid", "below_knee"]},
    "pain_quality": ["tingling", "burning", "spreading"],
    "aggravating": ["sitting", "bending_forward", "sprinting"],
    "back_pain_history": "yes",
    "lumbar_mobility": "stiff",
    "slump": _lr("negative", "positive"),
    "slr_neural_onset_deg": _lr(80, 45),
    "slr_neural_sensitised": _lr("negative", "positive"),
    "neuro_screen": _lr("normal", "normal"),
    "slr_deg": _lr(82, 60),
    "forward_bend_pattern": "guarded",
    "pain_during_run": 5,
    "run_pain_behaviour": "grows",
    "assessment": "Sciatic nerve sensitivity with a stiff lower back.",
    "plan": "Nerve gliding, lumbar mobility; no static hamstring stretching.",
}

WANG_HIPS: dict[str, Any] = {
    "involved_side": "left",
    "age_group": "age_20s",
    "sex": "female",
    "onset": "gradual",
    "duration_weeks": 4,
    "pain_now": 2,
    "pain_worst": 5,
    "pain_location": {"left": ["thigh_mid"]},
    "pain_quality": ["pulling"],
    "previous_strains": 2,
    "scar_history": "no",
    "hip_flexor_mmt": _lr(5, 4),
    "hip_flexor_force": _lr(210, 165),
    "psoas_tenderness": _lr("none", "moderate"),
    "thomas_deg": _lr(0, 12),
    "hip_abd_mmt": _lr(4.5, 5),
    "nordic_force": _lr(240, 300),
    "slr_deg": _lr(72, 86),
    "ake_deg": _lr(28, 16),
    "heel_raise_reps": _lr(22, 30),
    "ankle_df_deg": _lr(15, 20),
    "shoulder_height_asym": _lr("no", "yes"),
    "arm_swing": _lr("normal", "over_rotation"),
    "overstride": "yes",
    "crossover": "yes",
}

NUNEZ_CORE: dict[str, Any] = {
    "involved_side": "both",
    "age_group": "age_50s",
    "sex": "male",
    "onset": "gradual",
    "duration_weeks": 16,
    "pain_now": 3,
    "pain_worst": 5,
    "pain_location": _lr(["si_joint", "thigh_upper"], ["si_joint"]),
    "aggravating": ["sitting", "dressing"],
    "sitting_hours": 9,
    "back_pain_history": "yes",
    "si_cluster_positive": 3,
    "pelvic_alignment": _lr("high", "level"),
    "aslr_difficulty": _lr(2, 1),
    "trunk_flexor_endurance_s": 60,
    "trunk_extensor_endurance_s": 45,
    "side_bridge_s": _lr(35, 52),
    "gait_pelvic_drop": "left_stance",
    "gait_pelvic_drop_deg": 7,
    "trunk_rotation": "yes",
    "scar_restriction": _lr("yes", "no"),
    "scar_where": "Left posterior thigh, old strain 2019",
    "lefs_total": 61,
}

PATIENTS: tuple[DemoPatient, ...] = (
    DemoPatient(
        r.PatientFields(
            "Anna",
            "Müller",
            "DEMO-0001",
            date(1983, 5, 14),
            "female",
            "+49 89 555 0101",
            "anna.mueller@example.org",
            "Marathon running",
            "Dr. Brandt (sports medicine)",
        ),
        (
            (
                42,
                "initial",
                ANNA_INITIAL,
                True,
                "Phone call 3 days later: sitting pain eased with a cushion.",
            ),
            (7, "re_evaluation", ANNA_REVIEW, False, ""),
        ),
    ),
    DemoPatient(
        r.PatientFields(
            "Zoë",
            "Lambert",
            "DEMO-0002",
            date(2002, 9, 3),
            "female",
            "+33 6 55 01 02 03",
            "zoe.lambert@example.org",
            "Football (winger)",
            "Club doctor",
        ),
        ((1, "initial", ZOE_POP, False, ""),),
    ),
    DemoPatient(
        r.PatientFields(
            "Łukasz",
            "Nowak",
            "DEMO-0003",
            date(1992, 2, 29),
            "male",
            "+48 22 555 0103",
            "lukasz.nowak@example.org",
            "Sprinting (200 m)",
            "",
        ),
        ((14, "initial", LUKASZ_NERVE, True, ""),),
    ),
    DemoPatient(
        r.PatientFields(
            "芳",
            "王",
            "DEMO-0004",
            date(2003, 11, 8),
            "female",
            "+86 10 5555 0104",
            "wang.fang@example.org",
            "Badminton",
            "",
        ),
        ((21, "initial", WANG_HIPS, False, ""),),
    ),
    DemoPatient(
        r.PatientFields(
            "Lucía",
            "Núñez",
            "DEMO-0005",
            date(1971, 7, 22),
            "male",
            "+34 91 555 0105",
            "lucia.nunez@example.org",
            "Triathlon",
            "Dra. Ortega (GP)",
        ),
        ((30, "initial", NUNEZ_CORE, True, ""),),
    ),
    DemoPatient(
        r.PatientFields("Oliver", "O'Brien", "DEMO-0006", None, "male", "", "", "Hurling", ""),
        (),
    ),
)


def unknown_items(form: Form) -> set[str]:
    """Demo item ids the form does not have (empty for the shipped form)."""
    used: set[str] = set()
    for patient in PATIENTS:
        for _days, _kind, values, _sign, _note in patient.visits:
            used.update(values)
    return used - set(form.items)


def demo_findings(form: Form, values: Mapping[str, Any]) -> findings_mod.Findings:
    """The demo values the form has, validated (raises FindingsError for a bad value)."""
    known = {k: v for k, v in values.items() if k in form.items}
    return findings_mod.validate(form, {"values": known})


@dataclass(frozen=True)
class DemoResult:
    patients: int
    evaluations: int
    signed: int
    skipped_items: tuple[str, ...]


def fill_demo(db: Database, form: Form, *, today: date | None = None) -> DemoResult:
    """Add the demo clinic, clinicians, patients and evaluations. Refuses to add them twice."""
    if r.get_patient_by_mrn(db, PATIENTS[0].fields.mrn) is not None:
        raise StorageError("the demo patients are already in this database")
    today = today or date.today()
    if r.get_clinic(db) is None:
        r.save_clinic(
            db,
            r.ClinicInfo(
                name="Riverside Physiotherapy",
                address="12 Mill Lane\nCambridge CB2 1RX",
                phone="+44 1223 555 010",
                paper_size="A4",
            ),
            user=DEMO_USER,
        )
    lead = r.save_clinician(
        db, r.ClinicianInfo("Dr Maya Okafor", "PT, DPT", "PT-20417"), user=DEMO_USER
    )
    other = r.save_clinician(
        db, r.ClinicianInfo("Sam Jørgensen", "MSc Physio", "HCPC-88311"), user=DEMO_USER
    )
    evaluations = signed = 0
    for n, patient in enumerate(PATIENTS):
        made = r.create_patient(db, patient.fields, user=DEMO_USER)
        clinician = lead if n % 2 == 0 else other
        for days, kind, values, sign, note in patient.visits:
            ev = r.start_evaluation(
                db,
                made.id,
                form,
                user=clinician.name,
                kind=kind,
                clinician_id=clinician.id,
                eval_date=today - timedelta(days=days),
            )
            saved = r.save_draft(
                db, ev.id, demo_findings(form, values), ev.version, user=clinician.name
            )
            evaluations += 1
            if sign:
                r.sign_evaluation(db, ev.id, saved.version, user=clinician.name)
                signed += 1
                if note:
                    r.add_addendum(db, ev.id, note, user=clinician.name)
    archived = r.get_patient_by_mrn(db, PATIENTS[-1].fields.mrn)
    assert archived is not None
    r.archive_patient(db, archived.id, user=DEMO_USER)
    return DemoResult(len(PATIENTS), evaluations, signed, tuple(sorted(unknown_items(form))))
