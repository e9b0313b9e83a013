"""Clinician accounts on both backends: real argon2id (cheap parameters), real Ed25519 keys.

Adversarial: wrong and unknown names cost one argon2 check each, the rate limit holds across two
Database objects on one file, the last admin cannot be disabled, hostile values change nothing,
and what raw SQL can still do to the roles (they are data, not sealed).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from clinic_app.storage import accounts as a
from clinic_app.storage import models as m
from clinic_app.storage import records, sealing
from clinic_app.storage._types import utcnow
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import StorageError
from clinic_app.storage.values import Clinician

PW = "correct horse battery"
PW2 = "tr0ub4dor & 3 more"


class CountingHasher(PasswordHasher):
    """argon2id with test-sized cost; counts the verifications (the timing argument)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.verifies = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        self.verifies += 1
        return super().verify(hash, password)


@pytest.fixture(autouse=True)
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    cheap = CountingHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(a, "_hasher", cheap)
    return cheap


@pytest.fixture
def admin(db: Database) -> Clinician:
    made, _ = a.create_first_admin(db, "Alice", PW, display_name="Alice Admin", licence_number="L1")
    return made


def _row(db: Database, login: str) -> dict[str, Any]:
    with db.connection() as conn:
        found = conn.execute(text("SELECT * FROM clinician WHERE login = :l"), {"l": login})
        return dict(found.mappings().one())


def _counts(db: Database) -> tuple[int, int]:
    with db.reading() as s:
        return (
            s.scalar(select(func.count()).select_from(m.Clinician)) or 0,
            s.scalar(select(func.count()).select_from(m.AuditEvent)) or 0,
        )


