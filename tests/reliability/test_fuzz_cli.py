"""Random command lines through ``clinic_app.cli.main``: an exit code and a message, no traceback.

Hypothesis picks a subcommand and a handful of arguments from the options the commands know,
paths to real and broken files, numbers, dates, database URLs and arbitrary words. Whatever the
combination, ``main`` must return (or argparse must exit with) 0, 1 or 2, print no traceback, say
something on stderr when it fails, and a refused command must leave the database as it was.
The GUI is never started (a subcommand is always given); the data folder and the working
directory are private to the test.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from clinic_app.cli import build_parser
from clinic_app.cli import main as cli_main

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The GUI and the headless screenshots start Qt; everything else is fair game.
EXCLUDED = {"screenshots"}
COMMANDS = sorted(
    name
    for action in build_parser()._subparsers._group_actions  # type: ignore[union-attr]
    for name in getattr(action, "choices", {})
    if name not in EXCLUDED
)
OPTIONS = [
    "--form",
    "--json",
    "--kind",
    "clinician",
    "handout",
    "-o",
    "--output",
    "--findings",
    "--patients",
    "--evaluations",
    "--seed",
    "--paper",
    "Letter",
    "--date",
    "--patient-dob",
    "--patient-name",
    "--mrn",
    "--database",
    "--",
    "-",
]
FILES = [
    "good.json",
    "bad.json",
    "huge-number.json",
    "missing.json",
    "folder",
    "notes.txt",
    "empty.db",
    "backup.db",
    "out.pdf",
    "form.yaml",
]
NUMBERS = ["-1", "0", "1", "3", "1e3", "0x10", "abc", "99999999999999999999", "-0"]
DATES = ["2026-02-30", "0000-01-01", "2026-13-01", "yesterday", "1999-12-31"]
URLS = [
    "sqlite:///private.db",
    "sqlite:///no/such/folder/x.db",
    "sqlite:///notes.txt",
    "postgresql+psycopg://nobody@127.0.0.1:1/none",
    "nonsense://",
    "",
]
words = st.text(
    alphabet=st.characters(blacklist_characters="/\\~\x00", blacklist_categories=("Cs",)),
    max_size=12,
)
tokens = st.one_of(
    st.sampled_from(OPTIONS),
    st.sampled_from(FILES),
    st.sampled_from(NUMBERS),
    st.sampled_from(DATES),
    words,
)
argvs = st.builds(
    lambda db, cmd, rest: [*db, cmd, *rest],
    st.one_of(st.just([]), st.sampled_from(URLS).map(lambda u: ["--database", u])),
    st.sampled_from(COMMANDS),
    st.lists(tokens, max_size=6),
)


@pytest.fixture
def workdir(tmp_path: Path, private_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The files the command lines name, in a private working directory."""
    from tests.reliability.helpers import make_database

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "good.json").write_text(json.dumps({"values": {"pain_now": 3}}), encoding="utf-8")
    (work / "bad.json").write_text('{"values": {"pain_now": "ten"}', encoding="utf-8")
    (work / "huge-number.json").write_text('{"values": {"pain_now": 1' + "0" * 400 + "}}")
    (work / "folder").mkdir()
    (work / "notes.txt").write_text("not a database\n", encoding="utf-8")
    (work / "empty.db").write_bytes(b"")
    (work / "form.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    make_database(work / "backup.db", patients=2)
    private_data_dir.mkdir(parents=True, exist_ok=True)
    make_database(private_data_dir / "clinic.db", patients=2)
    return work


def _counts(path: Path) -> tuple[int, ...] | None:
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("patient", "evaluation", "audit_event")
        )
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _run(argv: list[str]) -> int:
    try:
        return cli_main(argv)
    except SystemExit as exc:  # argparse: usage errors and --help
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)


@FUZZ
@given(argv=argvs)
@example(argv=["assess", "huge-number.json"])
@example(argv=["restore", "empty.db"])
@example(argv=["backup", "folder"])
@example(argv=["--database", "sqlite:///notes.txt", "info"])
@example(argv=["report", "--kind", "clinician", "-o", "folder", "1"])
def test_random_command_lines_exit_cleanly(
    argv: list[str],
    workdir: Path,
    private_data_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if "synthetic" in argv:
        assume("99999999999999999999" not in argv and "1e3" not in argv)
    database = private_data_dir / "clinic.db"
    before = _counts(database)
    code = _run(argv)
    err = capsys.readouterr().err
    assert code in (0, 1, 2), f"exit code {code} for {argv}: {err}"
    assert "Traceback" not in err, f"{argv}: {err}"
    if code != 0:
        assert err.strip(), f"{argv} failed silently"
        assert _counts(database) == before, f"refused {argv} changed the database"
    assert os.getcwd() == str(workdir)
