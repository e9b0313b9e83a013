"""A patient's record as a FHIR ``Bundle`` (issue 20): ``build_bundle(db, patient_id)``.

Built with the ``fhir.resources`` 8.3 models of its ``R4B`` subpackage (FHIR 4.3.0). R4B is the
R4-family model set that exists for pydantic 2; fhir.resources 6.x, the last release whose
default models are plain R4 (4.0.1), needs pydantic 1, which this app (pydantic 2 for its form
schema) cannot install beside it. Every resource and element used below exists in R4 with the
same meaning, so an R4 server reads the bundle.

What goes in, one resource per thing the clinic keeps: the Patient; a Practitioner per
clinician who recorded, signed, prepared or co-signed; an EpisodeOfCare, a CarePlan (the plan of
care and its goals) and a Goal per goal of each episode; an Encounter per evaluation and per
visit note; an Observation per finding and a QuestionnaireResponse per questionnaire answered
(``fhir_findings``); for each evaluation (not visit notes) a Condition per contributing factor,
pattern and red flag the assessment fired, its evidence as references to the Observations that
triggered it, marked provisional (the app suggests, the therapist decides), and a
ClinicalImpression that gathers them with the one-line summary; for each signed record a
DocumentReference with its signed PDF (made by the report writers, in memory) and a Provenance
that carries the seal and its Ed25519 signature.

Resource ids are UUIDs derived from the database's first audit hash and the record's own ids,
so exporting the same record twice gives the same ids (a receiving system updates instead of
duplicating) and two clinics never collide. The whole bundle is checked by
``Bundle.model_validate`` before anything is returned: an invalid bundle is a bug, never a file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from clinic_app.core import engine
from clinic_app.core import findings as findings_mod
from clinic_app.core.kinds import kind_label
from clinic_app.interop import fhir_codes as codes
from clinic_app.interop.fhir_findings import RecordContext, record_resources
from clinic_app.storage.errors import StorageError

if TYPE_CHECKING:
    from clinic_app.core.form import Form
    from clinic_app.reports.episode_data import EpisodeNotes
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Episode, Evaluation, Goal, PlanOfCare
    from clinic_app.storage.values import Patient

BundleKind = Literal["collection", "document"]
KINDS: tuple[BundleKind, ...] = ("collection", "document")
SUGGESTED = (
    "Suggested by clinic-app from the recorded findings; decision support only, the therapist "
    "decides."
)
_GOAL_STATUS = {
    # goal status -> (lifecycleStatus, achievementStatus code or None)
    "not_started": ("accepted", None),
    "progressing": ("active", "in-progress"),
    "met": ("completed", "achieved"),
    "not_met": ("active", "not-achieved"),
    "discontinued": ("cancelled", None),
}


class ExportError(StorageError):
    """The bundle could not be made (a stored record does not fit its form)."""


def _instant(at: datetime) -> str:
    """An instant with a time zone (FHIR requires one); stored times are UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.isoformat(timespec="seconds")


def _day(on: date) -> str:
    return on.isoformat()


@dataclass
class _Builder:
    namespace: uuid.UUID
    entries: list[dict[str, Any]]

    def url(self, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self.namespace, key)}"

    def add(self, key: str, resource: dict[str, Any]) -> str:
        url = self.url(key)
        resource["id"] = url.removeprefix("urn:uuid:")
        self.entries.append({"fullUrl": url, "resource": resource})
        return url


def _namespace(db: Database) -> uuid.UUID:
    """The database's own namespace: the hash of its first audit event (never changes)."""
    from sqlalchemy import select

    from clinic_app.storage import models as m

    with db.reading() as s:
        first = s.scalar(select(m.AuditEvent.hash).order_by(m.AuditEvent.id).limit(1))
    return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:clinic-app:database:{first or 'unchained'}")


def _signatures(db: Database, ids: Sequence[int]) -> dict[int, str | None]:
    """The Ed25519 signatures of the seals (the records API hands out the seal, not these)."""
    from sqlalchemy import select

    from clinic_app.storage import models as m

    if not ids:
        return {}
    with db.reading() as s:
        rows = s.execute(
            select(m.Evaluation.id, m.Evaluation.signature).where(m.Evaluation.id.in_(ids))
        )
        return {row_id: signature for row_id, signature in rows}