def _events(db: Database) -> list[tuple[str, str, int]]:
    with db.reading() as s:
        rows = s.execute(
            select(m.AuditEvent.actor, m.AuditEvent.action, m.AuditEvent.entity_id)
            .where(m.AuditEvent.entity == "clinician")
            .order_by(m.AuditEvent.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _set_failed(db: Database, login: str, failed: int, seconds_ago: float) -> None:
    with db.writing() as s:
        s.execute(
            update(m.Clinician)
            .where(m.Clinician.login == login)
            .values(
                failed_attempts=failed, last_failed_at=utcnow() - timedelta(seconds=seconds_ago)
            )
        )


# --------------------------------------------------------------------------------- first admin


def test_first_admin_row_holds_hashes_and_a_certified_key(db: Database) -> None:
    assert a.needs_first_admin(db)
    made, recovery = a.create_first_admin(db, "  Alice ", PW, display_name="Alice Admin")
    assert made.login == "alice"
    assert made.roles == ("admin", "therapist")
    assert not a.needs_first_admin(db)
    groups = recovery.split("-")
    assert len(groups) == 6
    assert all(len(g) == 5 for g in groups)
    assert set(recovery.replace("-", "")) <= set(a.RECOVERY_ALPHABET)
    row = _row(db, "alice")
    assert row["password_hash"].startswith("$argon2id$")
    assert row["recovery_hash"].startswith("$argon2id$")
    everything = repr(row)
    assert PW not in everything
    assert recovery not in everything
    assert recovery.replace("-", "") not in everything
    assert row["signing_key"].startswith("clinic-app-key-kdf: argon2id")
    assert "ENCRYPTED PRIVATE KEY" in row["signing_key"]
    # The certificate, exactly as storage.sealing checks it.
    assert row["key_certified_by"] == sealing.public_hex(sealing.installation_key())  # type: ignore[arg-type]
    message = sealing.canonical(
        {"clinician_id": made.id, "login": "alice", "public_key": row["signing_public_key"]}
    )
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(row["key_certified_by"]))
    public.verify(bytes.fromhex(row["key_certificate"]), message.encode("utf-8"))
    assert _events(db) == [("alice", "create", made.id)]


def test_a_second_first_admin_is_refused(db: Database, admin: Clinician) -> None:
    before = _counts(db)
    with pytest.raises(StorageError, match="an admin account already exists"):
        a.create_first_admin(db, "mallory", PW, display_name="Mallory")
    assert _counts(db) == before


def test_first_admin_without_therapist_role(db: Database) -> None:
    made, _ = a.create_first_admin(db, "office", PW, display_name="Office", therapist=False)
    assert made.roles == ("admin",)
    assert a.has_role(made, "admin")
    assert not a.has_role(made, "therapist")


def test_legacy_clinicians_do_not_count_as_admin(db: Database) -> None:
    records.save_clinician(db, records.ClinicianInfo(name="Jörg Müller"), user="setup")
    assert a.needs_first_admin(db)
    (account,) = a.list_accounts(db)
    assert account.login == "jorg.muller"
    assert not account.has_password


# --------------------------------------------------------------------------------- sign-in


def test_sign_in_and_audit(db: Database, admin: Clinician) -> None:
    signed = a.authenticate(db, "ALICE ", PW)
    assert signed == admin
    with pytest.raises(a.SignInError, match="^wrong name or password$"):
        a.authenticate(db, "alice", PW2)
    assert _events(db)[-2:] == [
        ("alice", "sign_in", admin.id),
        ("alice", "sign_in_failed", admin.id),
    ]
    assert _row(db, "alice")["failed_attempts"] == 1
    a.authenticate(db, "alice", PW)
    assert _row(db, "alice")["failed_attempts"] == 0
    with db.reading() as s:
        assert sealing.audit_problems(s) == []


def test_a_password_that_is_not_text(db: Database, admin: Clinician) -> None:
    with pytest.raises(a.SignInError, match="^wrong name or password$"):
        a.authenticate(db, "alice", PW + "\udcff")


@pytest.mark.parametrize("login", ["bob", "no such person", "x" * 500, "a\nb", "\x00"])
def test_unknown_or_malformed_login_costs_one_argon2_check(
    db: Database, admin: Clinician, hasher: CountingHasher, login: str
) -> None:
    hasher.verifies = 0
    with pytest.raises(a.SignInError, match="^wrong name or password$"):
        a.authenticate(db, login, PW)
    assert hasher.verifies == 1
    # Audited under id 0, without the typed name (it may be a password typed in the wrong box).
    assert _events(db)[-1] == ("(unknown login)", "sign_in_failed", 0)
    hasher.verifies = 0
    with pytest.raises(a.SignInError, match="^wrong name or password$"):
        a.authenticate(db, "alice", PW2)
    assert hasher.verifies == 1  # a known name with a wrong password: the same one check


def test_no_password_yet_costs_a_check_too(db: Database, hasher: CountingHasher) -> None:
    records.save_clinician(db, records.ClinicianInfo(name="Old Timer"), user="setup")
    hasher.verifies = 0
    with pytest.raises(a.SignInError, match="no password set for old.timer: an admin must set one"):
        a.authenticate(db, "old.timer", PW)
    assert hasher.verifies == 1


def test_a_huge_password_is_not_hashed(
    db: Database, admin: Clinician, hasher: CountingHasher
) -> None:
    hasher.verifies = 0
    with pytest.raises(a.SignInError, match="^wrong name or password$"):
        a.authenticate(db, "alice", PW + "x" * 100_000)
    assert hasher.verifies == 1  # the dummy, on a bounded string


def test_disabled_account(db: Database, admin: Clinician) -> None:
    a.add_account(db, "bob", PW2, roles=["therapist"], display_name="Bob", by=admin)
    a.disable_account(db, "bob", by=admin)
    with pytest.raises(a.SignInError, match="^account bob is disabled$"):
        a.authenticate(db, "bob", PW2)
    with pytest.raises(a.SignInError, match="^wrong name or password$"):  # says nothing more
        a.authenticate(db, "bob", PW)
    a.enable_account(db, "bob", by=admin)
    assert a.authenticate(db, "bob", PW2).login == "bob"
    actions = [e[1] for e in _events(db) if e[2] != admin.id]
    # Both refusals audited; only the wrong password counts towards the delay.
    assert actions == ["create", "disable", "sign_in_failed", "sign_in_failed", "enable", "sign_in"]
    assert _row(db, "bob")["failed_attempts"] == 0


# ------------------------------------------------------------------------------ rate limit


def test_wait_left_doubles_and_is_capped() -> None:
    now = utcnow()
    assert a.wait_left(4, now, now) == 0
    assert [a.wait_left(n, now, now) for n in (5, 6, 7, 8, 9, 10)] == [30, 60, 120, 240, 480, 900]
    assert a.wait_left(60, now, now) == 900
    assert a.wait_left(5, now - timedelta(seconds=31), now) == 0
    assert a.wait_left(5, now + timedelta(days=1), now) == 30  # a clock ahead: still capped


def test_five_failures_lock_even_the_right_password(
    db: Database, admin: Clinician, hasher: CountingHasher
) -> None:
    for _ in range(5):
        with pytest.raises(a.SignInError, match="wrong name or password"):
            a.authenticate(db, "alice", PW2)
    hasher.verifies = 0
    with pytest.raises(a.SignInError, match=r"^too many failed sign-ins: try again in (29|30) s$"):
        a.authenticate(db, "alice", PW)
    with pytest.raises(a.SignInError, match="too many failed sign-ins"):
        a.check_password(db, admin.id, PW)  # signing re-entry shares the limit
    assert hasher.verifies == 0  # nothing is tried while locked
    _set_failed(db, "alice", 5, 31)  # the delay has passed
    with pytest.raises(a.SignInError, match="wrong name or password"):
        a.authenticate(db, "alice", PW2)  # the 6th failure: 60 s now
    with pytest.raises(a.SignInError, match=r"try again in (59|60) s"):
        a.authenticate(db, "alice", PW)
    _set_failed(db, "alice", 6, 61)
    assert a.authenticate(db, "alice", PW) == admin
    assert _row(db, "alice")["failed_attempts"] == 0
    assert _row(db, "alice")["last_failed_at"] is None


def test_rate_limit_holds_across_two_database_objects(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = open_database(url), open_database(url)
    try:
        a.create_first_admin(first, "alice", PW, display_name="Alice")
        for db in (first, second, first, second, first):
            with pytest.raises(a.SignInError, match="wrong name or password"):
                a.authenticate(db, "alice", PW2)
        with pytest.raises(a.SignInError, match="too many failed sign-ins"):
            a.authenticate(second, "alice", PW)
    finally:
        first.close()
        second.close()


def test_failures_are_counted_atomically(db: Database, admin: Clinician) -> None:
    def fail() -> None:
        with pytest.raises(a.SignInError):
            a.authenticate(db, "alice", PW2)

    threads = [threading.Thread(target=fail) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _row(db, "alice")["failed_attempts"] == 4


def test_no_secret_in_the_log(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    made, recovery = a.create_first_admin(db, "alice", PW, display_name="Alice")
    with pytest.raises(a.SignInError):
        a.authenticate(db, "alice", PW2)
    a.change_password(db, "alice", PW, PW2)
    fresh = a.recover(db, "alice", recovery, PW)
    logged = caplog.text
    for secret in (PW, PW2, recovery, fresh):
        assert secret not in logged
    assert "sign-in failed for account" in logged


# ------------------------------------------------------------------------------ accounts


def test_add_account_roles(db: Database, admin: Clinician) -> None:
    made = a.add_account(
        db, "Stu.Dent", PW2, roles=["student"], display_name="Stu Dent", credentials="SPT", by=admin
    )
    assert made.login == "stu.dent"
    assert made.roles == ("student",)
    both = a.add_account(db, "boss", PW2, roles=["therapist", "admin"], display_name="B", by=admin)
    assert both.roles == ("admin", "therapist")  # ROLES order
    assert _row(db, "boss")["roles"] == "admin,therapist"
    before = _counts(db)
    for roles, problem in (
        (["student", "therapist"], "cannot also be a therapist"),
        (["assistant", "therapist"], "cannot also be a therapist"),
        (["doctor"], "'doctor' is not a role"),
        ([], "at least one role"),
    ):
        with pytest.raises(StorageError, match=f"^role: .*{problem}"):
            a.add_account(db, "carol", PW2, roles=roles, display_name="Carol", by=admin)
    assert _counts(db) == before


def test_only_an_active_admin_adds_accounts(db: Database, admin: Clinician) -> None:
    bob = a.add_account(db, "bob", PW2, roles=["therapist"], display_name="Bob", by=admin)
    before = _counts(db)
    with pytest.raises(StorageError, match="only an active admin can manage accounts"):
        a.add_account(db, "eve", PW2, roles=["admin"], display_name="Eve", by=bob)
    # A forged value naming bob as admin changes nothing: the row decides.
    forged = Clinician(bob.id, bob.name, "", "", True, login="bob", roles=("admin",))
    with pytest.raises(StorageError, match="only an active admin"):
        a.add_account(db, "eve", PW2, roles=["admin"], display_name="Eve", by=forged)
    with pytest.raises(StorageError, match="only an active admin"):
        a.reset_password(db, "alice", PW2, by=bob)
    assert _counts(db) == before


def test_duplicate_login_is_one_line(db: Database, admin: Clinician) -> None:
    before = _counts(db)
    with pytest.raises(StorageError, match=r"^login 'alice' is already taken$"):
        a.add_account(db, "ALICE", PW2, roles=["therapist"], display_name="Other", by=admin)
    assert _counts(db) == before
    # The unique index itself, as a race that slips past the check would meet it.
    with pytest.raises(IntegrityError) as caught, db.writing() as s:
        s.execute(
            text(
                "INSERT INTO clinician (name, credentials, licence_number, active, updated_by, "
                "updated_at, login, roles, failed_attempts, must_change_password) VALUES "
                "('X', '', '', true, 'x', CURRENT_TIMESTAMP, 'alice', 'therapist', 0, false)"
            )
        )
    assert str(a._duplicate("alice", caught.value)) == "login 'alice' is already taken"


def test_concurrent_adds_of_one_login(db: Database, admin: Clinician) -> None:
    outcomes: list[str] = []

    def add() -> None:
        try:
            a.add_account(db, "dup", PW2, roles=["therapist"], display_name="Dup", by=admin)
            outcomes.append("made")
        except StorageError as err:
            outcomes.append(str(err))

    threads = [threading.Thread(target=add) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["login 'dup' is already taken"] * 2 + ["made"]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"login": "a\nb"}, "^login: use 2 to 64"),
        ({"login": "x"}, "^login: use 2 to 64"),
        ({"login": "x" * 10_000}, "^login: 10000 characters is too long"),
        ({"login": "bad\x00name"}, "^login: use"),
        ({"login": ""}, "^login: missing"),
        ({"login": "jörg"}, "^login: use"),
        ({"password": "short"}, r"^password: too short \(at least 10"),
        ({"password": "x" * 10_000}, "^password: too long"),
        ({"password": "has a\x00 NUL inside"}, "^password: contains a control character"),
        ({"password": "line\nbreak in it"}, "^password: contains a control character"),
        ({"password": "broken utf-8 \udcff here"}, r"^password: not valid text \(broken UTF-8\?\)"),
        ({"display_name": "Bob \udcff"}, "^display name: not valid text"),
        ({"password": "Carol.Name"}, "^password: must not be the login"),
        ({"display_name": "x" * 10_000}, "^display name: 10000 characters is too long"),
        ({"display_name": "evil\x00"}, r"^display name: contains a control character \(U\+0000\)"),
        ({"display_name": "two\nlines"}, "^display name: contains a control character"),
        ({"display_name": "   "}, "^display name: missing"),
        ({"credentials": "c" * 10_000}, "^credentials: 10000 characters"),
        ({"licence_number": "\x1b[31m"}, "^licence number: contains a control character"),
    ],
)
def test_hostile_values_change_nothing(
    db: Database, admin: Clinician, kwargs: dict[str, str], problem: str
) -> None:
    values: dict[str, Any] = {
        "login": "carol.name",
        "password": PW2,
        "display_name": "Carol",
        "credentials": "",
        "licence_number": "",
    }
    values.update(kwargs)
    before = _counts(db)
    with pytest.raises(StorageError, match=problem) as caught:
        a.add_account(db, **values, roles=["therapist"], by=admin)
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 200
    assert _counts(db) == before


def test_last_admin_cannot_be_disabled(db: Database, admin: Clinician) -> None:
    before = _counts(db)
    with pytest.raises(StorageError, match="alice is the last active admin"):
        a.disable_account(db, "alice", by=admin)
    assert _counts(db) == before
    assert _row(db, "alice")["active"]
    b = a.add_account(db, "bea", PW2, roles=["admin"], display_name="Bea", by=admin)
    a.disable_account(db, "alice", by=b)
    assert not a.get_account(db, "alice").active
    with pytest.raises(StorageError, match="bea is the last active admin"):
        a.disable_account(db, "bea", by=b)
    with pytest.raises(StorageError, match="only an active admin"):  # a disabled admin is none
        a.enable_account(db, "alice", by=admin)
    a.enable_account(db, "alice", by=b)
    assert [acc.login for acc in a.list_accounts(db, include_disabled=False)] == ["alice", "bea"]


def test_headless_actor_is_recorded(db: Database) -> None:
    by = a.Headless("root")
    made = a.add_account(db, "bob", PW2, roles="therapist", display_name="Bob", by=by)
    assert made.roles == ("therapist",)  # one role as a string, not its letters
    assert _events(db) == [("command line (root)", "create", made.id)]
    a.disable_account(db, "bob", by=a.Headless("evil\nname\x1b[2J"))
    assert _events(db)[-1][0] == "command line (evil?name?[2J)"
    assert a.needs_first_admin(db)  # a therapist made headless is no admin


# ----------------------------------------------------------------------- passwords and keys


def test_change_password_keeps_the_key(db: Database, admin: Clinician) -> None:
    public = _row(db, "alice")["signing_public_key"]
    old_hash = _row(db, "alice")["password_hash"]
    with pytest.raises(a.SignInError, match="wrong name or password"):
        a.change_password(db, "alice", PW2, "another good one")
    with pytest.raises(StorageError, match="new password: must differ"):
        a.change_password(db, "alice", PW, PW)
    with pytest.raises(StorageError, match="password: too short"):
        a.change_password(db, "alice", PW, "short")
    assert _row(db, "alice")["password_hash"] == old_hash
    a.change_password(db, "alice", PW, PW2)
    row = _row(db, "alice")
    assert row["signing_public_key"] == public
    assert row["password_hash"] != old_hash
    assert row["failed_attempts"] == 0
    key = a.signing_key(db, admin.id, PW2)
    assert sealing.public_hex(key) == public
    with pytest.raises(a.SignInError, match="wrong name or password"):
        a.signing_key(db, admin.id, PW)
    with pytest.raises(a.SignInError):
        a.authenticate(db, "alice", PW)
    assert _events(db)[-3][1] == "password_change"


def test_reset_gives_a_new_key_and_asks_for_a_change(db: Database, admin: Clinician) -> None:
    bob = a.add_account(db, "bob", PW2, roles=["therapist"], display_name="Bob", by=admin)
    public = _row(db, "bob")["signing_public_key"]
    a.reset_password(db, "bob", "temporary pass 1", by=admin)
    account = a.get_account(db, "bob")
    assert account.must_change_password
    assert account.has_password
    assert _row(db, "bob")["signing_public_key"] != public
    assert a.authenticate(db, "bob", "temporary pass 1") == bob
    a.change_password(db, "bob", "temporary pass 1", PW2)
    assert not a.get_account(db, "bob").must_change_password
    assert (
        sealing.public_hex(a.signing_key(db, bob.id, PW2)) == _row(db, "bob")["signing_public_key"]
    )


def test_reset_unlocks_and_gives_a_legacy_clinician_a_key(db: Database, admin: Clinician) -> None:
    old = records.save_clinician(db, records.ClinicianInfo(name="Old Timer"), user="setup")
    assert _row(db, "old.timer")["signing_public_key"] is None
    a.reset_password(db, "old.timer", PW2, by=admin)
    row = _row(db, "old.timer")
    assert row["signing_public_key"]
    assert row["key_certificate"]
    assert a.authenticate(db, "old.timer", PW2).id == old.id
    _set_failed(db, "alice", 9, 0)
    bea = a.add_account(db, "bea", PW2, roles=["admin"], display_name="Bea", by=a.Headless())
    a.reset_password(db, "alice", PW2, by=bea)
    assert a.authenticate(db, "alice", PW2) == admin  # the delay went with the reset


def test_recover_spends_the_key(db: Database, hasher: CountingHasher) -> None:
    made, recovery = a.create_first_admin(db, "alice", PW, display_name="Alice")
    public = _row(db, "alice")["signing_public_key"]
    with pytest.raises(a.SignInError, match="^wrong name or recovery key$"):
        a.recover(db, "alice", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", PW2)
    with pytest.raises(a.SignInError, match="^wrong name or recovery key$"):
        a.recover(db, "nobody", recovery, PW2)
    typed = recovery.lower().replace("-", " ")  # as read back from paper
    fresh = a.recover(db, "alice", typed, PW2)
    assert fresh != recovery
    assert _row(db, "alice")["signing_public_key"] != public
    assert a.authenticate(db, "alice", PW2) == made
    with pytest.raises(a.SignInError, match="wrong name or recovery key"):
        a.recover(db, "alice", recovery, PW)  # spent
    a.recover(db, "alice", fresh, PW)
    bob = a.add_account(db, "bob", PW2, roles=["therapist"], display_name="Bob", by=made)
    hasher.verifies = 0
    with pytest.raises(a.SignInError, match="wrong name or recovery key"):
        a.recover(db, "bob", fresh, PW)  # no recovery key of his own
    assert hasher.verifies == 1
    assert bob.login == "bob"


def test_rehash_when_parameters_change(
    db: Database, admin: Clinician, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_hash = _row(db, "alice")["password_hash"]
    monkeypatch.setattr(a, "_hasher", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    assert a.authenticate(db, "alice", PW) == admin
    new_hash = _row(db, "alice")["password_hash"]
    assert new_hash != old_hash
    assert "m=2048,t=2" in new_hash
    assert a.signing_key(db, admin.id, PW)  # the key's header keeps its own parameters


# -------------------------------------------------------------------------- the SQL route


def test_raw_sql_roles_are_only_data(db: Database, admin: Clinician) -> None:
    """Roles are not sealed: whoever can write the database can change them (documented)."""
    a.add_account(db, "stu", PW2, roles=["student"], display_name="Stu", by=admin)
    with db.writing() as s:
        s.execute(text("UPDATE clinician SET roles = 'admin,therapist,bogus' WHERE login = 'stu'"))
    assert a.get_account(db, "stu").roles == ("admin", "therapist")  # unknown words dropped
    with db.writing() as s:
        s.execute(text("UPDATE clinician SET roles = 'nothing' WHERE login = 'stu'"))
    assert a.authenticate(db, "stu", PW2).roles == ()  # no role: may do nothing


def test_swapped_key_is_detected(db: Database, admin: Clinician) -> None:
    bob = a.add_account(db, "bob", PW2, roles=["therapist"], display_name="Bob", by=admin)
    with db.writing() as s:  # a forger copies alice's key into bob's row
        alice = s.scalars(select(m.Clinician).where(m.Clinician.login == "alice")).one()
        s.execute(
            update(m.Clinician)
            .where(m.Clinician.id == bob.id)
            .values(signing_public_key=alice.signing_public_key)
        )
    with pytest.raises(StorageError, match="signing key of bob is damaged"):
        a.signing_key(db, bob.id, PW2)
    with db.writing() as s:
        s.execute(update(m.Clinician).where(m.Clinician.id == bob.id).values(signing_key="x"))
    with pytest.raises(StorageError, match="signing key of bob is damaged"):
        a.signing_key(db, bob.id, PW2)


def test_normalise_login() -> None:
    assert a.normalise_login("  Dr.Who_2-x ") == "dr.who_2-x"
    for bad in ("a", "has space", "tab\there", "é" * 3, "x" * 65):
        with pytest.raises(StorageError, match="^login: "):
            a.normalise_login(bad)


def test_roles_parsed_alike_without_sqlalchemy() -> None:
    """``values.parse_roles`` (the stdlib start path) is ``records.clinic.parse_roles``."""
    from clinic_app.storage import values
    from clinic_app.storage.records.clinic import parse_roles

    assert values.ROLES == m.ROLES
    for text_ in ("therapist", "student,admin", " admin , therapist,bogus", "", None):
        assert values.parse_roles(text_) == parse_roles(text_)


def test_a_forged_password_hash_signs_in_but_cannot_sign(db: Database, admin: Clinician) -> None:
    """Who can write the row can put in a hash of their own password and sign in (access control
    is not proof against the file's writer); the clinician's key still does not open for it."""
    forged = a._hasher.hash("forger's own password")
    with db.writing() as s:
        s.execute(
            update(m.Clinician).where(m.Clinician.id == admin.id).values(password_hash=forged)
        )
    assert a.authenticate(db, "alice", "forger's own password") == admin
    with pytest.raises(StorageError, match="^the signing key of alice is damaged"):
        a.signing_key(db, admin.id, "forger's own password")
    with pytest.raises(StorageError, match="signing key of alice is damaged"):
        a.change_password(db, "alice", "forger's own password", "and now mine forever")
    assert _row(db, "alice")["password_hash"] == forged  # nothing changed by the refusal


def _together(*calls: Any) -> list[str]:
    """Run the calls at once (threads, one connection each); what each ended with."""
    outcomes: list[str] = []
    start = threading.Barrier(len(calls))

    def run(call: Any) -> None:
        start.wait()
        try:
            call()
            outcomes.append("done")
        except StorageError as err:
            outcomes.append(str(err))

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_two_first_admins_at_once(db: Database) -> None:
    outcomes = _together(
        lambda: a.create_first_admin(db, "alice", PW, display_name="Alice"),
        lambda: a.create_first_admin(db, "bea", PW, display_name="Bea"),
    )
    assert outcomes == ["an admin account already exists: an admin adds accounts", "done"]
    assert len(a.list_accounts(db)) == 1


def test_the_last_two_admins_disable_each_other_at_once(db: Database, admin: Clinician) -> None:
    bea = a.add_account(db, "bea", PW2, roles=["admin"], display_name="Bea", by=admin)
    outcomes = _together(
        lambda: a.disable_account(db, "bea", by=admin),
        lambda: a.disable_account(db, "alice", by=bea),
    )
    # Whoever went second is no longer an admin, or would disable the last one.
    assert outcomes.count("done") == 1
    (refused,) = (o for o in outcomes if o != "done")
    assert "only an active admin" in refused or "last active admin" in refused
    assert not a.needs_first_admin(db)


def test_argon2_never_runs_under_the_write_lock(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each slow hash (~0.1 s at real cost) is made before the write transaction: another
    workstation's autosave can take SQLite's write lock meanwhile."""
    import sqlite3

    assert sqlite_db.path is not None
    path = sqlite_db.path
    locked: list[str] = []

    class Probing(CountingHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            other = sqlite3.connect(path, timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.rollback()
            except sqlite3.OperationalError as err:
                locked.append(str(err))
            finally:
                other.close()
            return super().hash(password, salt=salt)

    monkeypatch.setattr(a, "_hasher", Probing(time_cost=1, memory_cost=1024, parallelism=1))
    admin, recovery = a.create_first_admin(sqlite_db, "alice", PW, display_name="Alice")
    a.add_account(sqlite_db, "bob", PW2, roles=["therapist"], display_name="Bob", by=admin)
    a.reset_password(sqlite_db, "bob", PW, by=admin)
    a.change_password(sqlite_db, "bob", PW, PW2)
    a.recover(sqlite_db, "alice", recovery, PW2)
    assert locked == []
