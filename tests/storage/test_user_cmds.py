"""``clinic-app user``, run as an administrator would: through ``main`` with a real standard input
(a pipe's bytes), or as a subprocess; every bad input is one line naming the field, a non-zero
exit, and the database rows as they were."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from clinic_app.cli import main, user_cmds
from clinic_app.storage import accounts

PW = "correct horse battery"
PW2 = "another good password"


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> None:
    # Encryption at rest has its own tests; these are about accounts on a plain file.
    monkeypatch.setenv("CLINIC_APP_ENCRYPTION", "off")
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    monkeypatch.setattr(user_cmds, "_has_terminal", lambda: False)


def feed(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """Standard input as a pipe would give it (bytes, decoded by Python's own text layer)."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: bytes, *args: str
) -> tuple[int, str, str]:
    feed(monkeypatch, stdin)
    code = main(["user", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(folder: Path) -> tuple[list[Any], int]:
    path = folder / "clinic.db"
    if not path.exists():
        return [], 0
    with sqlite3.connect(path) as conn:
        clinicians = conn.execute("SELECT * FROM clinician ORDER BY id").fetchall()
        (events,) = conn.execute("SELECT count(*) FROM audit_event").fetchone()
    return clinicians, events


@pytest.fixture
def with_admin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], private_data_dir: Path
) -> Path:
    code, out, err = run(
        monkeypatch, capsys, f"{PW}\n".encode(), "add", "alice", "--role", "admin",
        "--role", "therapist", "--display-name", "Alice Admin", "--password-stdin",
    )  # fmt: skip
    assert code == 0, err
    return private_data_dir


def test_first_admin_gets_a_recovery_key_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], private_data_dir: Path
) -> None:
    code, out, err = run(
        monkeypatch, capsys, f"{PW}\n".encode(), "add", "Alice", "--role", "admin",
        "--display-name", "Alice Admin", "--licence", "PT-1", "--password-stdin",
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "added account alice (admin)"
    assert lines[1].startswith("recovery key: ")
    assert "Print this recovery key and keep it safe" in lines[2]
    key = lines[1].removeprefix("recovery key: ")
    (row,), events = rows(private_data_dir)
    assert events == 1
    assert PW not in repr(row)
    assert key not in repr(row)
    assert any(isinstance(v, str) and v.startswith("$argon2id$") for v in row)
    # The next admin is an ordinary account: no recovery key printed.
    code, out, err = run(
        monkeypatch, capsys, f"{PW2}\n".encode(), "add", "bea", "--role", "admin",
        "--password-stdin",
    )  # fmt: skip
    assert code == 0, err
    assert out == "added account bea (admin)\n"


def test_list_table_and_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], with_admin: Path
) -> None:
    run(
        monkeypatch,
        capsys,
        f"{PW2}\n".encode(),
        "add",
        "stu",
        "--role",
        "student",
        "--password-stdin",
    )
    code, out, _ = run(monkeypatch, capsys, b"", "list")
    assert code == 0
    assert out.splitlines() == [
        "LOGIN  DISPLAY NAME  ROLES            ACTIVE  PASSWORD SET",
        "alice  Alice Admin   admin,therapist  yes     yes",
        "stu    stu           student          yes     yes",
    ]
    code, out, _ = run(monkeypatch, capsys, b"", "list", "--json")
    import json

    listed = json.loads(out)
    assert [(r["login"], r["roles"], r["password_set"]) for r in listed] == [
        ("alice", ["admin", "therapist"], True),
        ("stu", ["student"], True),
    ]


