"""The readable text of ``clinic-app assess``: the assessment as a clinician reads it in a terminal.

Words, not identifiers: the running level is printed as the handout names it ("Red flag, stop
and call us"), with the red flag that set it; the advice is printed by its title ("Do not
stretch it for now"), so a "do not stretch" from a nerve or tendon rule cannot be missed.
"""

from __future__ import annotations

from clinic_app.core.engine import Assessment, RuleResult


def _rule_lines(r: RuleResult, head: str) -> list[str]:
    lines = [head]
    if not r.confirmed:
        lines.append(
            "      possible, not confirmed; would be confirmed by: " + " or ".join(r.would_confirm)
        )
    lines.extend(f"      - {e.text}" for e in r.evidence)
    return lines


def render_text(result: Assessment) -> str:
    from clinic_app.reports import content

    advice = content.advice()
    levels = content.handout_text().run_levels()
    lines: list[str] = []
    if result.red_flags:
        lines.append("RED FLAGS")
        for flag in result.red_flags:
            lines.append(f"  [{flag.urgency.value.upper()}] {flag.id} {flag.name}")
            lines.append(f"      {flag.message}")
            lines.extend(f"      - {e.text}" for e in flag.evidence)
        if result.emergency:
            lines.append("  Emergency handout: the emergency message, when to seek help and the")
            lines.append("  clinic's contact only (no exercises, tips or traffic light).")
        lines.append("")
    lines.append(f"Summary: {result.summary.text}")
    lines.append("")
    if result.factors:
        lines.append("Contributing factors (strongest first)")
    else:
        lines.append("No contributing factors")
    for f in result.factors:
        label = " [opinion]" if f.opinion else ""
        lines += _rule_lines(
            f,
            f"  {f.id} {f.name}{label}  ({f.region}; {f.strength} of {f.indicators} indicators;"
            f" sources {', '.join(f.sources)})",
        )
    if result.patterns:
        lines.append("")
        lines.append("Patterns")
        for p in result.patterns:
            head = f"  {p.id} {p.name}  ({p.strength} of {p.indicators} indicators)"
            lines += _rule_lines(p, head)
    if result.running is not None:
        run = result.running
        words = levels[run.level.value].label if run.level.value in levels else run.level.value
        lines.append("")
        lines.append(f"Running: {words}. {run.label}: {run.message}")
        lines.extend(f"      - {e.text}" for e in run.evidence)
    if result.advice:
        lines.append("")
        lines.append("Advice")
        for aid in result.advice:
            entry = advice.get(aid)
            lines.append(f"  - {entry.title if entry is not None else aid}")
    lines.append("")
    lines.append("Suggestions only: the treating clinician decides.")
    return "\n".join(lines)
