"""Every document made from hostile stored values: a clinic built with the records API in a real
SQLite file, each PDF written by the real command (``clinic-app report``), read back with pypdf
and pdftotext.

What a person can type goes in: a name of 100 + 100 characters mixing Arabic, Hebrew, combining
marks, zero-width joiners, emoji, Korean, Chinese and reportlab markup look-alikes (``<b>``,
``&amp;``, ``<para>``, ``<font size=200>``, an unmatched ``<``); texts at their limits; an
addendum (which the records API takes at any length) of 5,000 lines and one of 100,000
characters; 200 visit notes and 60 goals in one episode; a date of birth of 0001-01-01 and an
episode in the last month of 9999. Each document must be made, print the typed text literally
(characters no embedded font has marked as U+FFFD, never a NUL), keep every word inside the
margins and stay a sane number of pages. Then where the PDF goes: an existing file, a symbolic
link, a FIFO, a folder, and the mode of what is written.

Known and left (see the session report): right-to-left text is drawn left to right (reportlab
without a bidi library) and Korean syllables are not in the bundled CJK face.
"""

from __future__ import annotations

import io
import os
import re
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from clinic_app.cli import main
from clinic_app.core import findings as findings_mod
from clinic_app.core.form import NUMERIC_TYPES, Form, ItemType
from clinic_app.reports import build_clinician_report, build_handout, handout, layout
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from tests.reliability.helpers import REPO, child_env
from tests.reports.conftest import MakeData, Pdf, build_pdf, need_tool, with_values
from tests.storage.test_dob_routes import plant_date_of_birth

RTL = "مرحبا بالعالم שלום עולם"
COMBINING = "Zoë Z\u0308o\u0301e\u0301\u0323 a\u0301\u0300\u0302\u0303"
JOINED = "👨\u200d👩\u200d👧 🏃\u200d♀️ 👍🏽"
CJK = "王芳 Wang Fang 山田太郎 김민수"
MARKUP = "<b>bold</b> &amp; <para> <font size=200>big</font> < unmatched <br/> &lt; ]]>"
WORD = "x" * 2000
MIXED = " ".join([RTL, COMBINING, JOINED, CJK, MARKUP])
PLAN = "1. Nordic lowers 3x6 <b>slow</b>\n2. Bridges & hinges\n3. Run < 20 min"
LINES = 5000
START = date(2026, 1, 1)
NORDIC_GOAL = {"item": "nordic_force", "measure": "deficit", "op": "<", "threshold": 10}
BUDGET_S = 120.0
"""A whole document, start-up included; the old code took 7 minutes for the clinician report."""


@dataclass
class Clinic:
    url: str
    folder: Path
    initial_id: int
    visit_id: int
    episode_id: int
    discharge_id: int
    built: dict[tuple[str, ...], tuple[Path, Pdf]] = field(default_factory=dict)
    seconds: dict[tuple[str, ...], float] = field(default_factory=dict)


def _record(
    db: Database,
    form: Form,
    patient: int,
    episode: int,
    kind: Any,
    on: date,
    values: dict[str, Any],
    *,
    sign: bool,
) -> int:
    ev = r.start_evaluation(
        db, patient, form, user="dana", kind=kind, eval_date=on, episode_id=episode
    )
    saved = r.save_draft(db, ev.id, {"values": values}, ev.version, user="dana")
    if sign:
        r.sign_evaluation(db, ev.id, saved.version, user="dana")
    return ev.id