@pytest.mark.parametrize(
    ("stdin", "args", "expected"),
    [
        (b"short\n", ["bob", "--role", "therapist"], "password: too short (at least 10"),
        (b"", ["bob", "--role", "therapist"], "password: nothing on standard input"),
        (b"\n", ["bob", "--role", "therapist"], "password: empty"),
        (b"\x00" * 100_000, ["bob", "--role", "therapist"], "password: too long"),
        (b"\xff\xfe" * 8 + b"\n", ["bob", "--role", "therapist"], "password: not UTF-8 text"),
        (PW.encode() + b"\x00x\n", ["bob", "--role", "therapist"], "password: contains a control"),
        (b"bob\n", ["bob", "--role", "therapist"], "password: too short"),
        (f"{PW}\n".encode(), ["bob", "--role", "doctor"], "role: 'doctor' is not a role"),
        (
            f"{PW}\n".encode(),
            ["bob", "--role", "student", "--role", "therapist"],
            "role: an assistant or student cannot also be a therapist",
        ),
        (f"{PW}\n".encode(), ["ALICE", "--role", "therapist"], "login 'alice' is already taken"),
        (f"{PW}\n".encode(), ["bo\nb", "--role", "therapist"], "login: use 2 to 64"),
        (f"{PW}\n".encode(), ["b" * 10_000, "--role", "therapist"], "login: 10000 characters"),
        (
            f"{PW}\n".encode(),
            ["bob", "--role", "therapist", "--display-name", "x" * 10_000],
            "display name: 10000 characters is too long (at most 200)",
        ),
        (
            f"{PW}\n".encode(),
            ["bob", "--role", "therapist", "--display-name", "Bob\x00"],
            "display name: contains a control character (U+0000)",
        ),
        (
            f"{PW}\n".encode(),
            ["bob", "--role", "therapist", "--display-name", "Bob\udcff"],
            "display name: not valid text",
        ),
        (
            f"{PW}\n".encode(),
            ["bob", "--role", "therapist", "--licence", "1\n2"],
            "licence number: contains a control character",
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    with_admin: Path,
    stdin: bytes,
    args: list[str],
    expected: str,
) -> None:
    before = rows(with_admin)
    code, out, err = run(monkeypatch, capsys, stdin, "add", *args, "--password-stdin")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert expected in err
    assert "Traceback" not in err
    assert PW not in err
    assert rows(with_admin) == before


def test_first_admin_roles(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], private_data_dir: Path
) -> None:
    args = ("add", "bob", "--role", "admin", "--role", "student", "--password-stdin")
    code, out, err = run(monkeypatch, capsys, f"{PW}\n".encode(), *args)
    assert code == 2
    assert err.strip().endswith("role: the first admin is an admin, and may be a therapist")
    assert rows(private_data_dir)[0] == []


def test_terminal_passwords_asked_twice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], with_admin: Path
) -> None:
    answers: list[str] = []
    monkeypatch.setattr(user_cmds, "_has_terminal", lambda: True)
    monkeypatch.setattr(user_cmds, "_ask", lambda prompt: answers.pop(0))
    before = rows(with_admin)
    answers[:] = [PW, PW + "x"]
    code, _, err = run(monkeypatch, capsys, b"", "add", "bob", "--role", "therapist")
    assert code == 2
    assert err.strip().endswith("password: the two entries differ; nothing was changed")
    answers[:] = ["short"]  # refused before being asked again
    code, _, err = run(monkeypatch, capsys, b"", "add", "bob", "--role", "therapist")
    assert "password: too short" in err
    assert answers == []
    assert rows(with_admin) == before
    answers[:] = [PW2, PW2]
    code, out, err = run(monkeypatch, capsys, b"", "add", "bob", "--role", "therapist")
    assert code == 0, err
    assert answers == []


def test_no_terminal_and_no_stdin_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], with_admin: Path
) -> None:
    before = rows(with_admin)
    code, _, err = run(monkeypatch, capsys, f"{PW}\n".encode(), "add", "bob", "--role", "therapist")
    assert code == 2
    assert "password: no terminal to ask on; use --password-stdin" in err
    assert rows(with_admin) == before


def test_disable_enable_and_the_last_admin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], with_admin: Path
) -> None:
    before = rows(with_admin)
    code, _, err = run(monkeypatch, capsys, b"", "disable", "alice")
    assert code == 2
    assert "alice is the last active admin" in err
    assert rows(with_admin) == before
    code, _, err = run(monkeypatch, capsys, b"", "disable", "nobody")
    assert code == 2
    assert "login 'nobody': no such account" in err
    run(
        monkeypatch,
        capsys,
        f"{PW2}\n".encode(),
        "add",
        "bob",
        "--role",
        "therapist",
        "--password-stdin",
    )
    code, out, _ = run(monkeypatch, capsys, b"", "disable", "BOB")
    assert (code, out) == (0, "disabled account bob\n")
    code, _, err = run(
        monkeypatch, capsys, f"{PW2}\n{PW}x\n".encode(), "passwd", "bob", "--password-stdin"
    )
    assert "account bob is disabled" in err
    code, out, _ = run(monkeypatch, capsys, b"", "enable", "bob")
    assert (code, out) == (0, "enabled account bob\n")
    with sqlite3.connect(with_admin / "clinic.db") as conn:
        assert conn.execute("SELECT active FROM clinician WHERE login = 'bob'").fetchone() == (1,)


