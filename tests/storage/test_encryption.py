"""Encryption at rest (issue 14): SQLCipher files, backups, kept drafts, the keyring, TLS.

Real SQLCipher files and real crypto throughout; every check of "nothing in clear" reads the raw
bytes of the files the app wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import backup, encryption, files, first_page, kept, records
from clinic_app.storage.database import open_database
from clinic_app.storage.demo import fill_demo
from clinic_app.storage.errors import DatabaseFileError, StorageError

PASSPHRASE = "correct horse battery staple"
OTHER = "another clinic's passphrase"
FAMILY = "Lambert"  # a demo patient's family name (resources/demo/demo.json)


@pytest.fixture(autouse=True)
def encrypted_by_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """These tests make clinics as a user would: encrypted (tests/conftest.py turns it off)."""
    monkeypatch.delenv(encryption.ENCRYPTION_ENV, raising=False)
    monkeypatch.delenv(encryption.PASSPHRASE_ENV, raising=False)
    # A cheaper argon2id for the keyring (stored in each entry; one test keeps the default).
    monkeypatch.setattr(encryption, "KDF", {"time_cost": 1, "memory_cost": 8192, "parallelism": 1})
    yield
    with encryption._lock:
        encryption._known.clear()  # no passphrase carried from one test to the next


@pytest.fixture(scope="module")
def demo_form() -> Form:
    return load_form(default_form_path())


def _forget_all() -> None:
    with encryption._lock:
        encryption._known.clear()


def _clear_bytes(path: Path) -> list[str]:
    """What of the SQLite header or a patient's name is readable in ``path``."""
    raw = path.read_bytes()
    found = []
    for needle in (b"SQLite format 3", FAMILY.encode(), "Müller".encode()):
        if needle in raw:
            found.append(needle.decode())
    return found


def _new_clinic(private_data_dir: Path, form: Form) -> Path:
    with open_database(passphrase=PASSPHRASE) as db:
        assert db.encrypted
        fill_demo(db, form)
    return private_data_dir / "clinic.db"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "logs" not in p.parts
    }


def test_the_default_new_clinic_its_backups_and_kept_drafts_hold_nothing_in_clear(
    private_data_dir: Path, demo_form: Form
) -> None:
    path = _new_clinic(private_data_dir, demo_form)
    _forget_all()  # as a new process: the passphrase comes from the caller
    with open_database(passphrase=PASSPHRASE) as db:  # a clinic with data: the daily backup
        assert db.notices == []
        assert records.count_patients(db) > 0
        manual = backup.make_backup(path, "manual")
        patient = records.list_patients(db)[0]
        ev = records.start_evaluation(db, patient.id, demo_form, user="demo")
        finding = {"form": demo_form.id, "form_version": demo_form.version, "values": {}}
        draft = kept.KeptDraft(
            ev.id, ev.version, f"{FAMILY} Müller", db.where, {**finding, "note": FAMILY}
        )
        kept_file = kept.keep(draft)
        wal = Path(f"{path}-wal")
        if wal.exists():  # while open: the WAL's pages are encrypted as well
            assert _clear_bytes(wal) == []
        (found,) = kept.kept(db.where)
        assert found.findings["note"] == FAMILY
        assert found.user == f"{FAMILY} Müller"
    (daily,) = [p for p, reason in backup.list_backups() if reason == "daily"]
    for made in (path, daily, manual, kept_file):
        assert _clear_bytes(made) == [], made
        assert encryption.is_encrypted(made) or made == kept_file
    # The passphrase alone opens a backup anywhere (the sqlcipher tool, or sqlcipher3 here).
    raw = encryption.sqlcipher().connect(str(manual))
    try:
        raw.execute(encryption.key_pragma(PASSPHRASE))
        names = [r[0] for r in raw.execute("SELECT family_name FROM patient").fetchall()]
    finally:
        raw.close()
    assert FAMILY in names
    with pytest.raises(sqlite3.DatabaseError):  # plain sqlite3 cannot read it
        sqlite3.connect(manual).execute("SELECT count(*) FROM sqlite_master").fetchall()