def _visit_values(n: int) -> dict[str, Any]:
    row = {"kind": "exercise", "name": (MARKUP + WORD)[:120], "sets": 20, "reps": 200}
    return {
        "pain_now": n % 11,
        "visit_pain_worst": 10,
        "visit_report_text": (MIXED + " " + WORD)[:2000],
        "hep_barriers": (MARKUP + WORD)[:500],
        "interventions": [{**row, "load": (RTL + JOINED)[:40], "minutes": 180}] * 30,
        "visit_impression": PLAN,
        "nordic_force": {"left": n * 5 % 1000, "right": 1000 - n},
    }


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory, form: Form) -> Clinic:
    folder = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{folder / 'clinic.db'}"
    db = open_database(url, backup=False)
    r.save_clinic(
        db, r.ClinicInfo(("Clinic " + RTL + " " + MARKUP)[:200], "1 Rd\n" + RTL), user="a"
    )
    who = r.save_clinician(db, r.ClinicianInfo(("Dr " + COMBINING + JOINED)[:200], "PT"), user="a")
    given = (RTL + COMBINING + "<b>" * 10 + "y" * 100)[:100]
    family = (CJK + JOINED + "&amp;" * 5 + "z" * 100)[:100]
    patient = r.create_patient(db, r.PatientFields(given, family, "M<b>&amp;" + "9" * 50), user="a")
    plant_date_of_birth(db, patient.id, date(1, 1, 1))  # an old record's: new ones are refused
    info = r.EpisodeInfo(
        (MARKUP + RTL + WORD)[:200],
        "left",
        referral_source=(MARKUP + WORD)[:200],
        referral_reason=(MIXED + " " + WORD)[:4000],
        start_date=START,
    )
    episode = r.create_episode(db, patient.id, info, user="dana").id
    values = {
        "assessment": ((MIXED + " " + WORD + "\n") * 3)[:4000],
        "plan": PLAN,
        "nordic_force": {"left": 0, "right": 1000},
    }
    ev = r.start_evaluation(
        db, patient.id, form, user="dana", eval_date=START, episode_id=episode, clinician_id=who.id
    )
    saved = r.save_draft(db, ev.id, {"values": values}, ev.version, user="dana")
    r.sign_evaluation(db, ev.id, saved.version, user="dana")
    r.add_addendum(db, ev.id, "\n".join(f"row {n} {MARKUP}" for n in range(LINES)), user="dana")
    r.add_addendum(db, ev.id, "word " * 20_000 + "LASTWORD " + WORD, user="dana")
    for g in range(60):
        goal = r.GoalInfo(
            "short" if g % 2 else "long",
            (f"G{g:02d} " + MIXED + " " + WORD)[:500],
            NORDIC_GOAL if g % 3 == 0 else None,
            START + timedelta(days=g),
        )
        r.add_goal(db, episode, goal, user="dana", form=form)
    r.save_plan(db, episode, r.PlanInfo(START, 7, 52, 364, (MIXED + WORD)[:4000]), user="dana")
    visits = []
    for n in range(200):
        on = START + timedelta(days=n // 3)
        values = _visit_values(n)
        visits.append(_record(db, form, patient.id, episode, "visit", on, values, sign=n % 2 == 0))
    later = {"plan": PLAN, "nordic_force": {"left": 1000, "right": 0}, "pain_now": 0}
    end = START + timedelta(days=70)
    discharge = _record(db, form, patient.id, episode, "discharge", end, later, sign=True)
    db.close()
    return Clinic(url, folder, ev.id, visits[0], episode, discharge)


def _report(clinic: Clinic, *args: str) -> tuple[Path, Pdf]:
    """``clinic-app report ARGS`` run as its own process (once per ARGS in this module): the
    PDF's path and its text; the seconds it took go to ``clinic.seconds``."""
    if args in clinic.built:
        return clinic.built[args]
    out = clinic.folder / f"doc-{len(clinic.built)}.pdf"
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "clinic_app", "--database", clinic.url, "report", *args]
            + ["-o", str(out)],
            cwd=REPO,
            env=child_env(),  # this process's data folder: the key the records were sealed with
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=BUDGET_S,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"clinic-app report {' '.join(args)} still running after {BUDGET_S:.0f} s")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    clinic.seconds[args] = time.monotonic() - started
    clinic.built[args] = (out, Pdf(out.read_bytes()))
    return clinic.built[args]


def _words_outside(pdf_path: Path, right: float, left: float) -> list[str]:
    """Words whose box leaves the text column (pdftotext -bbox, in points). Its page title
    holds the patient's name with emoji, which poppler writes as UTF-16 surrogates: replaced."""
    html = subprocess.run(
        [need_tool("pdftotext"), "-bbox", str(pdf_path), "-"], check=True, capture_output=True
    ).stdout.decode("utf-8", errors="replace")
    out = []
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)', html):
        x0, x1 = float(m.group(1)), float(m.group(2))
        if x0 < left - 1 or x1 > right + 1:
            out.append(f"{m.group(3)!r} {x0:.0f}-{x1:.0f}")
    return out