def test_reset_then_passwd(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], with_admin: Path
) -> None:
    code, out, err = run(
        monkeypatch, capsys, b"temporary pass 1\n", "reset-password", "alice", "--password-stdin"
    )
    assert code == 0, err
    assert "choose their own at the next sign-in" in out
    code, out, _ = run(monkeypatch, capsys, b"", "list")
    assert "yes (to change)" in out
    before = rows(with_admin)
    code, _, err = run(
        monkeypatch, capsys, f"{PW}\n{PW2}\n".encode(), "passwd", "alice", "--password-stdin"
    )  # the old password is no longer the old one
    assert code == 2
    assert err.strip().endswith("wrong name or password")
    assert rows(with_admin)[0][0][:4] == before[0][0][:4]
    code, out, err = run(
        monkeypatch, capsys, f"temporary pass 1\n{PW2}\n".encode(), "passwd", "alice",
        "--password-stdin",
    )  # fmt: skip
    assert code == 0, err
    assert out == "password of alice changed\n"
    code, _, err = run(monkeypatch, capsys, b"x\n", "reset-password", "ghost", "--password-stdin")
    assert "login 'ghost': no such account" in err


def test_recover(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], private_data_dir: Path
) -> None:
    _, out, _ = run(
        monkeypatch,
        capsys,
        f"{PW}\n".encode(),
        "add",
        "alice",
        "--role",
        "admin",
        "--password-stdin",
    )
    key = out.splitlines()[1].removeprefix("recovery key: ")
    before = rows(private_data_dir)
    code, _, err = run(
        monkeypatch, capsys, f"{'A' * 30}\n{PW2}\n".encode(), "recover", "alice", "--password-stdin"
    )
    assert code == 2
    assert err.strip().endswith("wrong name or recovery key")
    clinicians, events = rows(private_data_dir)
    assert events == before[1] + 1  # the failure is audited, the account unchanged otherwise
    code, out, err = run(
        monkeypatch, capsys, f"{key.lower()}\n{PW2}\n".encode(), "recover", "alice",
        "--password-stdin",
    )  # fmt: skip
    assert code == 0, err
    fresh = out.splitlines()[1].removeprefix("new recovery key: ")
    assert fresh != key
    assert "old recovery key no longer works" in out
    code, _, err = run(
        monkeypatch, capsys, f"{key}\n{PW}\n".encode(), "recover", "alice", "--password-stdin"
    )
    assert code == 2


def _subprocess(*args: str, stdin: Any) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env["CLINIC_APP_ENCRYPTION"] = "off"
    return subprocess.run(
        [sys.executable, "-m", "clinic_app", "user", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        start_new_session=True,  # no controlling terminal: getpass could not ask
    )


def test_subprocess_dev_zero_and_a_real_pipe(private_data_dir: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        done = _subprocess("add", "alice", "--role", "admin", "--password-stdin", stdin=zero)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "clinic-app user: password: too long (at most 256 characters)"
    ]
    assert rows(private_data_dir)[0] == []
    done = subprocess.run(
        [sys.executable, "-m", "clinic_app", "user", "add", "alice", "--role", "admin",
         "--password-stdin"],
        input=f"{PW}\n",
        capture_output=True,
        text=True,
        env={**os.environ, "CLINIC_APP_ENCRYPTION": "off"},
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "recovery key: " in done.stdout
    # No terminal and no --password-stdin: refused, stdin never read unbounded.
    with open("/dev/zero", "rb") as zero:
        done = _subprocess("reset-password", "alice", stdin=zero)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "clinic-app user: new password: no terminal to ask on; use --password-stdin"
    ]


def test_encrypted_clinic_passphrase_then_password_on_stdin(private_data_dir: Path) -> None:
    """On an encrypted clinic the passphrase is the first line of stdin, the password the next."""
    env = {k: v for k, v in os.environ.items() if k != "CLINIC_APP_ENCRYPTION"}
    env.pop("CLINIC_APP_PASSPHRASE", None)
    argv = [sys.executable, "-m", "clinic_app", "--passphrase-stdin", "user"]
    done = subprocess.run(
        [*argv, "add", "alice", "--role", "admin", "--password-stdin"],
        input=f"a long clinic passphrase 1\n{PW}\n",
        capture_output=True, text=True, env=env, timeout=120, start_new_session=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (private_data_dir / "clinic.db").read_bytes()[:16] != b"SQLite format 3\x00"
    done = subprocess.run(
        [*argv, "list", "--json"],
        input="a long clinic passphrase 1\n",
        capture_output=True, text=True, env=env, timeout=120, start_new_session=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"login": "alice"' in done.stdout
    done = subprocess.run(
        [*argv, "list"], input="not the passphrase\n",
        capture_output=True, text=True, env=env, timeout=120, start_new_session=True,
    )  # fmt: skip
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1
