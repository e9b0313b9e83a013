"""Every failure of a subcommand is one clear line on stderr, a non-zero exit, within 5 seconds.

The reproductions of issue 19, each run as a real ``clinic-app`` process (``python -m
clinic_app``) with a timeout: special files where a file is expected (``/dev/zero``, a FIFO, a
folder, a symlink to a folder, a file that cannot be read even by root), files over the size
limits, texts longer than a page can hold, broken database URLs, numbers without bound, output
that cannot be written, and stdout closed under the command (``| head``). Tests run as root, so a
permission failure is made by dropping root's power to ignore file modes (``setpriv``).

Whichever command and whichever input, the process must exit non-zero within the budget, print
exactly one line on stderr naming the file or the field and the problem, and never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from clinic_app.cli import build_parser
from tests.reliability.helpers import REPO, child_env, unprivileged

EXAMPLE = REPO / "examples" / "runner_left_proximal.json"
BUDGET = 5.0
"""Seconds a refused command may take, start-up included."""
LONG = "Physio " * 300  # 2,100 characters
BAD_URLS = ("postgresql+psycopg://u:p@[::1:1/x", "notadialect://x", "sqlite:////dev/zero")


def commands() -> list[str]:
    sub = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    return sorted(sub.choices)  # type: ignore[attr-defined]


@dataclass
class Place:
    """A private working folder holding every hostile file the cases name."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def __truediv__(self, name: str) -> Path:
        return self.root / name


@pytest.fixture
def place(tmp_path: Path, private_data_dir: Path) -> Place:
    root = tmp_path / "work"
    root.mkdir()
    os.mkfifo(root / "fifo")
    os.mkfifo(root / "fifo.json")
    (root / "folder").mkdir()
    (root / "link").symlink_to(root / "folder", target_is_directory=True)
    with (root / "huge.json").open("wb") as fh:  # sparse: 3 GB on paper, nothing on disk
        fh.truncate(3 * 1024**3)
    (root / "locked.json").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "locked.json").chmod(0)
    (root / "readonly").mkdir()
    (root / "readonly").chmod(0o555)
    (root / "plain.txt").write_text("not a folder\n", encoding="utf-8")
    env = child_env(
        CLINIC_APP_DATA_DIR=str(private_data_dir),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        HOME=str(tmp_path / "home"),
    )
    return Place(root, env)


def run_cli(
    place: Place,
    *argv: str,
    budget: float = BUDGET,
    env: dict[str, str] | None = None,
    prefix: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*(prefix or []), sys.executable, "-m", "clinic_app", *argv],
            cwd=place.root,
            env=env or place.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=budget,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"clinic-app {' '.join(argv)[:200]} still running after {budget} s (a hang)")
    assert time.monotonic() - started < budget
    return done


def assert_one_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    err = done.stderr
    assert "Traceback" not in err, err
    assert done.returncode != 0, f"exit 0; stdout {done.stdout[:300]!r}"
    lines = err.splitlines()
    assert len(lines) == 1, f"{len(lines)} lines on stderr:\n{err[:3000]}"
    for word in words:
        assert word.lower() in lines[0].lower(), f"{word!r} not in {lines[0][:500]!r}"
    return lines[0]


# ---------------------------------------------------------------------------------------------
# input files: special, unreadable, huge

FILE_ARG: dict[str, Callable[[str], list[str]]] = {
    "assess": lambda p: ["assess", p],
    "assess --form": lambda p: ["assess", str(EXAMPLE), "--form", p],
    "check-form": lambda p: ["check-form", p],
    "report --findings": lambda p: [
        "report",
        "--findings",
        p,
        "--kind",
        "clinician",
        "-o",
        "x.pdf",
    ],
    "report --form": lambda p: [
        *("report", "--findings", str(EXAMPLE), "--form", p),
        *("--kind", "handout", "-o", "x.pdf"),
    ],
    "demo --form": lambda p: ["demo", "--form", p],
    "restore": lambda p: ["restore", p],
    "logo": lambda p: ["logo", p],
}
SPECIAL = {
    "/dev/zero": ("/dev/zero", "device"),
    "fifo": ("fifo.json", "FIFO"),
    "folder": ("folder", "folder"),
    "symlink to a folder": ("link", "folder"),
    "unreadable as root": ("/proc/self/mem", "cannot"),
    "missing": ("missing.json", "not found"),
    "3 GB": ("huge.json", "limit"),
    "2,000-character name": ("n" * 2000 + ".json", "long"),
}


