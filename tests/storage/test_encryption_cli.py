"""Headless commands on an encrypted clinic (issue 14), run as a user would, in a subprocess:
the passphrase from ``--passphrase-stdin`` (before or after the command), one clear line when it
is missing, wrong or hostile, and nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clinic_app.storage import encryption, files

PASSPHRASE = "correct horse battery staple"
FAMILY = b"Lambert"


def run(
    *args: str,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    stdin_file: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    environment = os.environ.copy()
    environment.pop(encryption.ENCRYPTION_ENV, None)  # a user's default: encrypted
    environment.pop(encryption.PASSPHRASE_ENV, None)
    environment.update(env or {})
    if stdin_file is not None:
        with stdin_file.open("rb") as fh:
            done = subprocess.run(
                [sys.executable, "-m", "clinic_app", *args],
                stdin=fh,
                capture_output=True,
                env=environment,
                timeout=120,
            )
    else:
        done = subprocess.run(
            [sys.executable, "-m", "clinic_app", *args],
            input=stdin if stdin is not None else b"",
            capture_output=True,
            env=environment,
            timeout=120,
        )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def _line(text: str = PASSPHRASE) -> bytes:
    return (text + "\n").encode()


@pytest.fixture
def clinic(private_data_dir: Path) -> Path:
    done = run("--passphrase-stdin", "demo", stdin=_line())
    assert done.returncode == 0, done.stderr
    return private_data_dir / "clinic.db"


def test_a_new_clinic_is_encrypted_and_info_says_so(clinic: Path) -> None:
    raw = clinic.read_bytes()
    assert b"SQLite format 3" not in raw
    assert FAMILY not in raw
    info = run("info", "--passphrase-stdin", stdin=_line())  # after the command works too
    assert info.returncode == 0, info.stderr
    assert "encrypted:       yes (SQLCipher 4." in info.stdout
    assert "patients:        6" in info.stdout
    assert PASSPHRASE not in info.stdout + info.stderr
    for_tests = run("info", env={encryption.PASSPHRASE_ENV: PASSPHRASE})
    assert "encrypted:       yes" in for_tests.stdout


def test_without_the_passphrase_a_command_stops_in_one_line(clinic: Path) -> None:
    before = clinic.read_bytes()
    for command in (
        ["info"],
        ["verify"],
        ["backup"],
        ["report", "1", "--kind", "clinician", "-o", "x.pdf"],
    ):
        line = one_line(run(*command))  # stdin is not a terminal: no prompt
        assert "is encrypted" in line
        assert "--passphrase-stdin" in line
    assert clinic.read_bytes() == before


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (b"", "standard input is empty"),
        (b"\n", "the passphrase is empty"),
        (b"a" * 100_000 + b"\n", "too long"),
        (b"correct horse\x00battery staple\n", "control characters"),
        (b"\xff\xfe not utf-8\n", "not UTF-8"),
        (b"another clinic's passphrase\n", "does not open"),
    ],
    ids=["nothing", "empty line", "100 kB line", "NUL", "not UTF-8", "wrong"],
)
def test_hostile_passphrase_input_is_refused_and_changes_nothing(
    clinic: Path, given: bytes, said: str
) -> None:
    folder = clinic.parent
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and "logs" not in p.parts}
    line = one_line(run("--passphrase-stdin", "info", stdin=given))
    assert said in line
    assert "\x00" not in line
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and "logs" not in p.parts}
    assert after == before


def test_dev_zero_as_standard_input_is_refused_at_once(clinic: Path) -> None:
    line = one_line(run("--passphrase-stdin", "verify", stdin_file=Path("/dev/zero")))
    assert "too long" in line


def test_backup_and_restore_of_an_encrypted_clinic(clinic: Path, tmp_path: Path) -> None:
    made = run("--passphrase-stdin", "backup", str(tmp_path), stdin=_line())
    assert made.returncode == 0, made.stderr
    (copy,) = tmp_path.glob("clinic-*-manual.db")
    assert b"SQLite format 3" not in copy.read_bytes()
    assert FAMILY not in copy.read_bytes()
    wrong = one_line(run("--passphrase-stdin", "restore", str(copy), stdin=b"not the right one\n"))
    assert "does not open" in wrong
    done = run("--passphrase-stdin", "restore", str(copy), stdin=_line())
    assert done.returncode == 0, done.stderr
    assert "the replaced database is kept at" in done.stdout
    assert encryption.is_encrypted(clinic)
    # A plain backup into this encrypted clinic: refused in one line, nothing changed.
    plain = tmp_path / "plain" / "clinic.db"
    plain.parent.mkdir()
    off = {encryption.ENCRYPTION_ENV: "off"}
    assert run("--database", f"sqlite:///{plain}", "demo", env=off).returncode == 0
    before = clinic.read_bytes()
    line = one_line(run("--passphrase-stdin", "restore", str(plain), stdin=_line()))
    assert "plain (unencrypted) backup" in line
    assert clinic.read_bytes() == before


def test_encrypt_converts_a_plain_clinic(private_data_dir: Path) -> None:
    off = {encryption.ENCRYPTION_ENV: "off"}
    assert run("demo", env=off).returncode == 0
    path = private_data_dir / "clinic.db"
    assert path.read_bytes()[:16] == files.SQLITE_HEADER
    assert "encrypted:       no" in run("info").stdout
    short = one_line(run("--passphrase-stdin", "encrypt", stdin=b"too short\n"))
    assert "too short" in short
    assert path.read_bytes()[:16] == files.SQLITE_HEADER
    done = run("--passphrase-stdin", "encrypt", stdin=_line())
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout
    assert "NOT encrypted" in done.stdout  # the plain backups left behind are named
    raw = path.read_bytes()
    assert b"SQLite format 3" not in raw
    assert FAMILY not in raw
    info = run("--passphrase-stdin", "info", stdin=_line())
    assert "encrypted:       yes" in info.stdout
    assert "patients:        6" in info.stdout
    again = one_line(run("--passphrase-stdin", "encrypt", stdin=_line()))
    assert "already encrypted" in again


def test_a_new_clinic_without_a_passphrase_says_how_to_choose(private_data_dir: Path) -> None:
    line = one_line(run("demo"))
    assert "a new clinic database is encrypted" in line
    assert "CLINIC_APP_ENCRYPTION=off" in line
    assert not (private_data_dir / "clinic.db").exists()
    short = one_line(run("--passphrase-stdin", "demo", stdin=b"short\n"))
    assert "at least 12 characters" in short
    assert not (private_data_dir / "clinic.db").exists()


def test_the_option_is_in_every_commands_help() -> None:
    for command in ("info", "backup", "restore", "encrypt", "verify", "demo", "report"):
        done = run(command, "--help")
        assert "--passphrase-stdin" in done.stdout, command
    assert "tests only" in run("--help").stdout


@pytest.mark.postgres
def test_info_on_a_clinic_server_says_how_the_connection_is_protected(
    postgres_migrated_url: str,
) -> None:
    done = run("--database", postgres_migrated_url, "info")
    assert done.returncode == 0, done.stderr
    assert "encrypted:       in transit: local server" in done.stdout
    assert "at rest: the server's disk encryption" in done.stdout
    remote = one_line(
        run("--database", "postgresql+psycopg://clinic@db.example.org/clinic", "info")
    )
    assert "must be reached over TLS" in remote
    assert "sslmode=verify-full" in remote