def test_an_encrypted_file_needs_its_passphrase_and_a_wrong_one_changes_nothing(
    private_data_dir: Path, demo_form: Form
) -> None:
    path = _new_clinic(private_data_dir, demo_form)
    _forget_all()
    before = _snapshot(private_data_dir)
    with pytest.raises(encryption.PassphraseRequiredError, match="is encrypted"):
        open_database()
    for wrong in (OTHER, PASSPHRASE + " ", PASSPHRASE.upper(), "x'00'"):
        with pytest.raises(encryption.WrongPassphraseError, match="does not open"):
            open_database(passphrase=wrong)
    assert _snapshot(private_data_dir) == before  # byte-identical, and no file beside it
    assert first_page.read_first_page(path, clinician_id=1) is None  # nothing before sign-in
    with open_database(passphrase=PASSPHRASE) as db:
        assert db.encrypted
        assert records.count_patients(db) > 0
        assert PASSPHRASE not in repr(db)
        assert PASSPHRASE not in db.display_url


def test_a_new_clinic_without_a_passphrase_is_refused_unless_encryption_is_off(
    private_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(encryption.PassphraseRequiredError, match="CLINIC_APP_ENCRYPTION=off"):
        open_database()
    with pytest.raises(encryption.PassphraseError, match="too short"):
        open_database(passphrase="short")
    assert not (private_data_dir / "clinic.db").exists()
    monkeypatch.setenv(encryption.ENCRYPTION_ENV, "off")
    with open_database() as db:
        assert not db.encrypted
    assert (private_data_dir / "clinic.db").read_bytes()[:16] == files.SQLITE_HEADER
    monkeypatch.delenv(encryption.ENCRYPTION_ENV)
    with open_database(new_encrypted=False, url=f"sqlite:///{private_data_dir / 'b.db'}") as db:
        assert not db.encrypted  # the first start's choice, whatever the environment says


@pytest.mark.parametrize(
    "text",
    ["", "a" * 100_000, "correct horse\x00battery", "tab\there and there", "x" * 11],
    ids=["empty", "100 kB", "NUL", "control", "11 characters"],
)
def test_hostile_passphrases_are_refused_in_one_line(private_data_dir: Path, text: str) -> None:
    with pytest.raises(encryption.PassphraseError) as caught:
        open_database(passphrase=text)
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 120
    assert not (private_data_dir / "clinic.db").exists()


def test_a_damaged_encrypted_file_is_refused_in_one_line_untouched(
    private_data_dir: Path, demo_form: Form
) -> None:
    path = _new_clinic(private_data_dir, demo_form)
    good = path.read_bytes()
    cases = {
        "a flipped byte in a later page": (20 * 4096 + 100, "damaged"),
        "a flipped byte in the first page": (200, "does not open"),
    }
    for _name, (offset, said) in cases.items():
        data = bytearray(good)
        data[offset] ^= 0xFF
        path.write_bytes(bytes(data))
        _forget_all()
        with pytest.raises(StorageError, match=said) as caught:
            open_database(passphrase=PASSPHRASE)
        assert "\n" not in str(caught.value)
        assert path.read_bytes() == bytes(data)
    path.write_bytes(good[:-100])  # cut short: not whole pages
    with pytest.raises(DatabaseFileError, match="nor a whole encrypted one"):
        open_database(passphrase=PASSPHRASE)
    assert path.read_bytes() == good[:-100]


def test_restore_takes_only_a_backup_of_the_same_kind_and_passphrase(
    private_data_dir: Path, demo_form: Form, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _new_clinic(private_data_dir, demo_form)
    encrypted_copy = backup.copy_database(path, tmp_path / "encrypted.db")
    monkeypatch.setenv(encryption.ENCRYPTION_ENV, "off")
    plain_path = tmp_path / "plain" / "clinic.db"
    plain_path.parent.mkdir()
    with open_database(f"sqlite:///{plain_path}") as db:
        fill_demo(db, demo_form)
    monkeypatch.delenv(encryption.ENCRYPTION_ENV)
    plain_copy = backup.copy_database(plain_path, tmp_path / "plain.db")
    assert plain_copy.read_bytes()[:16] == files.SQLITE_HEADER
    with open_database(f"sqlite:///{tmp_path / 'other.db'}", passphrase=OTHER) as db:
        fill_demo(db, demo_form)
    other_copy = backup.copy_database(tmp_path / "other.db", tmp_path / "other-copy.db")

    before = _snapshot(private_data_dir)
    with pytest.raises(DatabaseFileError, match="plain .unencrypted. backup .* is encrypted"):
        backup.restore(plain_copy, path)
    with pytest.raises(encryption.WrongPassphraseError, match="other-copy.db"):
        backup.restore(other_copy, path)
    assert _snapshot(private_data_dir) == before
    plain_before = plain_path.read_bytes()
    with pytest.raises(
        DatabaseFileError, match="encrypted backup and this clinic's database is not"
    ):
        backup.restore(encrypted_copy, plain_path, directory=tmp_path / "plain-backups")
    assert plain_path.read_bytes() == plain_before

    result = backup.restore(encrypted_copy, path)  # same kind, same passphrase: restored
    assert result.replaced_copy is not None
    assert encryption.is_encrypted(result.replaced_copy)
    assert _clear_bytes(path) == []
    assert _clear_bytes(result.replaced_copy) == []
    _forget_all()
    with open_database(passphrase=PASSPHRASE) as db:
        assert records.count_patients(db) > 0


def test_encrypt_converts_a_plain_database_and_verifies_it(
    private_data_dir: Path, demo_form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(encryption.ENCRYPTION_ENV, "off")
    path = private_data_dir / "clinic.db"
    with open_database() as db:
        fill_demo(db, demo_form)
        patients = records.count_patients(db)
    monkeypatch.delenv(encryption.ENCRYPTION_ENV)
    assert FAMILY in _clear_bytes(path)
    with pytest.raises(encryption.PassphraseError, match="too short"):
        encryption.encrypt_database(path, "short")
    stale = encryption.keyring_file(path)
    stale.write_text('{"format": "clinic_app keyring", "logins": {}}')  # of an earlier file
    result = encryption.encrypt_database(path, PASSPHRASE)
    assert not stale.exists()  # it could not unlock this one: moved aside
    assert list(private_data_dir.glob("clinic.db.keyring.replaced-*"))
    assert result.rows > 0
    assert result.safety_copy.is_file()
    assert result.safety_copy in result.plain_backups  # said, so the clinic can remove it
    assert _clear_bytes(path) == []
    assert not Path(f"{path}-wal").exists() or _clear_bytes(Path(f"{path}-wal")) == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    _forget_all()
    with open_database(passphrase=PASSPHRASE) as db:
        assert db.encrypted
        assert records.count_patients(db) == patients
        assert records.verify_database(db) == []
    with pytest.raises(DatabaseFileError, match="already encrypted"):
        encryption.encrypt_database(path, PASSPHRASE)


def test_encrypt_refuses_a_damaged_database_and_leaves_it_as_it_was(
    private_data_dir: Path, demo_form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(encryption.ENCRYPTION_ENV, "off")
    path = private_data_dir / "clinic.db"
    with open_database() as db:
        fill_demo(db, demo_form)
    data = bytearray(path.read_bytes())
    root = (
        sqlite3.connect(path)
        .execute("SELECT rootpage FROM sqlite_master WHERE name = 'patient'")
        .fetchone()[0]
    )
    page = 4096 * (root - 1)
    data[page + 8 : page + 200] = b"\xff" * 192  # the patient table's page, scrambled
    path.write_bytes(bytes(data))
    with pytest.raises(DatabaseFileError, match="damaged"):
        encryption.encrypt_database(path, PASSPHRASE)
    assert path.read_bytes() == bytes(data)
    assert not list(private_data_dir.glob(".*partial*"))


def test_the_keyring_unlocks_per_login_and_only_with_that_password(
    private_data_dir: Path, demo_form: Form
) -> None:
    path = _new_clinic(private_data_dir, demo_form)
    with open_database(passphrase=PASSPHRASE) as db:
        encryption.grant(db, "Dana", "dana's long password")
        encryption.grant(db, "lee", "lee's long password")
        encryption.grant_recovery(db, "ABCD-EFGH-IJKL")
    ring = encryption.keyring_file(path)
    assert stat.S_IMODE(ring.stat().st_mode) == 0o600
    text = ring.read_text()
    assert "dana" not in text.lower()
    assert "lee" not in text
    assert PASSPHRASE not in text
    assert encryption.unlock(path, "dana", "dana's long password") == PASSPHRASE
    assert encryption.unlock(path, " DANA ", "dana's long password") == PASSPHRASE
    assert encryption.unlock_recovery(path, "abcd efgh ijkl") == PASSPHRASE
    with pytest.raises(encryption.UnlockError, match="^wrong name or password$"):
        encryption.unlock(path, "dana", "lee's long password")
    with pytest.raises(encryption.NoKeyForLoginError, match="^wrong name or password$"):
        encryption.unlock(path, "kim", "dana's long password")
    with pytest.raises(encryption.UnlockError):
        encryption.unlock_recovery(path, "ABCD-EFGH-IJKM")

    # Lee copies Dana's entry over his own, knowing Dana's password: the login is bound in.
    data = json.loads(text)
    dana, lee = (hashlib.sha256(n.encode()).hexdigest() for n in ("dana", "lee"))
    data["logins"][lee] = data["logins"][dana]
    ring.write_text(json.dumps(data))
    with pytest.raises(encryption.UnlockError):
        encryption.unlock(path, "lee", "dana's long password")
    # A keyring that asks argon2 for 64 GiB, or is not JSON, is refused at once.
    data["logins"][dana] = {**data["logins"][dana], "memory_cost": 1 << 26}
    ring.write_text(json.dumps(data))
    with pytest.raises(encryption.UnlockError, match="^wrong name or password$"):
        encryption.unlock(path, "dana", "dana's long password")
    ring.write_bytes(b"\x00" * 100)
    with pytest.raises(encryption.UnlockError, match="damaged"):
        encryption.unlock(path, "dana", "dana's long password")


def test_revoke_removes_a_login_and_plain_databases_have_no_keyring(
    private_data_dir: Path, demo_form: Form, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encryption, "KDF", {"time_cost": 3, "memory_cost": 65536, "parallelism": 1})
    path = _new_clinic(private_data_dir, demo_form)
    with open_database(passphrase=PASSPHRASE) as db:
        encryption.grant(db, "dana", "dana's long password")  # the real cost
        assert encryption.unlock(path, "dana", "dana's long password") == PASSPHRASE
        encryption.revoke(db, "dana")
    with pytest.raises(encryption.NoKeyForLoginError):
        encryption.unlock(path, "dana", "dana's long password")
    plain = tmp_path / "plain.db"
    with open_database(f"sqlite:///{plain}", new_encrypted=False) as db:
        encryption.grant(db, "dana", "dana's long password")
        encryption.grant_recovery(db, "ABCD")
    assert not encryption.keyring_file(plain).exists()


def test_a_kept_draft_of_an_encrypted_clinic_waits_for_it_to_be_unlocked(
    private_data_dir: Path, demo_form: Form
) -> None:
    path = _new_clinic(private_data_dir, demo_form)
    with open_database(passphrase=PASSPHRASE) as db:
        patient = records.list_patients(db)[0]
        ev = records.start_evaluation(db, patient.id, demo_form, user="demo")
        values = {"form": demo_form.id, "form_version": demo_form.version, "values": {}}
        kept_file = kept.keep(kept.KeptDraft(ev.id, ev.version, "demo", db.where, values))
    _forget_all()
    assert kept.kept() == []
    assert kept_file.exists()
    data = json.loads(kept_file.read_text())
    data["evaluation_id"] = ev.id + 1  # renamed to another evaluation: refused, not misread
    other = kept_file.with_name(f"evaluation-{ev.id + 1}.json")
    other.write_text(json.dumps(data))
    with open_database(passphrase=PASSPHRASE) as db:
        (found,) = kept.kept(db.where)
        assert found.evaluation_id == ev.id
        assert kept.save_kept(db, found).evaluation_id == ev.id
    assert not kept_file.exists()
    assert other.exists()
    del path


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://clinic@db.example.org/clinic",
        "postgresql+psycopg://clinic@10.0.0.5/clinic?sslmode=prefer",
        "postgresql+psycopg://clinic@localhost/clinic?host=db.example.org",
        "postgresql+psycopg://clinic@/clinic?host=/var/run/postgresql,server.lan",
        "postgresql+psycopg://clinic@localhost/clinic?hostaddr=192.0.2.7",
        "postgresql+psycopg://clinic@/clinic?service=clinic",
    ],
)
def test_a_server_on_another_computer_without_tls_is_refused(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PGSSLMODE", "PGHOST", "PGHOSTADDR", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(encryption.PlainServerError, match="sslmode=verify-full"):
        open_database(url)
    monkeypatch.setenv("CLINIC_APP_ALLOW_PLAIN_SERVER", "1")
    encryption.require_tls(make_url(url), url)  # the workstation allows it (a warning)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://clinic@db.example.org/clinic?sslmode=verify-full",
        "postgresql+psycopg://clinic@db.example.org/clinic?sslmode=require",
        "postgresql+psycopg://clinic@127.0.0.1:5432/clinic",
        "postgresql+psycopg://clinic@[::1]:5432/clinic",
        "postgresql+psycopg://clinic@localhost/clinic",
        "postgresql+psycopg://clinic@/clinic?host=/var/run/postgresql",
        "postgresql+psycopg://clinic@/clinic",
    ],
)
def test_tls_or_a_local_server_is_accepted(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PGSSLMODE", "PGHOST", "PGHOSTADDR", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CLINIC_APP_ALLOW_PLAIN_SERVER", raising=False)
    encryption.require_tls(make_url(url), url)


@pytest.mark.postgres
def test_a_local_postgresql_opens_without_tls_and_grant_is_a_no_op(
    postgres_migrated_url: str,
) -> None:
    with open_database(postgres_migrated_url, backup=False) as db:
        encryption.grant(db, "dana", "dana's long password")  # nothing to wrap on a server
        encryption.revoke(db, "dana")
        assert not db.encrypted
        assert encryption.tls_state(db.url).startswith("local server")


def test_a_passphrase_with_quotes_and_sql_opens_through_every_route(
    private_data_dir: Path, demo_form: Form
) -> None:
    odd = """it's a "quoted" pass; -- phrase ' OR 1=1"""
    with open_database(passphrase=odd) as db:  # the SQLAlchemy dialect's PRAGMA key
        fill_demo(db, demo_form)
    path = private_data_dir / "clinic.db"
    _forget_all()
    assert files.check_file(path, passphrase=odd) is not None  # sqlcipher3 with our literal
    copy = backup.copy_database(path, private_data_dir / "copy.db", passphrase=odd)
    with open_database(f"sqlite:///{copy}", passphrase=odd, backup=False) as db:
        assert records.count_patients(db) > 0
    with pytest.raises(encryption.WrongPassphraseError):
        files.check_file(path, passphrase=odd.replace('"', "'"))


def test_accounts_wrap_the_passphrase_for_each_password_and_drop_it_when_disabled(
    private_data_dir: Path, demo_form: Form
) -> None:
    from clinic_app.storage import accounts

    path = _new_clinic(private_data_dir, demo_form)
    with open_database(passphrase=PASSPHRASE) as db:
        admin, recovery = accounts.create_first_admin(
            db, "jane", "jane's long password", display_name="Jane Doe"
        )
        accounts.add_account(
            db,
            "lee",
            "lee's long password",
            roles=["therapist"],
            display_name="Lee Chan",
            by=admin,
        )
    assert encryption.unlock(path, "jane", "jane's long password") == PASSPHRASE
    assert encryption.unlock(path, "lee", "lee's long password") == PASSPHRASE
    assert encryption.unlock_recovery(path, recovery) == PASSPHRASE
    with open_database(passphrase=PASSPHRASE) as db:
        accounts.disable_account(db, "lee", by=admin)
    with pytest.raises(encryption.UnlockError):
        encryption.unlock(path, "lee", "lee's long password")


def _grant_many(url: str, logins: list[str]) -> None:
    with open_database(url, passphrase=PASSPHRASE, backup=False) as db:
        for login in logins:
            encryption.grant(db, login, f"{login}'s long password")


def test_two_processes_granting_at_once_lose_no_entry(
    private_data_dir: Path, demo_form: Form
) -> None:
    import multiprocessing

    path = _new_clinic(private_data_dir, demo_form)
    url = f"sqlite:///{path}"
    context = multiprocessing.get_context("fork")  # the cheaper KDF of the fixture carries over
    groups = [[f"a{i}" for i in range(6)], [f"b{i}" for i in range(6)]]
    workers = [context.Process(target=_grant_many, args=(url, g)) for g in groups]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    for login in groups[0] + groups[1]:
        assert encryption.unlock(path, login, f"{login}'s long password") == PASSPHRASE


def test_a_damaged_keyring_is_moved_aside_by_the_next_grant(
    private_data_dir: Path, demo_form: Form
) -> None:
    path = _new_clinic(private_data_dir, demo_form)
    ring = encryption.keyring_file(path)
    ring.write_text("{not json")
    with open_database(passphrase=PASSPHRASE) as db:
        encryption.grant(db, "dana", "dana's long password")
    assert encryption.unlock(path, "dana", "dana's long password") == PASSPHRASE
    (aside,) = path.parent.glob("clinic.db.keyring.damaged-*")
    assert aside.read_text() == "{not json"


def test_restore_over_a_clinic_the_passphrase_no_longer_opens_says_what_to_do(
    private_data_dir: Path, demo_form: Form, tmp_path: Path
) -> None:
    path = _new_clinic(private_data_dir, demo_form)
    good = backup.copy_database(path, tmp_path / "good.db")
    data = bytearray(path.read_bytes())
    data[300] ^= 0xFF  # the first page: no passphrase opens it now
    path.write_bytes(bytes(data))
    with pytest.raises(DatabaseFileError, match="opens the backup but not this database"):
        backup.restore(good, path)
    assert path.read_bytes() == bytes(data)
    path.rename(tmp_path / "damaged.db")  # as the message says
    for side in private_data_dir.glob("clinic.db-*"):
        side.unlink()
    result = backup.restore(good, path)
    assert result.replaced_copy is None
    _forget_all()
    with open_database(passphrase=PASSPHRASE) as db:
        assert records.count_patients(db) > 0


def test_an_unknown_login_takes_as_long_as_a_wrong_password(
    private_data_dir: Path, demo_form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setattr(encryption, "KDF", {"time_cost": 3, "memory_cost": 65536, "parallelism": 1})
    path = _new_clinic(private_data_dir, demo_form)
    with open_database(passphrase=PASSPHRASE) as db:
        encryption.grant(db, "dana", "dana's long password")

    def took(login: str) -> float:
        start = time.perf_counter()
        with pytest.raises(encryption.UnlockError):
            encryption.unlock(path, login, "a wrong password")
        return time.perf_counter() - start

    wrong = min(took("dana") for _ in range(3))
    unknown = min(took("nobody") for _ in range(3))
    assert unknown > wrong / 2  # no fast answer that tells which logins have a key


def test_is_encrypted_never_reads_a_fifo_or_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "clinic.db"
    os.mkfifo(fifo)  # opening it for reading would block for ever
    assert not encryption.is_encrypted(fifo)
    assert not encryption.is_encrypted(Path("/dev/zero"))
    assert not encryption.is_encrypted(tmp_path / "missing.db")
    (tmp_path / "zeros.db").write_bytes(b"\x00" * 8192)  # sparse or wiped: not a salt
    assert not encryption.is_encrypted(tmp_path / "zeros.db")


def test_encrypt_refuses_a_result_that_does_not_verify_and_keeps_the_plain_file(
    private_data_dir: Path, demo_form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(encryption.ENCRYPTION_ENV, "off")
    path = private_data_dir / "clinic.db"
    with open_database() as db:
        fill_demo(db, demo_form)
    monkeypatch.delenv(encryption.ENCRYPTION_ENV)
    plain = path.read_bytes()
    real = encryption._encrypted_problem

    def damaged_on_the_way(staged: Path, *args: object) -> str | None:
        data = bytearray(staged.read_bytes())
        data[5 * 4096 + 64] ^= 0xFF  # the encrypted copy damaged after the export
        staged.write_bytes(bytes(data))
        return real(staged, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(encryption, "_encrypted_problem", damaged_on_the_way)
    with pytest.raises(DatabaseFileError, match="the encrypted copy does not verify"):
        encryption.encrypt_database(path, PASSPHRASE)
    assert path.read_bytes() == plain
    assert not list(private_data_dir.glob(".clinic.db.encrypt*"))
    with open_database() as db:  # still the plain clinic, as it was
        assert not db.encrypted
        assert records.count_patients(db) > 0