@pytest.mark.parametrize("special", SPECIAL, ids=list(SPECIAL))
@pytest.mark.parametrize("command", FILE_ARG, ids=list(FILE_ARG))
def test_special_input_files_are_refused_in_one_line(
    place: Place, command: str, special: str
) -> None:
    name, problem = SPECIAL[special]
    if command == "restore" and special == "3 GB":
        problem = "database"  # a backup has no size limit; this one is not a database
    done = run_cli(place, *FILE_ARG[command](name))
    assert_one_line(done, name[:40], problem)


@pytest.mark.parametrize("command", ["assess", "check-form", "restore"])
def test_a_file_without_read_permission_is_refused(place: Place, command: str) -> None:
    argv = FILE_ARG[command](str(place / "locked.json"))
    done = run_cli(place, *argv, prefix=unprivileged())
    assert_one_line(done, "locked.json", "permission denied")


def test_input_limits_are_named_in_the_message(place: Place) -> None:
    (place / "big.json").write_bytes(b" " * (2 * 1024 * 1024))
    line = assert_one_line(run_cli(place, "assess", "big.json"), "big.json")
    assert "1 MiB" in line


# ---------------------------------------------------------------------------------------------
# the database file and URL


# The smallest command line of every subcommand (a new subcommand must be added here).
MINIMAL = {
    "access-log": [],
    "assess": [str(EXAMPLE)],
    "backup": [],
    "check-form": [],
    "demo": [],
    "encrypt": [],
    "exercises": ["list"],
    "export": ["fhir", "1", "-o", "x.json"],
    "grant": ["workstation"],
    "info": [],
    "import": ["patients", "plain.txt", "--dry-run"],
    "install-desktop": [],
    "list": ["patients"],
    "logo": ["--remove"],
    "note": ["1"],
    "report": ["1", "--kind", "clinician", "-o", "x.pdf"],
    "restore": ["plain.txt"],
    "score": ["lefs", str(REPO / "examples" / "questionnaires" / "lefs_answers.json")],
    "screenshots": ["shots"],
    "synthetic": ["--patients", "1"],
    "user": ["list"],
    "verify": [],
}
NO_DATABASE = {"assess", "check-form", "install-desktop", "score"}


def test_every_subcommand_is_in_the_sweep() -> None:
    assert sorted(MINIMAL) == commands()


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("command", sorted(MINIMAL))
def test_a_broken_database_url_is_one_line(place: Place, url: str, command: str) -> None:
    done = run_cli(place, "--database", url, command, *MINIMAL[command])
    if command in NO_DATABASE:  # the URL is not theirs to refuse
        assert done.returncode == 0, done.stderr
        return
    assert_one_line(done, "database" if "dev/zero" not in url else "/dev/zero")
    assert "p@" not in done.stderr, "the password is shown"


def test_a_broken_url_in_the_environment_is_one_line(place: Place) -> None:
    env = dict(place.env, CLINIC_APP_DATABASE_URL=BAD_URLS[0])
    assert_one_line(run_cli(place, "info", env=env), "database URL")


@pytest.mark.parametrize("command", ["info", "backup", "demo", "synthetic"])
def test_a_fifo_as_the_database_is_refused(
    place: Place, private_data_dir: Path, command: str
) -> None:
    private_data_dir.mkdir(parents=True, exist_ok=True)
    os.mkfifo(private_data_dir / "clinic.db")
    assert_one_line(run_cli(place, command), "clinic.db", "FIFO")


