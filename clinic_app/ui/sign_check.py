"""What *Sign…* shows before a signature: the sign check.

A signature makes the record permanent, so before it the clinician sees what the record still
lacks or asserts: fields holding text that is not stored (signing is refused until they are
mended), red flags that are set with their referral text (signing confirms they were acted on),
sections with nothing recorded, and values carried forward from the last visit that were not
re-measured or confirmed. Untouched sections do not stop a signature; invalid fields do.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from clinic_app.core.engine import RedFlagResult, assess
from clinic_app.core.findings import Findings
from clinic_app.core.form import Form, Item, Section, Side
from clinic_app.core.responses import score_mismatches
from clinic_app.core.visit import evaluation_sections


@dataclass(frozen=True)
class SignCheck:
    """The findings of the sign check; ``refused`` while any field is invalid."""

    invalid: tuple[tuple[Item, Side | None, str], ...]
    red_flags: tuple[RedFlagResult, ...]
    untouched: tuple[str, ...]  # section titles with nothing recorded
    carried: tuple[str, ...]  # item labels still carried forward, not re-confirmed
    # Score items typed over with a number their questionnaire's answers do not give (both named).
    scores: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        return bool(self.invalid)


def sign_check(
    form: Form,
    findings: Findings,
    invalid: list[tuple[Item, Side | None, str]],
    carried: tuple[str, ...] | list[str],
    sections: Sequence[Section] | None = None,
    assessed: Findings | None = None,
) -> SignCheck:
    """What signing would seal: ``sections`` are the pages shown (an evaluation's by default);
    the red flags are read from ``assessed`` when given (a visit note: the episode's latest
    values with the visit's over them), else from ``findings``."""
    shown = tuple(sections) if sections is not None else evaluation_sections(form)
    untouched = tuple(
        s.title
        for s in shown
        if s.id != form.plan_section
        and all(findings.values.get(i.id) in (None, {}) for i in s.items)
    )
    carried_set = set(carried)
    return SignCheck(
        invalid=tuple(invalid),
        red_flags=assess(form, assessed if assessed is not None else findings).red_flags,
        untouched=untouched,
        carried=tuple(i.label for i in form.items.values() if i.id in carried_set),
        scores=tuple(score_mismatches(form, findings.values)),
    )


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"


def refusal_text(check: SignCheck) -> str:
    """Why signing is refused, naming each invalid field and its reason."""
    lines = [
        f"<b>{html.escape(item.label)}{f' ({side})' if side else ''}</b>: {html.escape(reason)}"
        for item, side, reason in check.invalid
    ]
    return (
        "These fields show a value that is not accepted, so it is not stored. Correct or clear "
        f"them, then sign:{_list(lines)}"
    )


def leaving_text(invalid: Sequence[tuple[Item, Side | None, str]], what: str) -> str:
    """The question before closing a record whose fields show text that is not stored."""
    lines = [
        f"<b>{html.escape(item.label)}{f' ({side})' if side else ''}</b>: {html.escape(reason)}"
        for item, side, reason in invalid
    ]
    return (
        f"These fields of the {html.escape(what)} show a value that is not accepted, so it is "
        f"not stored:{_list(lines)}Go back to correct them, or close and lose what they show?"
    )


def confirmation_text(
    check: SignCheck, who: str, *, cosign: bool = False, what: str = "evaluation"
) -> str:
    """The question before signing: what is set, what is missing, then "Sign as …?"."""
    parts: list[str] = []
    if check.red_flags:
        flags = [
            f"<b>{html.escape(f.name)}</b> ({f.urgency.value}): {html.escape(f.message)}"
            for f in check.red_flags
        ]
        parts.append(
            f"<b>Red flags are set.</b>{_list(flags)}Signing confirms that each was acted on "
            "(referral given or arranged)."
        )
    if check.scores:
        parts.append(
            "<b>A score differs from its answers:</b>"
            + _list([html.escape(s) for s in check.scores])
            + "Correct the score, or sign if the number you typed is the one meant."
        )
    if check.carried:
        names = [html.escape(n) for n in check.carried[:12]]
        if len(check.carried) > 12:
            names.append(f"and {len(check.carried) - 12} more")
        parts.append(
            "<b>Carried forward from the last visit, not re-measured or confirmed:</b>"
            + _list(names)
        )
    if check.untouched:
        parts.append("<b>Nothing recorded in:</b> " + html.escape(", ".join(check.untouched)) + ".")
    if cosign:  # an assistant or student (issue 14)
        parts.append(
            f"Sign this {what} as <b>{html.escape(who)}</b>?<br><br>It then awaits a "
            "therapist's co-signature and cannot be changed unless a therapist returns it for "
            "changes."
        )
    else:
        parts.append(
            f"Sign this {what} as <b>{html.escape(who)}</b>?<br><br>A signed {what} "
            "cannot be changed; corrections are added as addenda."
        )
    return "<br><br>".join(parts)
