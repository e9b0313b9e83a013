"""Dialogs over the records API: patient details, first run (clinic and clinician), settings.

Each dialog checks what it can before saving and shows every problem beside its field; the
records API has the last word (e.g. a duplicate MRN entered on another workstation a moment ago),
and its refusal is shown beside the field too. Saving is an operation on the window's runner
(``clinic_app.ui.operations``): the dialog stays open, with Save disabled, until it is stored;
a database that fails is shown the app's one way and the dialog stays as typed. Nothing typed is
cleared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from html import escape
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.patient_checks import date_of_birth_problem
from clinic_app.storage.errors import DuplicateMRNError, PatientConflictError
from clinic_app.storage.records import ClinicianInfo, ClinicInfo, Patient, PatientFields
from clinic_app.storage.search import parse_date
from clinic_app.storage.values import PATIENT_FIELDS, Clinician
from clinic_app.ui.operations import Changes, OperationRunner, show_failure
from clinic_app.ui.path_label import PathLabel
from clinic_app.ui.scroll_form import scroll_fields

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

# The clinic-wide settings an admin edits in Settings: key, label, hint, range (records.settings
# checks the same ranges when saving).
ADMIN_SETTINGS = (
    (
        "idle_lock_minutes",
        "Lock after (minutes)",
        "minutes without use before a window hides patient data",
        1,
        240,
    ),
    (
        "progress_every_visits",
        "Progress report every (visits)",
        "plan-of-care default: visits between progress reports",
        1,
        100,
    ),
    (
        "progress_every_days",
        "Progress report every (days)",
        "plan-of-care default: days between progress reports",
        1,
        365,
    ),
    ("recert_days", "Recertify the plan after (days)", "plan-of-care default", 1, 365),
)
SEXES = (("unknown", "Not recorded"), ("female", "Female"), ("male", "Male"), ("other", "Other"))


def check_date_of_birth(
    text: str, today: date | None = None, kept: date | None = None
) -> tuple[date | None, str | None]:
    """The date typed in the DOB field, or the reason it is refused. Blank is allowed, and so is
    ``kept``, the date the record already holds (an old record's other fields stay editable)."""
    today = today or date.today()
    if not text.strip():
        return None, None
    born = parse_date(text)
    if born is None:
        return None, "Not a date: use YYYY-MM-DD (or DD.MM.YYYY)"
    problem = None if born == kept else date_of_birth_problem(born, today)
    return (None, problem) if problem else (born, None)


class FieldError(QLabel):
    """The red line under a field saying what is wrong with it (hidden when nothing is).

    Signals: none.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "error")
        self.setWordWrap(True)
        self.hide()

    def show_problem(self, problem: str | None) -> None:
        self.setText(problem or "")
        self.setVisible(bool(problem))


@dataclass
class _Field:
    widget: QLineEdit | QComboBox | QPlainTextEdit
    error: FieldError


class _FormDialog(QDialog):
    """A dialog of labelled fields, each with an error line beneath it.

    Signals: those of QDialog (``accepted``/``rejected``); subclasses add ``saved``.
    """

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.fields: dict[str, _Field] = {}
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(20, 18, 20, 16)
        self.layout_.setSpacing(10)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

    def done(self, result: int) -> None:
        """Close, and give the keyboard back to the window it was opened from (a platform
        without a window manager, or a dialog closed from an operation's handler, leaves no
        window active otherwise, and the next typing would go nowhere)."""
        super().done(result)
        parent = self.parentWidget()
        if parent is not None:
            parent.window().activateWindow()

    def _form(self, title: str | None = None) -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(4)
        if title is None:
            self.layout_.addLayout(form)
        else:
            box = QGroupBox(title, self)
            box.setLayout(form)
            self.layout_.addWidget(box)
        return form

    def _add(
        self,
        form: QFormLayout,
        key: str,
        label: str,
        widget: QLineEdit | QComboBox | QPlainTextEdit,
        placeholder: str = "",
    ) -> None:
        widget.setObjectName(key)
        widget.setAccessibleName(label.rstrip(" *"))
        if placeholder and isinstance(widget, QLineEdit | QPlainTextEdit):
            widget.setPlaceholderText(placeholder)
        box = QWidget(self)
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(widget)
        error = FieldError(box)
        error.setObjectName(f"{key}_error")
        v.addWidget(error)
        lab = QLabel(label, self)
        lab.setBuddy(widget)
        form.addRow(lab, box)
        self.fields[key] = _Field(widget, error)

    def text(self, key: str) -> str:
        w = self.fields[key].widget
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText().strip()
        if isinstance(w, QComboBox):
            return str(w.currentData())
        return w.text().strip()

    def set_text(self, key: str, value: str) -> None:
        w = self.fields[key].widget
        if isinstance(w, QPlainTextEdit):
            w.setPlainText(value)
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(max(0, w.findData(value)))
        else:
            w.setText(value)

    def problem(self, key: str, message: str | None) -> None:
        self.fields[key].error.show_problem(message)
        w = self.fields[key].widget
        w.setProperty("invalid", message is not None)
        w.style().unpolish(w)
        w.style().polish(w)

    def problems(self) -> dict[str, str]:
        return {k: f.error.text() for k, f in self.fields.items() if f.error.text()}

    def _finish(self) -> None:
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.buttons)

    def on_buttons_accepted(self) -> None:
        raise NotImplementedError


class PatientDialog(_FormDialog):
    """Create or edit a patient; saves through the records API when the user presses Save.

    Signals: ``saved(Patient)`` — the stored patient, after a successful save.
    """

    saved = Signal(object)

    def __init__(
        self,
        runner: OperationRunner,
        user: str,
        patient: Patient | None = None,
        parent: QWidget | None = None,
        today: date | None = None,
    ) -> None:
        super().__init__("Edit patient" if patient else "New patient", parent)
        self.runner = runner
        self.user = user
        self.original = patient
        self.patient: Patient | None = patient
        self.today = today or date.today()
        form = self._form()
        self._add(form, "given_name", "Given name *", QLineEdit(self))
        self._add(form, "family_name", "Family name *", QLineEdit(self))
        self._add(form, "mrn", "MRN *", QLineEdit(self), "Medical record number")
        self._add(form, "date_of_birth", "Date of birth", QLineEdit(self), "YYYY-MM-DD")
        sex = QComboBox(self)
        for value, label in SEXES:
            sex.addItem(label, value)
        self._add(form, "sex", "Sex", sex)
        self._add(form, "activity", "Sport / activity", QLineEdit(self), "e.g. marathon running")
        self._add(form, "phone", "Phone", QLineEdit(self))
        self._add(form, "email", "Email", QLineEdit(self))
        self._add(form, "referring_provider", "Referred by", QLineEdit(self))
        note = QLabel("* required", self)
        note.setProperty("role", "secondary")
        self.layout_.addWidget(note)
        self._finish()
        # A new patient's MRN proposed from the clinic's pattern (Settings); typing another
        # one uses that instead. Saving takes the next free number if another workstation
        # took this one meanwhile (records.mrn).
        self.mrn_pattern, self.proposed_mrn = ("", "") if patient else self._propose_mrn()
        if self.proposed_mrn:
            mrn_field = self.fields["mrn"].widget
            assert isinstance(mrn_field, QLineEdit)
            mrn_field.setText(self.proposed_mrn)
            mrn_field.setToolTip(
                "The next number of the clinic's pattern; type another MRN to use that one"
            )
            mrn_field.setAccessibleDescription(mrn_field.toolTip())
        if patient is not None:
            for key in ("given_name", "family_name", "mrn", "activity", "phone", "email"):
                self.set_text(key, getattr(patient, key))
            self.set_text("referring_provider", patient.referring_provider)
            self.set_text("sex", patient.sex)
            if patient.date_of_birth:
                self.set_text("date_of_birth", patient.date_of_birth.isoformat())
        self.setMinimumWidth(520)

    def _propose_mrn(self) -> tuple[str, str]:
        """The clinic's MRN pattern and its next free number ("" and "" when MRNs are typed,
        or when the database cannot say: the field is then simply empty)."""

        today = self.today  # not self: the worker must hold no reference to a widget

        def read(db: Database) -> tuple[str, str]:
            from clinic_app.storage import records
            from clinic_app.storage.records.mrn import next_mrn

            pattern = str(records.get_setting(db, "mrn_pattern") or "")
            return pattern, next_mrn(db, pattern, today) if pattern else ""

        try:
            result: tuple[str, str] = self.runner.call("Proposing an MRN", read)
        except Exception:  # no proposal; saving will say what is wrong with the database
            return "", ""
        return result

    def is_proposed_mrn(self, mrn: str) -> bool:
        """Whether ``mrn`` is the automatic proposal (not typed): saving may renumber it."""
        return bool(self.proposed_mrn) and mrn == self.proposed_mrn

    def check(self) -> PatientFields | None:
        """The typed fields if they can be saved; else shows each problem and returns None."""
        ok = True
        for key, label in (("given_name", "given name"), ("family_name", "family name")):
            missing = not self.text(key)
            self.problem(key, f"Enter the {label}" if missing else None)
            ok = ok and not missing
        mrn = self.text("mrn")
        taken_by = self._mrn_taken_by(mrn) if mrn and not self.is_proposed_mrn(mrn) else None
        if not mrn:
            self.problem("mrn", "Enter the medical record number")
        else:
            self.problem("mrn", f"MRN {mrn} is already used by {taken_by}" if taken_by else None)
        ok = ok and bool(mrn) and taken_by is None
        kept = self.original.date_of_birth if self.original else None
        born, why = check_date_of_birth(self.text("date_of_birth"), self.today, kept)
        self.problem("date_of_birth", why)
        ok = ok and why is None
        email = self.text("email")
        bad_email = bool(email) and "@" not in email
        self.problem("email", "An email address needs an @" if bad_email else None)
        ok = ok and not bad_email
        if not ok:
            return None
        return PatientFields(
            given_name=self.text("given_name"),
            family_name=self.text("family_name"),
            mrn=mrn,
            date_of_birth=born,
            sex=self.text("sex"),  # type: ignore[arg-type]
            phone=self.text("phone"),
            email=email,
            activity=self.text("activity"),
            referring_provider=self.text("referring_provider"),
        )

    def _mrn_taken_by(self, mrn: str) -> str | None:
        """Whose MRN this is, if another patient's: a quick read, so that every problem shows
        at once. Saving checks again (another workstation may take it meanwhile)."""
        original = self.original

        def lookup(db: Database) -> str | None:
            from clinic_app.storage import records

            other = records.get_patient_by_mrn(db, mrn)
            if other is None or (original is not None and other.id == original.id):
                return None
            return other.display_name

        try:
            return self.runner.call("Checking the MRN", lookup)
        except Exception:  # the save will say what is wrong with the database
            return None

    def on_buttons_accepted(self) -> None:
        data = self.check()
        if data is None:
            return
        original, user = self.original, self.user
        pattern = self.mrn_pattern if self.is_proposed_mrn(data.mrn) else ""
        today = self.today

        def op(db: Database) -> Patient | tuple[str, str]:
            """The stored patient; or ("taken", who) when the MRN belongs to someone else."""
            from clinic_app.storage import records
            from clinic_app.storage.records.mrn import create_patient_numbered

            if pattern and original is None:  # the proposal, or the next free number
                return create_patient_numbered(db, data, pattern, user=user, today=today)
            other = records.get_patient_by_mrn(db, data.mrn)
            if other is not None and (original is None or other.id != original.id):
                return ("taken", other.display_name)
            if original is None:
                return records.create_patient(db, data, user=user)
            return records.update_patient(
                db, original.id, data, user=user, expected=original
            ).patient

        self._save("Saving the patient", op, data)

    def _save(self, what: str, op: Any, data: PatientFields) -> None:
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(False)  # one save at a time; the fields stay as typed

        def done(result: Patient | tuple[str, str]) -> None:
            save.setEnabled(True)
            if isinstance(result, tuple):
                self.problem("mrn", f"MRN {data.mrn} is already used by {result[1]}")
                return
            self.original = self.patient = result
            self.accept()  # closed first: the window it returns to is active again
            self.saved.emit(result)

        def failed(err: BaseException) -> None:
            save.setEnabled(True)
            if isinstance(err, PatientConflictError):
                self.resolve_conflict(err, data)  # saves and closes, or leaves it as typed
            elif isinstance(err, DuplicateMRNError):
                self.problem("mrn", f"MRN {data.mrn} is already used by another patient")
            else:
                show_failure(self, what, err)

        self.runner.run(
            what,
            op,
            on_success=done,
            on_failure=failed,
            parent=self,
            changes=lambda r: Changes() if isinstance(r, tuple) else Changes.patient(r.id),
        )

    def resolve_conflict(self, err: PatientConflictError, data: PatientFields) -> bool:
        """Someone else changed the same details meanwhile: show both, let the user choose.

        "Keep mine" saves my values over theirs for those details; "Use theirs" takes their
        values for them. Either way my other edits and their other changes are both kept. Closing
        the question saves nothing and leaves the dialog as typed. True when a save was started
        (the dialog closes once it is stored).
        """
        assert self.original is not None
        theirs: Patient = err.theirs
        who = theirs.updated_by or "someone else"
        when = theirs.updated_at.astimezone().strftime("%H:%M on %Y-%m-%d")
        lines = "".join(
            f"<li>{PATIENT_FIELD_LABELS.get(k, k)}: theirs <b>{_shown(getattr(theirs, k))}</b>, "
            f"yours <b>{_shown(getattr(data, k))}</b></li>"
            for k in err.fields
        )
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Patient changed meanwhile",
            f"{escape(who)} changed this patient at {when} while you were editing:"
            f"<ul>{lines}</ul>Their other changes and yours are both kept. For these:",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setTextFormat(Qt.TextFormat.RichText)
        mine_button = box.addButton("Keep mine", QMessageBox.ButtonRole.AcceptRole)
        theirs_button = box.addButton("Use theirs", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() not in (mine_button, theirs_button):
            return False
        mine = {
            k: getattr(data, k)
            for k in PATIENT_FIELDS
            if getattr(data, k) != getattr(self.original, k)
            and (box.clickedButton() is mine_button or k not in err.fields)
        }
        merged = replace(theirs.fields(), **mine)
        user = self.user

        def op(db: Database) -> Patient:
            from clinic_app.storage import records

            return records.update_patient(db, theirs.id, merged, user=user, expected=theirs).patient

        self.original = theirs  # changed once more meanwhile: asked again, from theirs
        self._save("Saving the patient", op, data)
        return True


PATIENT_FIELD_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "mrn": "MRN",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "phone": "Phone",
    "email": "Email",
    "activity": "Sport / activity",
    "referring_provider": "Referred by",
}


def _shown(value: object) -> str:
    """A value for the conflict question, as HTML that does not break inside the value."""
    text = "(empty)" if value in (None, "") else str(value)
    return escape(text).replace(" ", "&nbsp;")


def clinic_detail_fields(
    parent: QWidget,
) -> list[tuple[str, str, QLineEdit | QComboBox | QPlainTextEdit]]:
    """The clinic's details as fields (key, label, widget): Settings and the first start show
    the same ones. Made in this order, which is also the Tab order."""
    name = QLineEdit(parent)
    address = QPlainTextEdit(parent)
    address.setTabChangesFocus(True)
    address.setFixedHeight(58)
    phone = QLineEdit(parent)
    paper = QComboBox(parent)
    paper.addItem("A4", "A4")
    paper.addItem("US Letter", "Letter")
    return [
        ("clinic_name", "Clinic name *", name),
        ("clinic_address", "Address", address),
        ("clinic_phone", "Phone", phone),
        ("paper_size", "Paper size", paper),
    ]


class ClinicDialog(_FormDialog):
    """First run and settings: the clinic's details and the clinician using this computer.

    With ``show_storage`` it also shows where the data lives (data folder and database URL);
    with ``admin`` the clinic-wide settings an admin decides (the idle lock's minutes).

    Signals: ``saved(object)`` — the clinician (``records.Clinician``) after saving.
    """

    saved = Signal(object)

    def __init__(
        self,
        runner: OperationRunner,
        clinician_id: int | None = None,
        first_run: bool = False,
        show_storage: bool = True,
        parent: QWidget | None = None,
        admin: bool = False,
    ) -> None:
        super().__init__("Welcome to clinic_app" if first_run else "Settings", parent)
        self.runner = runner
        self.admin = admin
        self.clinician: Any = None
        self.clinician_id = clinician_id
        if first_run:
            intro = QLabel(
                "<b>Set up this computer.</b><br>The clinic's details print on every report; the "
                "clinician's name signs evaluations and is recorded with every change.",
                self,
            )
            intro.setWordWrap(True)
            self.layout_.addWidget(intro)
        clinic = self._form("Clinic")
        for key, label, widget in clinic_detail_fields(self):
            self._add(clinic, key, label, widget)
        who = self._form("Clinician")
        self._add(
            who, "clinician_name", "Name *", QLineEdit(self), "As it should appear on reports"
        )
        self._add(who, "credentials", "Credentials", QLineEdit(self), "e.g. PT, DPT")
        self._add(who, "licence_number", "Licence number", QLineEdit(self))
        if admin:
            rules = self._form("Every workstation of the clinic")
            for key, label, hint, _low, _high in ADMIN_SETTINGS:
                self._add(rules, key, label, QLineEdit(self), hint)
            self._add(
                rules,
                "mrn_pattern",
                "Automatic MRN",
                QLineEdit(self),
                "e.g. P{year}-{n:05}; empty: MRNs are typed",
            )
        self.storage_labels: dict[str, PathLabel] = {}
        if show_storage:
            from clinic_app.paths import data_dir

            store = self._form("Where the data lives")
            for key, label, value in (
                ("data_dir", "Data folder", str(data_dir())),
                ("database", "Database", runner.db.display_url),
            ):
                lab = PathLabel(value, self)
                lab.setObjectName(key)
                store.addRow(label, lab)
                self.storage_labels[key] = lab
        self._finish()
        # Taller than a 1024x700 screen for an admin: the fields scroll, Save stays in view.
        self.scroll_area = scroll_fields(self, self.layout_, self.buttons)

        def read(db: Database) -> tuple[ClinicInfo | None, Clinician | None, dict[str, Any]]:
            from clinic_app.storage import records

            who = None if clinician_id is None else records.get_clinician(db, clinician_id)
            keys = [key for key, *_ in ADMIN_SETTINGS] + ["mrn_pattern"]
            settings = {key: records.get_setting(db, key) for key in keys}
            return records.get_clinic(db), who, settings

        info, c, settings = runner.call("Reading the clinic's details", read)
        if admin:
            for key, value in settings.items():
                self.set_text(key, str(value))
        if info is not None:
            self.set_text("clinic_name", info.name)
            self.set_text("clinic_address", info.address)
            self.set_text("clinic_phone", info.phone)
            self.set_text("paper_size", info.paper_size)
        if c is not None:
            self.set_text("clinician_name", c.name)
            self.set_text("credentials", c.credentials)
            self.set_text("licence_number", c.licence_number)
        self.setMinimumWidth(520)

    def on_buttons_accepted(self) -> None:
        name = self.text("clinic_name")
        person = self.text("clinician_name")
        self.problem("clinic_name", None if name else "Enter the clinic's name")
        self.problem("clinician_name", None if person else "Enter the clinician's name")
        rules = self._admin_settings() if self.admin else {}
        if not name or not person or rules is None:
            return
        fields = {k: self.text(k) for k in ("clinic_address", "clinic_phone", "paper_size")}
        profile = ClinicianInfo(
            name=person,
            credentials=self.text("credentials"),
            licence_number=self.text("licence_number"),
        )
        clinician_id = self.clinician_id

        def op(db: Database) -> Clinician:
            from clinic_app.storage import records

            old = records.get_clinic(db)
            info = ClinicInfo(
                name=name,
                address=fields["clinic_address"],
                phone=fields["clinic_phone"],
                logo=old.logo if old else None,
                paper_size=fields["paper_size"],  # type: ignore[arg-type]
            )
            records.save_clinic(db, info, user=person)
            for key, value in (rules or {}).items():
                records.save_setting(db, key, value, user=person)
            return records.save_clinician(db, profile, user=person, clinician_id=clinician_id)

        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(False)

        def done(clinician: Clinician) -> None:
            save.setEnabled(True)
            self.clinician = clinician
            self.accept()
            self.saved.emit(clinician)

        def failed(err: BaseException) -> None:
            save.setEnabled(True)
            show_failure(self, "Saving the settings", err)

        self.runner.run(
            "Saving the settings",
            op,
            on_success=done,
            on_failure=failed,
            parent=self,
            changes=Changes(clinic=True),
        )

    def _admin_settings(self) -> dict[str, int | str] | None:
        """The clinic-wide values typed (idle lock, plan-of-care intervals, the MRN pattern),
        or None with each problem shown beside its field."""
        from clinic_app.storage.records.mrn import pattern_problem

        out: dict[str, int | str] = {}
        pattern = self.text("mrn_pattern")
        why = pattern_problem(pattern)
        self.problem("mrn_pattern", None if why is None else f"The MRN pattern {why}")
        ok = why is None
        out["mrn_pattern"] = pattern
        for key, label, _hint, low, high in ADMIN_SETTINGS:
            text = self.text(key)
            value = int(text) if text.isdigit() else None
            good = value is not None and low <= value <= high
            if key == "idle_lock_minutes":
                problem = f"Enter whole minutes from {low} to {high}"
            else:
                problem = f"{label}: enter a whole number from {low} to {high}"
            self.problem(key, None if good else problem)
            if good and value is not None:
                out[key] = value
            ok = ok and good
        return out if ok else None