@pytest.mark.parametrize("dest", ["fifo", "/dev/zero", "/proc/x.db"])
def test_backup_to_a_special_file_is_refused(
    place: Place, private_data_dir: Path, dest: str
) -> None:
    from tests.reliability.helpers import make_database

    private_data_dir.mkdir(parents=True, exist_ok=True)
    make_database(private_data_dir / "clinic.db", patients=1)
    assert_one_line(run_cli(place, "backup", dest), dest)


# ---------------------------------------------------------------------------------------------
# output that cannot be written


@pytest.mark.parametrize(
    "out", ["/proc/x.pdf", "readonly/x.pdf", "plain.txt/x.pdf", "folder", "fifo/x.pdf"]
)
def test_report_output_that_cannot_be_written_is_one_line(place: Place, out: str) -> None:
    argv = ["report", "--findings", str(EXAMPLE), "--kind", "clinician", "-o", out]
    done = run_cli(place, *argv, prefix=unprivileged())
    assert_one_line(done, out)
    assert not list(place.root.glob("**/.report-*")), "a temporary PDF was left behind"


@pytest.mark.parametrize("argv", [["assess", str(EXAMPLE)], ["check-form"], ["info"]])
def test_stdout_closed_under_the_command_is_one_line(place: Place, argv: list[str]) -> None:
    """``clinic-app assess f.json | head``: the reader is gone before everything is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "clinic_app", *argv],
            cwd=place.root,
            env=place.env,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=BUDGET,
            check=False,
        )
    finally:
        os.close(write_end)
    assert time.monotonic() - started < BUDGET
    assert_one_line(proc, "output")


def test_a_real_pipe_into_head(place: Place) -> None:
    """The shell form of the reproduction, with a long output (``--json``) into ``head -1``."""
    exe = f"{sys.executable} -m clinic_app"
    script = f"set -o pipefail; {exe} assess --json {EXAMPLE} | head -1 >/dev/null"
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=place.root,
        env=place.env,
        capture_output=True,
        text=True,
        timeout=BUDGET,
        check=False,
    )
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) <= 1, done.stderr


# ---------------------------------------------------------------------------------------------
# texts and numbers without bound


@pytest.mark.parametrize(
    ("flag", "kind"),
    [
        ("--clinic-name", "clinician"),
        ("--patient-name", "clinician"),
        ("--mrn", "handout"),
        ("--clinician", "handout"),
    ],
)
def test_report_texts_longer_than_a_page_holds_are_refused(
    place: Place, flag: str, kind: str
) -> None:
    argv = ["report", "--findings", str(EXAMPLE), "--kind", kind, "-o", "x.pdf", flag, LONG]
    assert_one_line(run_cli(place, *argv), flag, "too long")
    assert not (place / "x.pdf").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["synthetic", "--patients", "99999999999999999999"],
        ["synthetic", "--evaluations", "99999999999999999999"],
        ["synthetic", "--patients", "-1"],
        ["synthetic", "--patients", "abc"],
        ["report", "99999999999999999999", "--kind", "clinician", "-o", "x.pdf"],
        ["report", "--findings", str(EXAMPLE), "--kind", "x", "-o", "x.pdf"],
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_numbers_without_bound_are_refused(place: Place, argv: list[str]) -> None:
    assert_one_line(run_cli(place, *argv))


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["screenshots", "shots", "--size", "99999x99999"], ("--size", "99999x99999")),
        (["screenshots", "shots", "--size", "10x10"], ("--size",)),
        (["screenshots", "/dev/null"], ("/dev/null", "not a folder")),
        (["screenshots", "plain.txt"], ("plain.txt", "not a folder")),
        (["screenshots", "/proc/shots"], ("/proc/shots",)),
        (["screenshots", "n" * 3000], ("nnnn", "long")),
    ],
    ids=lambda a: " ".join(a)[:40] if isinstance(a, list) else "",
)
def test_screenshots_refuse_sizes_and_folders_before_starting(
    place: Place, argv: list[str], words: tuple[str, ...]
) -> None:
    assert_one_line(run_cli(place, *argv), *words)


@pytest.mark.parametrize("xdg", ["/proc/x", "plain.txt", "fifo"])
def test_install_desktop_into_an_unwritable_place_is_one_line(place: Place, xdg: str) -> None:
    target = xdg if xdg.startswith("/") else str(place / xdg)
    env = dict(place.env, XDG_DATA_HOME=target)
    assert_one_line(run_cli(place, "install-desktop", env=env), "cannot")


@pytest.mark.parametrize("command", commands())
def test_every_subcommand_refuses_a_hostile_argument_in_one_line(
    place: Place, command: str
) -> None:
    """A sweep over ``clinic-app --help``: an unknown option and an overlong one, each one line."""
    for argv in ([command, "--no-such-option"], [command, "--" + "x" * 2000]):
        assert_one_line(run_cli(place, *argv), "error", "--help")


# ---------------------------------------------------------------------------------------------
# stored values that were accepted before the limits, and demo killed half-way

START_UP = 20.0
"""Seconds for a command that really works (opens a database, builds a PDF) on a busy machine."""


def _patients(db_file: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM patient").fetchone()[0])
    finally:
        conn.close()


def test_a_damaged_stored_logo_stops_the_report_in_one_line_unless_no_logo(
    place: Place, private_data_dir: Path
) -> None:
    """Issue 19: a logo damaged after it was saved (raw SQL, another tool) fails ``report`` for
    both documents with one line naming the stored logo and how to mend it, and writes no PDF;
    ``--no-logo`` makes the PDF without it; a long address stored the same way is cut to fit."""
    import io
    import sqlite3

    from PIL import Image

    assert run_cli(place, "demo", budget=START_UP).returncode == 0
    picture = io.BytesIO()
    Image.new("RGB", (300, 150), (20, 90, 140)).save(picture, "PNG")
    logo = picture.getvalue()
    conn = sqlite3.connect(private_data_dir / "clinic.db")
    with conn:  # written as an older version would have stored them: no checks
        conn.execute(
            "UPDATE clinic SET address = ?, name = ?, logo = ?",
            (
                "\n".join(f"Street line {n}" for n in range(3000)),
                "Clinic " * 28,
                logo[: len(logo) // 2],
            ),
        )
    conn.close()
    for kind in ("clinician", "handout"):
        out = f"{kind}.pdf"
        # evaluation 2 is a draft: a signed one prints the clinic as sealed when it was signed
        done = run_cli(place, "report", "2", "--kind", kind, "-o", out, budget=START_UP)
        line = assert_one_line(done, "stored clinic logo", "cut short", "no PDF was written")
        assert "clinic-app logo FILE.png" in line
        assert "--no-logo" in line
        assert not (place / out).exists()
        assert not list(place.root.glob(".report-*")), "a half-made PDF was left behind"
        done = run_cli(
            place, "report", "2", "--kind", kind, "-o", out, "--no-logo", budget=START_UP
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        assert (place / out).stat().st_size > 10_000
    # mended as the message says: removed, then the report is made again without an option
    done = run_cli(place, "logo", "--remove", budget=START_UP)
    assert done.returncode == 0, done.stderr
    done = run_cli(place, "report", "2", "--kind", "handout", "-o", "again.pdf", budget=START_UP)
    assert done.returncode == 0, done.stderr


def test_hostile_logos_are_refused_by_the_logo_command_and_stop_the_report_when_stored(
    place: Place, private_data_dir: Path
) -> None:
    """Each hostile logo: ``clinic-app logo FILE`` refuses it in one line and the database keeps
    the good logo; written past the checks with SQL, ``report`` refuses in one line and writes
    no PDF, and ``--no-logo`` writes one."""
    import sqlite3

    from tests.storage.test_logo import GOOD, HOSTILE

    assert run_cli(place, "demo", budget=START_UP).returncode == 0
    (place / "good.png").write_bytes(GOOD)
    assert run_cli(place, "logo", "good.png", budget=START_UP).returncode == 0

    def stored_logo() -> bytes:
        conn = sqlite3.connect(private_data_dir / "clinic.db")
        try:
            return bytes(conn.execute("SELECT logo FROM clinic").fetchone()[0])
        finally:
            conn.close()

    assert stored_logo() == GOOD
    for case in (
        "truncated PNG",
        "zero bytes",
        "50 MB",
        "PNG bomb 100000 x 100000",
        "SVG named .png",
        "HTML named .png",
    ):
        make, problem = HOSTILE[case]
        bad = make()
        (place / "bad.png").write_bytes(bad)
        done = run_cli(place, "logo", "bad.png", budget=START_UP)
        expected = "2 MiB" if case == "50 MB" else problem  # refused while read: the file limit
        assert_one_line(done, "clinic logo", expected)
        assert stored_logo() == GOOD, case
        conn = sqlite3.connect(private_data_dir / "clinic.db")
        with conn:  # damaged after saving: another tool, a bad disk
            conn.execute("UPDATE clinic SET logo = ?", (bad,))
        conn.close()
        done = run_cli(place, "report", "2", "--kind", "clinician", "-o", "x.pdf", budget=START_UP)
        assert_one_line(done, "stored clinic logo", problem, "--no-logo")
        assert not (place / "x.pdf").exists(), case
        done = run_cli(
            place,
            *("report", "2", "--kind", "handout", "-o", "x.pdf", "--no-logo"),
            budget=START_UP,
        )
        assert done.returncode == 0, (case, done.stderr)
        assert done.stderr == "", case
        (place / "x.pdf").unlink()
        conn = sqlite3.connect(private_data_dir / "clinic.db")
        with conn:
            conn.execute("UPDATE clinic SET logo = ?", (GOOD,))
        conn.close()


def test_a_long_address_is_refused_when_saved(tmp_path: Path) -> None:
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database
    from clinic_app.storage.errors import StorageError

    with open_database(f"sqlite:///{tmp_path / 'c.db'}", backup=False) as db:
        for address, problem in [
            ("\n".join(f"line {n}" for n in range(3000)), "3000 lines"),
            ("x" * 301, "301 characters"),
        ]:
            with pytest.raises(StorageError, match=f"clinic address: {problem} is too long"):
                records.save_clinic(db, records.ClinicInfo("C", address=address), user="t")
        records.save_clinic(db, records.ClinicInfo("C", address="1 Mill Lane\nTown"), user="t")


def test_demo_killed_half_way_leaves_nothing_and_runs_again(
    place: Place, private_data_dir: Path, tmp_path: Path
) -> None:
    """SIGKILL inside demo's transaction (after its first patient is written): no demo patient
    is left, and the next ``demo`` completes."""
    import signal

    logs = tmp_path / "demo-logs"
    env = dict(place.env, CLINIC_APP_LOG_DIR=str(logs))
    proc = subprocess.Popen(
        [sys.executable, "-m", "clinic_app", "demo"],
        cwd=place.root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_UP
    text = ""
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            text = "".join(p.read_text(errors="replace") for p in logs.glob("*.log*"))
            if "patient 1 created" in text:
                proc.send_signal(signal.SIGSTOP)  # stop at once, then look
                break
            time.sleep(0.002)
        text = "".join(p.read_text(errors="replace") for p in logs.glob("*.log*"))
        assert "patient 1 created" in text, "demo never started writing"
        assert "demo added" not in text, "demo finished before it was stopped"
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    db_file = private_data_dir / "clinic.db"
    assert _patients(db_file) == 0, "a killed demo left patients behind"
    again = run_cli(place, "demo", budget=START_UP)
    assert again.returncode == 0, again.stderr
    assert _patients(db_file) > 0
    twice = run_cli(place, "demo", budget=START_UP)
    assert_one_line(twice, "already")