def _squeezed(text: str) -> str:
    """Without any white space: a wrapped line may break inside a CJK run or a long word."""
    return re.sub(r"\s+", "", text)


DOCUMENTS = {
    "clinician report": (lambda c: [str(c.initial_id), "--kind", "clinician"], 400),
    "handout": (lambda c: [str(c.initial_id), "--kind", "handout"], 8),
    "visit note": (lambda c: [str(c.visit_id)], 120),
    "progress report": (lambda c: [str(c.episode_id), "--kind", "progress"], 80),
    "discharge summary": (lambda c: [str(c.episode_id), "--kind", "discharge"], 80),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_each_document_prints_hostile_text_inside_the_page(clinic: Clinic, name: str) -> None:
    args, most_pages = DOCUMENTS[name]
    out, pdf = _report(clinic, *args(clinic))
    assert 1 <= len(pdf.pages) <= most_pages, f"{len(pdf.pages)} pages"
    assert "\x00" not in pdf.text  # reportlab's empty box for a missing glyph copies out as NUL
    squeezed = _squeezed(pdf.text)
    assert "<b>" * 10 + "y" * 20 in squeezed  # the patient's name, as typed
    assert "&amp;" * 5 + "z" * 20 in squeezed
    if name != "handout":  # the handout prints no clinical free text
        assert _squeezed(MARKUP) in squeezed  # printed as typed, never read as markup
    assert "SEAL BROKEN" not in pdf.text
    assert (
        _squeezed("王芳 Wang Fang 山田太郎 ") + "\ufffd" * 3 in squeezed
    )  # 김민수: no face has it
    width = float(pdf.reader.pages[0].mediabox.width)
    margin = handout.SIDE_MARGIN if name == "handout" else layout.MARGIN
    outside = _words_outside(out, width - margin, margin)
    assert not outside, outside[:5]
    seconds = clinic.seconds[tuple(args(clinic))]
    print(f"{name}: {len(pdf.pages)} pages in {seconds:.1f} s")  # noqa: T201 - the figure


def test_long_addenda_print_every_line_in_order_in_time(clinic: Clinic) -> None:
    """reportlab wraps the rest of a paragraph again at every page it splits: one addendum of
    5,000 lines took two minutes, the whole report seven. The text is printed in pieces now."""
    _out, pdf = _report(clinic, *DOCUMENTS["clinician report"][0](clinic))  # old code: timeout
    found = re.findall(r"^\s*row (\d+) <b>bold</b>", pdf.text, flags=re.MULTILINE)
    assert [int(n) for n in found] == list(range(LINES)), "each typed line starts a line"
    assert "word word LASTWORD " + "x" * 50 in pdf.flat


def test_single_line_breaks_of_the_plan_are_kept(
    small: tuple[str, int], clinic: Clinic, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The clinician report ran a plan's lines together ("...3x6 slow 2. Bridges..."); the visit
    note kept them. Both keep them now."""
    url, ev = small
    out = tmp_path / "plan.pdf"
    assert _write(url, ev, out, capsys)[0] == 0
    _out, visit = _report(clinic, *DOCUMENTS["visit note"][0](clinic))
    for pdf in (Pdf(out.read_bytes()), visit):
        lines = [line.strip() for line in pdf.text.splitlines()]
        for typed in PLAN.splitlines():
            assert typed in lines, typed


def test_goals_and_visits_of_a_long_episode_are_all_counted(clinic: Clinic) -> None:
    _out, pdf = _report(clinic, *DOCUMENTS["progress report"][0](clinic))
    assert "200 visit notes from 1 Jan 2026 to 8 Mar 2026 (100 signed)" in pdf.flat
    assert {int(n) for n in re.findall(r"G(\d\d) ", pdf.flat)} == set(range(60))


def test_an_episode_at_the_end_of_the_calendar(tmp_path: Path, form: Form) -> None:
    """The next progress report of an episode in December 9999 would be due in the year 10000:
    care_due raised OverflowError and ``report --kind progress`` ended in a traceback."""
    url = f"sqlite:///{tmp_path / 'late.db'}"
    db = open_database(url, backup=False)
    try:
        start = date(9999, 12, 1)
        p = r.create_patient(db, r.PatientFields("Late", "Kim", "L-1"), user="a")
        plant_date_of_birth(db, p.id, date(9999, 12, 31))  # an old record's: new ones are refused
        ep = r.create_episode(db, p.id, r.EpisodeInfo("Left", "left", start_date=start), user="a")
        r.save_plan(db, ep.id, r.PlanInfo(start, 7, 52, 364, "Load"), user="a")
        goal = r.GoalInfo("short", "Deficit below 10%", NORDIC_GOAL, date(9999, 12, 31))
        r.add_goal(db, ep.id, goal, user="a", form=form)
        force = {"nordic_force": {"left": 100, "right": 200}, "plan": PLAN}
        _record(db, form, p.id, ep.id, "initial", start, force, sign=True)
        visit = _record(db, form, p.id, ep.id, "visit", date(9999, 12, 30), force, sign=True)
        _record(db, form, p.id, ep.id, "re_evaluation", date(9999, 12, 31), force, sign=True)
    finally:
        db.close()
    for args in (["--kind", "progress"], ["--kind", "discharge"]):
        out = tmp_path / "late.pdf"
        code = main(["--database", url, "report", str(ep.id), *args, "-o", str(out)])
        assert code == 0
        flat = Pdf(out.read_bytes()).flat
        assert "31 Dec 9999" in flat
        assert "Progress report due" not in flat  # it would fall in the year 10000
    out = tmp_path / "visit.pdf"
    assert main(["--database", url, "report", str(visit), "-o", str(out)]) == 0
    assert "Date of birth 31 Dec 9999" in Pdf(out.read_bytes()).flat


@pytest.mark.parametrize("extreme", ["min", "max", "min | max"])
def test_numbers_at_the_ends_of_their_ranges(form: Form, make_data: MakeData, extreme: str) -> None:
    """Every numeric item at the lowest or highest value the form accepts (bilateral ones also
    lowest on the left and highest on the right: a 100% deficit, or 0 against 0)."""
    values: dict[str, Any] = {}
    for item in form.items.values():
        if item.type not in NUMERIC_TYPES:
            continue
        low, high = (
            (item.range.min, item.range.max)
            if item.range
            else (0, 5 if item.type is ItemType.MMT else 10)
        )
        one = {"min": low, "max": high, "min | max": high}[extreme]
        two = (
            {"left": low, "right": high} if extreme == "min | max" else {"left": one, "right": one}
        )
        values[item.id] = two if item.bilateral else one
    data = make_data(findings_mod.validate(form, {"values": values}))
    for builder in (build_clinician_report, build_handout):
        pdf = build_pdf(builder, data)
        assert 1 <= len(pdf.pages) <= 8
        assert "nan" not in pdf.flat.lower().split()


def _program(lines: int) -> dict[str, Any]:
    """A stored home program whose note and instructions are many short lines (a list typed by
    the therapist), each at its length limit (2,000 and 500 characters)."""
    exercises = ["dead_bug", "glute_bridge", "side_plank", "single_leg_bridge"]
    return {
        "exercises": [
            {"exercise": e, "sets": 3, "reps": 8, "instruction": ("- step\n" * lines)[:500]}
            for e in exercises
        ],
        "note": "".join(f"{n}. <b>x</b> &\n" for n in range(lines * 4))[:2000],
    }


@pytest.mark.parametrize("large", [False, True], ids=["handout", "large print"])
@pytest.mark.parametrize("lines", [40, 250])
def test_a_program_note_and_instructions_of_many_lines_print(
    form: Form, example: Any, make_data: MakeData, large: bool, lines: int
) -> None:
    """A card or a boxed note is a table cell, which cannot split across pages: a note of 160
    short lines or an instruction of 40 stopped the handout with reportlab's LayoutError."""
    findings = with_values(form, example("runner_left_proximal"), home_program=_program(lines))
    stream = io.BytesIO()
    build_handout(make_data(findings), stream, large_print=large)
    pdf = Pdf(stream.getvalue())
    assert len(pdf.pages) <= 40
    note_lines = [int(n) for n in re.findall(r"^\s*(\d+)\. <b>x</b> &", pdf.text, re.MULTILINE)]
    assert note_lines == list(range(len(note_lines)))
    assert len(note_lines) > 100
    assert pdf.flat.count("Your note: - step") == 4


def test_a_handout_paragraph_that_refused_to_split_still_draws(clinic: Clinic) -> None:
    """reportlab drops a paragraph's line breaks (blPara) when it refuses to split it, one line
    being left alone at a page's foot; the handout's wrap-once paragraphs kept their width and
    did not wrap again, so drawing failed (AttributeError 'blPara': a traceback, no handout).
    It took a hostile clinic's large-print handout to land a paragraph there; the mechanism is
    reproduced here on a real canvas, then both large-print handouts of the clinic are made."""
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Paragraph

    style = layout.make_styles(handout.LARGE_BODY_PT)["body"]
    paragraph = Paragraph("Keep the knee soft and lower slowly. " * 8, style)
    paragraph.__class__ = handout._WrapOnce
    paragraph.wrap(300, 1000)
    assert paragraph.split(300, style.leading * 1.5) == []  # one line alone: refused
    paragraph.wrap(300, 1000)
    paragraph.drawOn(Canvas(io.BytesIO()), 0, 0)
    for record in (clinic.initial_id, clinic.discharge_id):
        _out, pdf = _report(clinic, str(record), "--kind", "handout", "--large-print")
        assert 2 <= len(pdf.pages) <= 12


# ---------------------------------------------------------------------------------------------
# where the PDF goes


@pytest.fixture
def small(tmp_path: Path, form: Form) -> tuple[str, int]:
    url = f"sqlite:///{tmp_path / 'small.db'}"
    db = open_database(url, backup=False)
    p = r.create_patient(db, r.PatientFields("Ann", "Lee", "S-1"), user="a")
    ep = r.create_episode(db, p.id, r.EpisodeInfo("Left", "left", start_date=START), user="a")
    ev = _record(db, form, p.id, ep.id, "initial", START, {"plan": PLAN}, sign=True)
    db.close()
    return url, ev


def _write(url: str, ev: int, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(["--database", url, "report", str(ev), "-o", str(out)])
    except SystemExit as stop:
        code = int(stop.code or 0)
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return code, err


def test_the_pdf_is_private_whatever_the_umask_and_replaces_a_file(
    small: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: exported PDFs are 0600. An existing file of that name is replaced whole."""
    url, ev = small
    out = tmp_path / "old.pdf"
    out.write_bytes(b"an older report")
    out.chmod(0o644)
    old = os.umask(0o002)
    try:
        assert _write(url, ev, out, capsys)[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().startswith(b"%PDF-")
    assert not list(tmp_path.glob(".report-*")), "a temporary file was left behind"


def test_a_symbolic_link_is_never_followed(
    small: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, ev = small
    target = tmp_path / "elsewhere.txt"
    target.write_text("not yours")
    link = tmp_path / "link.pdf"
    link.symlink_to(target)
    code, _err = _write(url, ev, link, capsys)
    assert target.read_text() == "not yours"  # what the link pointed at is untouched
    if code == 0:  # today the link itself is replaced by the PDF
        assert not link.is_symlink()
        assert stat.S_IMODE(link.stat().st_mode) == 0o600


def test_a_folder_is_refused_in_one_line(
    small: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, ev = small
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    code, err = _write(url, ev, folder, capsys)
    assert code != 0
    assert len(err.splitlines()) == 1
    assert "folder" in err
    assert folder.is_dir()


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_fifo_or_device_is_refused_not_replaced(
    small: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    url, ev = small
    special = tmp_path / f"{kind}.pdf"
    if kind == "fifo":
        os.mkfifo(special)
    elif os.geteuid() == 0:
        os.mknod(special, 0o600 | stat.S_IFCHR, os.makedev(1, 7))  # what /dev/full is
    else:
        pytest.skip("making a device node needs root")
    code, err = _write(url, ev, special, capsys)
    assert not stat.S_ISREG(os.lstat(special).st_mode), "the special file was replaced"
    assert code != 0
    assert len(err.splitlines()) == 1
