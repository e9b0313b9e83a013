"""Restoring a truncated, damaged or foreign file is refused before anything is replaced.

The candidates are made from a real backup (``copy_database`` of a database with 30 patients):
cut short at several points (down to its last byte), a page overwritten, and files that are not
a clinic database at all. Each is handed to ``backup.restore`` and to ``clinic-app restore``; the
restore must be refused with a message naming the file, and the data folder (the database and
the backups folder) must be byte-identical afterwards. The good backup itself must restore
(control case), with every row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from clinic_app.cli import main as cli_main
from clinic_app.storage import backup
from clinic_app.storage.errors import StorageError
from tests.reliability.helpers import (
    another_installation,
    assert_user_message,
    make_database,
    snapshot,
    trust,
)

PAGE = 4096


def _cut(n: int) -> Callable[[bytes], bytes]:
    return lambda good: good[:n]


def _drop_tail(n: int) -> Callable[[bytes], bytes]:
    return lambda good: good[:-n]


def _overwrite_page(page: int) -> Callable[[bytes], bytes]:
    def damage(good: bytes) -> bytes:
        start = page * PAGE
        return good[:start] + b"\xff" * PAGE + good[start + PAGE :]

    return damage


BAD: dict[str, Callable[[bytes], bytes]] = {
    "empty": _cut(0),
    "half a header": _cut(10),
    "header only": _cut(100),
    "first page only": _cut(PAGE),
    "cut in half": lambda good: good[: len(good) // 2],
    "last page missing": _drop_tail(PAGE),
    "last 100 bytes missing": _drop_tail(100),
    "last byte missing": _drop_tail(1),
    "a page overwritten": _overwrite_page(3),
    "a picture": lambda _good: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
    "a text file": lambda _good: b"Patient list\nKim Runner\n" * 50,
}


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'patient_fts%'"
            )
        ]
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def good_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup made on another machine (its own key signed its audit trail)."""
    folder = tmp_path_factory.mktemp("good")
    with another_installation(folder / "maker"):
        make_database(folder / "source.db", patients=30)
    return backup.copy_database(folder / "source.db", folder / "good-backup.db")


@pytest.fixture(autouse=True)
def backup_machine_trusted(good_backup: Path, private_data_dir: Path) -> None:
    """This installation lists the machine the good backup came from in trusted-keys."""
    trust(good_backup.parent / "maker", private_data_dir)


def test_a_backup_from_a_machine_not_trusted_is_refused(
    good_backup: Path, live: Path, private_data_dir: Path
) -> None:
    """Its audit trail is signed by a key this installation does not know: refused, named."""
    (private_data_dir / "trusted-keys").unlink()
    before = live.read_bytes()
    with pytest.raises(StorageError, match="not signed by a key this installation trusts"):
        backup.restore(good_backup, live)
    assert live.read_bytes() == before


@pytest.fixture
def live(private_data_dir: Path) -> Path:
    """The database in use: three patients, closed, with one daily backup beside it."""
    private_data_dir.mkdir(parents=True, exist_ok=True)
    target = private_data_dir / "clinic.db"
    make_database(target, patients=3)
    backup.make_backup(target, "daily")
    return target


def _candidates(good: Path, folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    data = good.read_bytes()
    for name, make in BAD.items():
        path = folder / (name.replace(" ", "-") + ".db")
        path.write_bytes(make(data))
        found[name] = path
    foreign = folder / "other-program.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices VALUES (1, 99.5)")
    conn.commit()
    conn.close()
    found["another program's database"] = foreign
    newer = folder / "newer-app.db"
    newer.write_bytes(data)
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    found["made by a newer app"] = newer
    found["missing file"] = folder / "no-such-backup.db"
    return found


OTHERS = ("another program's database", "made by a newer app", "missing file")


@pytest.mark.parametrize("name", [*BAD, *OTHERS])
def test_bad_backup_is_refused_and_nothing_is_replaced(
    name: str, good_backup: Path, live: Path, private_data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "candidates").mkdir()
    candidate = _candidates(good_backup, tmp_path / "candidates")[name]
    before = snapshot(private_data_dir)
    candidate_bytes = candidate.read_bytes() if candidate.exists() else None

    with pytest.raises(StorageError) as caught:
        backup.restore(candidate, live)
    assert snapshot(private_data_dir) == before, "the database was touched by a refused restore"
    assert_user_message(str(caught.value), candidate)
    if candidate_bytes is not None:
        assert candidate.read_bytes() == candidate_bytes, "the candidate file was changed"


@pytest.mark.parametrize(
    "name", ["last byte missing", "cut in half", "a picture", "another program's database"]
)
def test_cli_restore_of_a_bad_backup_is_one_line_and_replaces_nothing(
    name: str,
    good_backup: Path,
    live: Path,
    private_data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "candidates").mkdir()
    candidate = _candidates(good_backup, tmp_path / "candidates")[name]
    before = snapshot(private_data_dir)
    code = cli_main(["restore", str(candidate)])
    err = capsys.readouterr().err
    assert snapshot(private_data_dir) == before, "the database was touched by a refused restore"
    assert code != 0
    assert_user_message(err, candidate)
    assert len(err.strip().splitlines()) == 1, err


def test_good_backup_restores_every_row(good_backup: Path, live: Path) -> None:
    result = backup.restore(good_backup, live)
    assert result.replaced_copy is not None
    assert _rows(live) == _rows(good_backup)
