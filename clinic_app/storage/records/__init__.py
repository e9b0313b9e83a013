"""The records API: patients, clinicians, evaluations, addenda and the audit trail.

Plain values in, plain values out: every function takes the open :class:`Database` first and
returns frozen dataclasses (never ORM objects), so a screen can keep what it got without holding
a session. Each call is one short transaction (``Database.writing``/``reading``), committed or
rolled back in one place. Every mutation returns what changed and writes an audit event in the
same transaction.

Evaluations are drafts until signed. ``save_draft`` is cheap and idempotent (no write when nothing
changed), so the editor can call it on every autosave tick; it carries the version the editor
loaded, and a save over someone else's newer version raises :class:`ConflictError` with their
findings instead of overwriting them. A signed evaluation is locked (API and database triggers);
only addenda may follow.

``user`` arguments name the person acting (login name or clinician name); they are stored in
``updated_by``/``signed_by``/audit events as given.

One module per entity (``clinic``, ``patients``, ``search``, ``evaluations``, ``forms``,
``history``, ``audit``; the values in ``values``). Callers use the names re-exported here:
``__all__`` holds the old ``records.py``'s ``__all__`` and the other public names it defined or
imported (the Literal aliases, ``PATIENT_FIELDS``, ``HASHED_FIELDS``, ``RANK_CAP``...).
"""

from __future__ import annotations

from clinic_app.storage.records._common import checked_text
from clinic_app.storage.records.access import (
    ACCESS_ACTIONS,
    AccessEntry,
    access_log,
    log_access,
    log_accesses,
    write_access_csv,
)
from clinic_app.storage.records.audit import audit_events
from clinic_app.storage.records.clinic import (
    get_clinic,
    get_clinician,
    list_clinicians,
    save_clinic,
    save_clinician,
)
from clinic_app.storage.records.episodes import (
    care_due,
    create_episode,
    current_plan,
    get_episode,
    list_episodes,
    plan_history,
    save_plan,
    timeline,
    update_episode,
)
from clinic_app.storage.records.evaluations import (
    HASHED_FIELDS,
    add_addendum,
    content_hash,
    episode_records,
    get_evaluation,
    list_evaluations,
    save_draft,
    start_evaluation,
    verify_evaluation,
)
from clinic_app.storage.records.forms import evaluation_form, remember_form
from clinic_app.storage.records.goals import (
    add_goal,
    get_goal,
    list_goals,
    parse_target,
    set_goal_status,
    update_goal,
)
from clinic_app.storage.records.history import measure_history
from clinic_app.storage.records.patients import (
    archive_patient,
    create_patient,
    get_patient,
    get_patient_by_mrn,
    update_patient,
)
from clinic_app.storage.records.programs import (
    ImportResult,
    Template,
    add_exercise,
    add_picture,
    clinic_exercises,
    exercise_history,
    export_library,
    get_pictures,
    get_template,
    import_library,
    keep_pictures,
    list_templates,
    load_library,
    program_pictures,
    save_template,
    update_exercise,
)
from clinic_app.storage.records.search import (
    RANK_CAP,
    count_patients,
    list_patients,
    search_patients,
)
from clinic_app.storage.records.settings import SETTINGS, all_settings, get_setting, save_setting
from clinic_app.storage.records.signing import (
    cosign_evaluation,
    return_for_changes,
    sign_evaluation,
)
from clinic_app.storage.records.values import (
    Addendum,
    AuditEntry,
    CareDue,
    ClinicianInfo,
    ClinicInfo,
    DraftSaved,
    Episode,
    EpisodeInfo,
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
    EvaluationSummary,
    Goal,
    GoalInfo,
    GoalStatusEntry,
    GoalStatusName,
    GoalTerm,
    InvolvedSide,
    MeasurePoint,
    PaperSize,
    PatientChange,
    PlanInfo,
    PlanOfCare,
    Signed,
    TimelineEntry,
)
from clinic_app.storage.sealing import Broken, seal_problems, verify_database
from clinic_app.storage.values import (
    PATIENT_FIELDS,
    Clinician,
    Patient,
    PatientFields,
    PatientSort,
    Sex,
)

__all__ = [
    "ACCESS_ACTIONS",
    "AccessEntry",
    "access_log",
    "log_access",
    "log_accesses",
    "write_access_csv",
    "Addendum",
    "AuditEntry",
    "Broken",
    "ClinicInfo",
    "Clinician",
    "ClinicianInfo",
    "DraftSaved",
    "Evaluation",
    "EvaluationKind",
    "EvaluationStatus",
    "EvaluationSummary",
    "HASHED_FIELDS",
    "InvolvedSide",
    "MeasurePoint",
    "PATIENT_FIELDS",
    "PaperSize",
    "Patient",
    "PatientChange",
    "PatientFields",
    "PatientSort",
    "RANK_CAP",
    "SETTINGS",
    "Sex",
    "Signed",
    "add_addendum",
    "all_settings",
    "archive_patient",
    "audit_events",
    "checked_text",
    "content_hash",
    "count_patients",
    "create_patient",
    "evaluation_form",
    "get_clinic",
    "get_clinician",
    "get_evaluation",
    "get_patient",
    "get_patient_by_mrn",
    "get_setting",
    "list_clinicians",
    "list_evaluations",
    "list_patients",
    "measure_history",
    "remember_form",
    "save_clinic",
    "save_clinician",
    "save_draft",
    "save_setting",
    "search_patients",
    "seal_problems",
    "sign_evaluation",
    "cosign_evaluation",
    "return_for_changes",
    "start_evaluation",
    "update_patient",
    "verify_database",
    "verify_evaluation",
    # episodes of care (issue 15)
    "CareDue",
    "Episode",
    "EpisodeInfo",
    "Goal",
    "GoalInfo",
    "GoalStatusEntry",
    "GoalStatusName",
    "GoalTerm",
    "PlanInfo",
    "PlanOfCare",
    "TimelineEntry",
    "add_goal",
    "care_due",
    "episode_records",
    "create_episode",
    "current_plan",
    "get_episode",
    "get_goal",
    "list_episodes",
    "list_goals",
    "parse_target",
    "plan_history",
    "save_plan",
    "set_goal_status",
    "timeline",
    "update_episode",
    "update_goal",
    # the exercise library and saved programs (issue 17)
    "ImportResult",
    "Template",
    "add_exercise",
    "add_picture",
    "clinic_exercises",
    "exercise_history",
    "export_library",
    "get_pictures",
    "get_template",
    "import_library",
    "keep_pictures",
    "list_templates",
    "load_library",
    "program_pictures",
    "save_template",
    "update_exercise",
]