def _patient_resource(p: Patient) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": codes.MRN_SYSTEM, "value": p.mrn}],
        "active": not p.archived,
        "name": [{"family": p.family_name, "given": [p.given_name]}],
        "gender": p.sex,
    }
    name = out["name"][0]
    if not p.family_name:
        del name["family"]
    if not p.given_name:
        del name["given"]
    if p.date_of_birth is not None:
        out["birthDate"] = _day(p.date_of_birth)
    telecom = [{"system": "phone", "value": p.phone}] if p.phone else []
    telecom += [{"system": "email", "value": p.email}] if p.email else []
    if telecom:
        out["telecom"] = telecom
    if p.referring_provider:
        out["generalPractitioner"] = [{"display": p.referring_provider}]
    return out


class _Export:
    """One patient's bundle, resource by resource (entries in the order they are made)."""

    def __init__(self, db: Database, patient_id: int, include_pdf: bool) -> None:
        from clinic_app.storage import records

        self.db = db
        self.include_pdf = include_pdf
        self.patient = records.get_patient(db, patient_id)
        self.b = _Builder(_namespace(db), [])
        self.patient_url = self.b.add(f"patient/{patient_id}", _patient_resource(self.patient))
        self.practitioners: dict[str, str] = {}
        self.encounters: dict[int, str] = {}
        self.conditions: dict[str, str] = {}  # rule id -> the latest record's Condition
        self.signature: dict[int, str | None] = {}
        self.visit_notes: dict[int, EpisodeNotes] = {}  # episode id -> its shared parts

    # -- practitioners ---------------------------------------------------------------------

    def practitioner(
        self,
        clinician_id: int | None,
        name: str,
        credentials: str = "",
        licence: str = "",
    ) -> str:
        key = f"clinician/{clinician_id}" if clinician_id is not None else f"name/{name}"
        if key in self.practitioners:
            return self.practitioners[key]
        resource: dict[str, Any] = {"resourceType": "Practitioner", "name": [{"text": name}]}
        if licence:
            resource["identifier"] = [{"system": codes.LICENCE_SYSTEM, "value": licence}]
        if credentials:
            resource["qualification"] = [{"code": {"text": credentials}}]
        self.practitioners[key] = url = self.b.add(f"practitioner/{key}", resource)
        return url

    def clinician_of(self, ev: Evaluation) -> str | None:
        """The record's clinician: as sealed when signed, else as stored today."""
        from clinic_app.storage import records

        sealed = (ev.seal or {}).get("clinician") if ev.is_signed else None
        if isinstance(sealed, Mapping) and sealed.get("name"):
            return self.practitioner(
                ev.clinician_id,
                str(sealed["name"]),
                str(sealed.get("credentials", "")),
                str(sealed.get("licence_number", "")),
            )
        if ev.clinician_id is not None:
            who = records.get_clinician(self.db, ev.clinician_id)
            return self.practitioner(who.id, who.name, who.credentials, who.licence_number)
        return self.practitioner(None, ev.created_by)

    def signer_of(self, ev: Evaluation) -> str | None:
        if not ev.is_signed:
            return None
        signer = (ev.seal or {}).get("signer")
        if isinstance(signer, Mapping) and signer.get("name"):
            return self.practitioner(
                signer.get("clinician_id"),
                str(signer["name"]),
                str(signer.get("credentials", "")),
                str(signer.get("licence_number", "")),
            )
        return self.clinician_of(ev)

    # -- episodes ----------------------------------------------------------------------------

    def episode(self, ep: Episode) -> str:
        resource: dict[str, Any] = {
            "resourceType": "EpisodeOfCare",
            "status": "finished" if ep.end_date is not None else "active",
            "type": [{"text": ep.title}],
            "patient": {"reference": self.patient_url},
            "period": {"start": _day(ep.start_date)},
        }
        if ep.end_date is not None:
            resource["period"]["end"] = _day(ep.end_date)
        return self.b.add(f"episode/{ep.id}", resource)

    def care_plan(
        self,
        ep: Episode,
        episode_url: str,
        plans: Sequence[PlanOfCare],
        goal_urls: Sequence[str],
    ) -> None:
        closed = ep.end_date is not None
        resource: dict[str, Any] = {
            "resourceType": "CarePlan",
            "status": "completed" if closed else "active",
            "intent": "plan",
            "title": f"Plan of care: {ep.title}",
            "subject": {"reference": self.patient_url},
            "period": {"start": _day(plans[-1].start_date if plans else ep.start_date)},
            "supportingInfo": [{"reference": episode_url}],
        }
        if closed and ep.end_date is not None:
            resource["period"]["end"] = _day(ep.end_date)
        notes = []
        if ep.referral_source or ep.referral_reason:
            by = f" from {ep.referral_source}" if ep.referral_source else ""
            day = f" ({_day(ep.referral_date)})" if ep.referral_date else ""
            notes.append(f"Referral{by}{day}: {ep.referral_reason}".rstrip(": "))
        if plans:
            latest = plans[-1]
            if latest.interventions:
                resource["description"] = latest.interventions
            resource["created"] = _instant(latest.created_at)
            for plan in plans:
                dose = [
                    f"{plan.visits_per_week} visits a week" if plan.visits_per_week else "",
                    f"for {plan.duration_weeks} weeks" if plan.duration_weeks else "",
                    f"({plan.planned_visits} planned)" if plan.planned_visits else "",
                ]
                text = " ".join(d for d in dose if d) or "no frequency set"
                notes.append(f"Plan of care from {_day(plan.start_date)}: {text}.")
        if notes:
            resource["note"] = [{"text": n} for n in notes]
        if goal_urls:
            resource["goal"] = [{"reference": url} for url in goal_urls]
        self.b.add(f"episode/{ep.id}/careplan", resource)

    def goal(self, g: Goal, form: Form | None, closed: bool) -> str:
        from clinic_app.core.goals import target_text
        from clinic_app.storage.records import parse_target

        lifecycle, achieved = _GOAL_STATUS.get(g.status, ("active", None))
        if lifecycle == "active" and closed:
            lifecycle = "completed"
        resource: dict[str, Any] = {
            "resourceType": "Goal",
            "lifecycleStatus": lifecycle,
            "category": [codes.concept(codes.GOAL_TERM_SYSTEM, g.term, f"{g.term}-term goal")],
            "description": {"text": g.text},
            "subject": {"reference": self.patient_url},
            "startDate": _day(g.created_at.date()),
        }
        if achieved:
            resource["achievementStatus"] = {
                "coding": [codes.coding(codes.GOAL_ACHIEVEMENT, achieved)],
                "text": g.status.replace("_", " "),
            }
        if g.history:
            resource["statusDate"] = _day(g.history[-1].set_at.date())
            resource["note"] = [
                {
                    "text": f"{_day(h.set_at.date())} {h.status.replace('_', ' ')} "
                    f"(set by {h.set_by}"
                    + (f", suggested {h.suggested.replace('_', ' ')}" if h.suggested else "")
                    + ")"
                    + (f": {h.note}" if h.note else "")
                }
                for h in g.history
            ]
        target: dict[str, Any] = {}
        if g.target is not None and form is not None:
            leaf = parse_target(g.target, form)
            item = form.items.get(leaf.item) if leaf is not None else None
            if leaf is not None and item is not None:
                target["measure"] = codes.item_code(form.id, item)
                target["detailString"] = target_text(form, leaf)
        if g.target_date is not None:
            target["dueDate"] = _day(g.target_date)
        if target:
            resource["target"] = [target]
        if g.from_factor and g.from_factor in self.conditions:
            resource["addresses"] = [{"reference": self.conditions[g.from_factor]}]
        return self.b.add(f"goal/{g.id}", resource)

    # -- records -----------------------------------------------------------------------------

    def record(self, ev: Evaluation, form: Form, episode_url: str | None) -> None:
        try:
            findings = findings_mod.validate(form, dict(ev.findings))
        except findings_mod.FindingsError as err:
            raise ExportError(
                f"record {ev.id}: stored findings do not fit its form: " + "; ".join(err.problems)
            ) from None
        key = f"record/{ev.id}"
        clinician = self.clinician_of(ev)
        signer = self.signer_of(ev)
        encounter: dict[str, Any] = {
            "resourceType": "Encounter",
            "identifier": [{"system": codes.RECORD_SYSTEM, "value": str(ev.id)}],
            "status": "finished" if ev.is_signed else "in-progress",
            "class": dict(codes.ENCOUNTER_CLASS),
            "type": [codes.concept(codes.KIND_SYSTEM, ev.kind, kind_label(ev.kind))],
            "subject": {"reference": self.patient_url},
            "period": {"start": _day(ev.eval_date)},
        }
        if episode_url:
            encounter["episodeOfCare"] = [{"reference": episode_url}]
        people = [u for u in dict.fromkeys((clinician, signer)) if u]
        if people:
            encounter["participant"] = [{"individual": {"reference": u}} for u in people]
        enc_url = self.b.add(key, encounter)
        self.encounters[ev.id] = enc_url
        ctx = RecordContext(
            record_id=ev.id,
            day=_day(ev.eval_date),
            final=ev.is_signed,
            patient=self.patient_url,
            encounter=enc_url,
            performer=clinician,
            carried=frozenset(ev.carried_forward),
        )
        record_resources(form, findings, ctx, self.b.add, key)
        if not ev.is_visit:
            self.assessment(ev, form, findings, ctx, clinician)
        if ev.is_signed:
            document = self.document(ev, enc_url, signer) if self.include_pdf else None
            self.provenance(ev, ctx, signer, document)

    def assessment(
        self,
        ev: Evaluation,
        form: Form,
        findings: findings_mod.Findings,
        ctx: RecordContext,
        assessor: str | None,
    ) -> None:
        result = engine.assess(form, findings)
        side = result.involved
        fired: list[str] = []
        rules = [("factor", r) for r in result.factors] + [("pattern", r) for r in result.patterns]
        for kind, rule in rules:
            note = f"{SUGGESTED} {rule.strength} of {rule.indicators} indicators."
            if rule.opinion:
                note += " One author's opinion (see the form's sources)."
            if not rule.confirmed:
                note += " Possible, not confirmed: " + "; ".join(rule.would_confirm)
            url = self._condition(ev, form, ctx, kind, rule.id, rule.name, rule.evidence, side)
            self.b.entries[-1]["resource"]["note"] = [{"text": note}]
            if not rule.confirmed:
                self.b.entries[-1]["resource"]["verificationStatus"]["coding"][0]["code"] = (
                    "unconfirmed"
                )
            fired.append(url)
        for flag in result.red_flags:
            url = self._condition(
                ev, form, ctx, "red-flag", flag.id, flag.name, flag.evidence, side
            )
            self.b.entries[-1]["resource"]["note"] = [
                {"text": f"Red flag ({flag.urgency}): {flag.message} {SUGGESTED}"}
            ]
            fired.append(url)
        impression: dict[str, Any] = {
            "resourceType": "ClinicalImpression",
            "status": "completed" if ev.is_signed else "in-progress",
            "subject": {"reference": self.patient_url},
            "encounter": {"reference": ctx.encounter},
            "effectiveDateTime": ctx.day,
            "summary": result.summary.text,
            "note": [{"text": SUGGESTED}],
        }
        if assessor:
            impression["assessor"] = {"reference": assessor}
        if fired:
            impression["finding"] = [{"itemReference": {"reference": u}} for u in fired]
        self.b.add(f"record/{ev.id}/impression", impression)

    def _condition(
        self,
        ev: Evaluation,
        form: Form,
        ctx: RecordContext,
        kind: str,
        rule_id: str,
        name: str,
        evidence: Sequence[engine.Evidence],
        side: str | None,
    ) -> str:
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [codes.coding(codes.CONDITION_CLINICAL, "active")]},
            "verificationStatus": {
                "coding": [codes.coding(codes.CONDITION_VERIFICATION, "provisional")]
            },
            "category": [codes.concept(codes.RULE_KIND_SYSTEM, kind)],
            "code": codes.concept(codes.rules_system(form.id), rule_id, name),
            "subject": {"reference": self.patient_url},
            "encounter": {"reference": ctx.encounter},
            "recordedDate": ctx.day,
        }
        if side in codes.LATERALITY:
            resource["bodySite"] = [codes.laterality(side)]
        lines = []
        for line in evidence:
            entry: dict[str, Any] = {"code": [{"text": line.text}]}
            refs = ctx.observations.get(line.item_id, [])
            if refs:
                entry["detail"] = [{"reference": u} for u in refs]
            lines.append(entry)
        if lines:
            resource["evidence"] = lines
        url = self.b.add(f"record/{ev.id}/{kind}/{rule_id}", resource)
        self.conditions[rule_id] = url
        return url

    def document(self, ev: Evaluation, enc_url: str, signer: str | None) -> str:
        data, title = signed_pdf(self.db, ev, self.visit_notes)
        attachment: dict[str, Any] = {
            "contentType": "application/pdf",
            "data": base64.b64encode(data).decode("ascii"),
            "size": len(data),
            "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),  # noqa: S324 - FHIR's Attachment.hash is SHA-1
            "title": title,
        }
        if ev.signed_at is not None:
            attachment["creation"] = _instant(ev.signed_at)
        resource: dict[str, Any] = {
            "resourceType": "DocumentReference",
            "status": "current",
            "docStatus": "final",
            "type": codes.concept(codes.DOCUMENT_SYSTEM, ev.kind, title),
            "subject": {"reference": self.patient_url},
            "description": title,
            "content": [{"attachment": attachment}],
            "context": {
                "encounter": [{"reference": enc_url}],
                "period": {"start": _day(ev.eval_date)},
            },
        }
        if ev.signed_at is not None:
            resource["date"] = _instant(ev.signed_at)
        if signer:
            resource["author"] = [{"reference": signer}]
            resource["authenticator"] = {"reference": signer}
        return self.b.add(f"record/{ev.id}/pdf", resource)

    def provenance(
        self, ev: Evaluation, ctx: RecordContext, signer: str | None, document: str | None
    ) -> None:
        targets = [ctx.encounter, *(document and [document] or [])]
        targets += [u for urls in ctx.observations.values() for u in urls] + ctx.responses
        sealed = {
            "seal": ev.seal,
            "signature": self.signature.get(ev.id),
            "content_hash": ev.content_hash,
        }
        data = json.dumps(sealed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        at = _instant(ev.signed_at) if ev.signed_at is not None else ctx.day
        resource: dict[str, Any] = {
            "resourceType": "Provenance",
            "target": [{"reference": u} for u in targets],
            "recorded": at,
            "agent": [],
            "signature": [
                {
                    "type": [dict(codes.SIGNATURE_TYPE)],
                    "when": at,
                    "who": {"reference": signer} if signer else {"display": ev.signed_by or ""},
                    "sigFormat": "application/json",
                    "data": base64.b64encode(data.encode("utf-8")).decode("ascii"),
                }
            ],
        }
        if ev.prepared_by:
            preparer = self.practitioner(ev.prepared_by_id, ev.prepared_by)
            resource["agent"].append(_agent("author", preparer))
            if signer:
                resource["agent"].append(_agent("verifier", signer))
        elif signer:
            resource["agent"].append(_agent("author", signer))
        if not resource["agent"]:
            resource["agent"].append({"who": {"display": ev.signed_by or "unknown"}})
        self.b.add(f"record/{ev.id}/provenance", resource)


def _pruned(value: Any) -> Any:
    """``value`` without empty strings, lists and objects, which FHIR forbids (an empty
    referral reason, a clinician without credentials): left out, as FHIR means "not known"."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ("", [], {}, None)}
    if isinstance(value, list):
        kept_items = [_pruned(v) for v in value]
        return [v for v in kept_items if v not in ("", [], {}, None)]
    return value


def _agent(role: str, who: str) -> dict[str, Any]:
    return {
        "type": {"coding": [codes.coding(codes.PROVENANCE_AGENT, role)]},
        "who": {"reference": who},
    }


def signed_pdf(db: Database, ev: Evaluation, notes: dict[int, EpisodeNotes]) -> tuple[bytes, str]:
    """The signed record's PDF, made in memory by the same writer as ``clinic-app report``; a
    visit note from its episode's ``notes`` (episode id -> its shared parts, made when missing)."""
    stream = io.BytesIO()
    if ev.is_visit:
        from clinic_app.reports.visit_note import build_visit_note

        assert ev.episode_id is not None  # every stored row has its episode (0006)
        if ev.episode_id not in notes:
            from clinic_app.reports.episode_data import EpisodeNotes

            notes[ev.episode_id] = EpisodeNotes(db, ev.episode_id)
        build_visit_note(notes[ev.episode_id].data(db, ev), stream)
        title = f"Visit note of {_day(ev.eval_date)}"
    else:
        from clinic_app.reports import build_clinician_report
        from clinic_app.reports.records import report_data_for_evaluation

        build_clinician_report(report_data_for_evaluation(db, ev.id), stream)
        title = f"{kind_label(ev.kind)} report of {_day(ev.eval_date)}"
    return stream.getvalue(), title


def _composition(
    export: _Export, sections: Sequence[tuple[str, list[str]]], now: str
) -> dict[str, Any]:
    """The first entry of a ``document`` bundle: what the document is and its sections."""
    p = export.patient
    authors = list(dict.fromkeys(export.practitioners.values()))
    return {
        "resourceType": "Composition",
        "status": "final",
        "type": codes.concept(codes.DOCUMENT_SYSTEM, "record-export", "Physical therapy record"),
        "subject": {"reference": export.patient_url},
        "date": now,
        "author": [{"reference": u} for u in authors] or [{"display": "clinic-app"}],
        "title": f"Physical therapy record of {p.given_name} {p.family_name}".strip(),
        "section": [
            {"title": title, "entry": [{"reference": u} for u in refs]}
            for title, refs in sections
            if refs
        ],
    }


def build_bundle(
    db: Database,
    patient_id: int,
    *,
    kind: BundleKind = "collection",
    include_pdf: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The patient's whole record as a FHIR R4B Bundle (a JSON-ready dict), validated by
    ``fhir.resources``. Raises NotFoundError for an unknown patient and ExportError when a
    stored record does not fit its form."""
    from fhir.resources.R4B.bundle import Bundle

    from clinic_app.storage import records

    if kind not in KINDS:
        raise ExportError(f"bundle kind {kind!r} is not one of {', '.join(KINDS)}")
    export = _Export(db, patient_id, include_pdf)
    summaries = records.list_evaluations(db, patient_id)
    evaluations = [records.get_evaluation(db, s.id) for s in summaries]
    export.signature = _signatures(db, [ev.id for ev in evaluations if ev.is_signed])
    episodes = records.list_episodes(db, patient_id)
    episode_urls = {ep.id: export.episode(ep) for ep in episodes}
    forms: dict[int, Form] = {}
    for ev in evaluations:
        form = records.evaluation_form(db, ev.id)
        forms[ev.episode_id or 0] = form
        export.record(ev, form, episode_urls.get(ev.episode_id or 0))
    for ep in reversed(episodes):  # oldest first, as the records
        goals = records.list_goals(db, ep.id)
        episode_form = forms.get(ep.id)
        goal_urls = [export.goal(g, episode_form, ep.end_date is not None) for g in goals]
        export.care_plan(ep, episode_urls[ep.id], records.plan_history(db, ep.id), goal_urls)
    stamp = _instant(now or datetime.now(UTC))
    entries = export.b.entries
    if kind == "document":
        sections = [(export.patient.display_name, [export.patient_url])]
        of_encounter: dict[str, list[str]] = {}  # one pass, not one pass per record
        for e in entries:
            if (ref := e["resource"].get("encounter", {}).get("reference")) is not None:
                of_encounter.setdefault(ref, []).append(e["fullUrl"])
        for ev in evaluations:
            enc = export.encounters[ev.id]
            refs = [enc, *of_encounter.get(enc, [])]
            sections.append((f"{kind_label(ev.kind)} {_day(ev.eval_date)}", refs))
        composition = _composition(export, sections, stamp)
        entries = [
            {"fullUrl": export.b.url(f"patient/{patient_id}/composition"), "resource": composition},
            *entries,
        ]
        composition["id"] = entries[0]["fullUrl"].removeprefix("urn:uuid:")
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "type": kind,
        "timestamp": stamp,
        "entry": entries,
    }
    out: dict[str, Any] = _pruned(bundle)
    # Validation only: dumping the model back costs as much again and gives the same JSON.
    Bundle.model_validate(out)
    return out
