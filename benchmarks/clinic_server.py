"""A clinic server under load: N workstations on one PostgreSQL, the server restarted mid-run.

    .venv/bin/python benchmarks/clinic_server.py --workstations 10 --minutes 2
    .venv/bin/python benchmarks/clinic_server.py --workstations 3 --seconds 30 --faults fast

The harness starts a throwaway PostgreSQL cluster on 127.0.0.1 (as ``tests/storage/conftest.py``
does: ``initdb``/``pg_ctl``, as the ``postgres`` user when run as root), creates the two roles of
the README (``clinic_owner`` owns the database and migrates it, ``clinic_ws`` gets only
``clinic-app grant``'s privileges), and starts N workstation processes that use the real storage
layer as the ``clinic_ws`` role, each with a data folder of its own:

- every workstation charts its own patient's draft with a therapist's rhythm: a value every 1-3 s,
  saved as the app's autosaver does (``AUTOSAVE_DELAY_MS`` after the last change, at most
  ``AUTOSAVE_MAX_WAIT_MS`` while changes go on, one write at a time, the findings kept in memory
  until a write succeeds, retried with ``autosave.retry_delay_ms``'s backoff after a failure);
- the first few also edit one shared patient's draft now and then: a save over a version someone
  else saved first is a conflict, resolved as the window's "save mine as a copy" (a new draft of
  the same patient holds mine; theirs stays) followed by "take theirs";
- one signs its draft every ~20 s, builds the clinician report from it, and starts a new one;
- one searches the patient list (prefixes of names and MRNs) every ~0.5 s.

Faults (``--faults``, default all three, spread over the run): ``pg_ctl restart -m fast``,
``pg_ctl stop -m immediate`` then start (a killed server), and ``pg_terminate_backend`` of one
workstation's connections. At the end every workstation saves what it still holds (retrying up
to 60 s), and the harness compares what each believes it saved with what the database holds:
the last save of every draft is what is stored, every version a workstation believes it made is
in the audit trail with that content and no version is stored that nobody believes it made, and
every conflict kept both versions (theirs in the trail, mine in a copy). Conflicts detected are
compared with those expected from the audit trail: a save over version v is expected to conflict
when version v+1 was made by another workstation.

Prints the table (saves/s, save latency p50/p95/p99 per workstation, conflicts, search p95,
recovery time of each fault) and ``lost``/``duplicated``; ``--json OUT`` writes every figure.
Exit status 0 when nothing was lost, duplicated or wrongly reported, else 1.

The cluster runs with ``fsync=off`` (a killed server process, not a power cut, is the fault
here: the OS keeps what was written) and ``synchronous_commit=on`` (a commit the app was told
about is in the server's WAL).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OWNER, OWNER_PW = "clinic_owner", "owner-secret"
WS_ROLE, WS_PW = "clinic_ws", "ws-secret"
DBNAME = "clinic_app"
SHARED_MRN = "SHARED-1"
SIGN_EVERY_S = 20.0
SEARCH_EVERY_S = 0.5
FINAL_FLUSH_S = 60.0
NUMBER_ITEMS = ("duration_weeks", "sitting_tolerance_min", "weekly_volume_km", "load_increase_pct")
TEXT_ITEM = "scar_history_where"


# -- the server ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1 that can be restarted, killed and stopped."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise SystemExit("no PostgreSQL server binaries: apt-get install postgresql")
        self.bindir = Path(found[-1]).parent
        self.base = Path(tempfile.mkdtemp(prefix="clinic-load-pg-"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        self.running = False

    def _run(self, *args: str, timeout: float = 120) -> None:
        subprocess.run([*self.prefix, *args], check=True, capture_output=True, timeout=timeout)

    def _ctl(self, *args: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), *args)

    @property
    def options(self) -> str:
        return (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.base / "data"),
            "--auth=trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def start(self) -> None:
        self._ctl("-o", self.options, "-l", str(self.base / "log"), "-w", "start")
        self.running = True

    def restart_fast(self) -> None:
        self._ctl("-o", self.options, "-l", str(self.base / "log"), "-m", "fast", "-w", "restart")

    def kill_and_start(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop")
        self.running = False
        time.sleep(1.0)  # the server is away for a moment, as after a crash and a watchdog
        self.start()

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self._ctl("-m", "fast", "-w", "stop")
            self.running = False
        shutil.rmtree(self.base, ignore_errors=True)

    def admin(self, dbname: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def url(self, role: str, password: str, app: str = "clinic-load") -> str:
        return (
            f"postgresql+psycopg://{role}:{password}@127.0.0.1:{self.port}/{DBNAME}"
            f"?application_name={app}"
        )

    def terminate(self, app: str) -> int:
        with self.admin() as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (app,),
            ).fetchall()
        return len(rows)


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    server = Cluster()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()


# -- the clinic -----------------------------------------------------------------------------------


@dataclass
class Plan:
    workstations: int
    seconds: float
    seed: int
    faults: list[str]
    sharers: list[int] = field(default_factory=list)
    signer: int | None = None
    searcher: int | None = None


def roles_for(n: int) -> tuple[list[int], int | None, int | None]:
    """(workstations sharing a patient, the one that signs, the one that searches)."""
    searcher = n - 1 if n >= 2 else None
    signer = n - 2 if n >= 3 else None
    sharers = list(range(min(3, max(2, n - 2)))) if n >= 2 else []
    return sharers, signer, searcher


def ws_name(index: int) -> str:
    return f"ws{index + 1:02d}"


def set_up(server: Cluster, plan: Plan, form_path: str) -> dict[str, Any]:
    """Roles, database, schema (as the owner), grants, and one patient + draft per workstation."""
    from clinic_app.core.form_loading import load_form
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database
    from clinic_app.storage.roles import grant_workstation

    with server.admin() as conn:
        conn.execute(f"CREATE ROLE {OWNER} LOGIN PASSWORD '{OWNER_PW}'")
        conn.execute(f"CREATE ROLE {WS_ROLE} LOGIN PASSWORD '{WS_PW}'")
        conn.execute(f"CREATE DATABASE {DBNAME} OWNER {OWNER}")
    with server.admin(DBNAME) as conn, contextlib.suppress(Exception):
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # search uses it if there
    form = load_form(form_path)
    drafts: dict[str, int] = {}
    with open_database(server.url(OWNER, OWNER_PW, "setup"), backup=False) as db:
        grant_workstation(db, WS_ROLE)
    with open_database(server.url(WS_ROLE, WS_PW, "setup"), backup=False) as db:
        for i in range(plan.workstations):
            patient = records.create_patient(
                db,
                records.PatientFields(
                    given_name=f"Patient{i + 1}", family_name="Loadtest", mrn=f"LOAD-{i + 1:03d}"
                ),
                user="setup",
            )
            drafts[ws_name(i)] = records.start_evaluation(db, patient.id, form, user="setup").id
        for i in range(200):  # someone to search for
            records.create_patient(
                db,
                records.PatientFields(
                    given_name=random.Random(i).choice(["Ana", "Ben", "Chloé", "Dario", "Eun"]),
                    family_name=f"Search{i:03d}",
                    mrn=f"S-{i:04d}",
                ),
                user="setup",
            )
        shared_patient = records.create_patient(
            db,
            records.PatientFields(given_name="Shared", family_name="Patient", mrn=SHARED_MRN),
            user="setup",
        )
        shared = records.start_evaluation(db, shared_patient.id, form, user="setup").id
    return {"drafts": drafts, "shared": shared, "shared_patient": shared_patient.id}


# -- one workstation (a child process) ------------------------------------------------------------


class Draft:
    """One open draft and its autosaver state, as ``ui/autosave.DraftAutosaver`` keeps it."""

    def __init__(
        self, evaluation_id: int, version: int, values: dict[str, Any], content: str = ""
    ) -> None:
        self.evaluation_id = evaluation_id
        self.version = version
        self.content = content  # the content hash of what is believed stored
        self.values = dict(values)
        self.pending: dict[str, Any] | None = None
        self.first_change = 0.0
        self.last_change = 0.0
        self.next_try = 0.0
        self.failures = 0
        self.attempted: list[str] = []  # hashes of findings sent (a lost answer may have landed)


def _hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def workstation(config: dict[str, Any]) -> int:
    """The child: types, autosaves, signs or searches until the deadline, then saves the rest."""
    import logging

    from clinic_app.core.form_loading import load_form
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database
    from clinic_app.storage.errors import ConflictError, StorageError
    from clinic_app.ui.autosave import AUTOSAVE_DELAY_MS, AUTOSAVE_MAX_WAIT_MS, retry_delay_ms

    logging.basicConfig(level=logging.CRITICAL)
    name: str = config["name"]
    rng = random.Random(config["seed"])
    out = open(config["log"], "a", encoding="utf-8")  # noqa: SIM115 - closed at the end

    def log(**event: Any) -> None:
        event["t"] = time.time()
        out.write(json.dumps(event, default=str) + "\n")
        out.flush()

    form = load_form(config["form"])
    fid, fver = form.id, form.version
    db = open_database(config["url"], migrate=False, backup=False)
    drafts: list[Draft] = []

    def load(evaluation_id: int) -> Draft:
        while True:
            try:
                ev = records.get_evaluation(db, evaluation_id)
                values = dict(ev.findings.get("values", {}))
                return Draft(evaluation_id, ev.version, values, ev.content_hash)
            except StorageError:
                time.sleep(0.5)

    drafts.append(load(config["draft"]))
    if config.get("shared") is not None:
        drafts.append(load(config["shared"]))
    delay, max_wait = AUTOSAVE_DELAY_MS / 1000, AUTOSAVE_MAX_WAIT_MS / 1000
    counter = 0

    def type_value(draft: Draft) -> None:
        nonlocal counter
        counter += 1
        values = dict(draft.pending if draft.pending is not None else draft.values)
        item = NUMBER_ITEMS[counter % len(NUMBER_ITEMS)]
        values[item] = float(counter % 24)
        values["hip_flexor_force"] = {"left": float(counter % 900), "right": 250.0}
        values[TEXT_ITEM] = f"{name} change {counter}"
        now = time.monotonic()
        if draft.pending is None:
            draft.first_change = now
        draft.pending = values
        draft.last_change = now

    def save(draft: Draft, now: float) -> bool:
        """One autosave write; True when nothing is left to save for this draft."""
        values = draft.pending
        assert values is not None
        sent = {"form": fid, "form_version": fver, "values": values}
        draft.attempted.append(_hash(values))
        start = time.perf_counter()
        try:
            result = records.save_draft(db, draft.evaluation_id, sent, draft.version, user=name)
        except ConflictError as err:
            theirs = dict(err.their_findings).get("values", {})
            if err.changed_by == name and _hash(theirs) in draft.attempted:
                # A save of ours whose answer was lost (connection cut after the commit)
                log(
                    kind="adopted",
                    ev=draft.evaluation_id,
                    version=err.current_version,
                    hash=_hash(theirs),
                )
                draft.version = err.current_version
                draft.values = theirs
                draft.content = ""  # read back from the trail by the comparison
                draft.next_try = now
                return False
            log(
                kind="conflict",
                ev=draft.evaluation_id,
                expected=draft.version,
                current=err.current_version,
                by=err.changed_by,
                theirs=_hash(theirs),
                mine=_hash(values),
            )
            copy_mine(draft, sent, err.current_version, theirs)
            return True
        except StorageError as err:
            draft.failures += 1
            draft.next_try = now + retry_delay_ms(draft.failures) / 1000
            log(
                kind="failed",
                ev=draft.evaluation_id,
                expected=draft.version,
                ms=(time.perf_counter() - start) * 1000,
                error=type(err).__name__,
            )
            return False
        ms = (time.perf_counter() - start) * 1000
        log(
            kind="saved",
            ev=draft.evaluation_id,
            expected=draft.version,
            version=result.version,
            changed=result.changed,
            hash=_hash(values),
            content=result.content_hash,
            ms=ms,
            after_failures=draft.failures,
        )
        draft.failures = 0
        draft.version = result.version
        draft.values = values
        draft.content = result.content_hash
        draft.attempted = []
        if draft.pending is values:
            draft.pending = None
        return draft.pending is None

    def copy_mine(draft: Draft, sent: dict[str, Any], current: int, theirs: dict[str, Any]) -> None:
        """Keep both: mine as a new draft of the same patient, then continue from theirs."""
        patient_id: int | None = None
        copy_id: int | None = None
        deadline = time.monotonic() + FINAL_FLUSH_S
        while time.monotonic() < deadline:
            try:
                if patient_id is None:
                    patient_id = records.get_evaluation(db, draft.evaluation_id).patient_id
                if copy_id is None:
                    copy_id = records.start_evaluation(
                        db, patient_id, form, user=name, copy_forward=False
                    ).id
                saved = records.save_draft(db, copy_id, sent, 1, user=name)
                log(
                    kind="copy",
                    ev=copy_id,
                    of=draft.evaluation_id,
                    version=saved.version,
                    hash=_hash(sent["values"]),
                    content=saved.content_hash,
                )
                break
            except StorageError:
                time.sleep(0.5)
        draft.version = current
        draft.values = theirs
        draft.content = ""
        draft.pending = None
        draft.attempted = []

    def step_autosave(now: float) -> None:
        for draft in drafts:
            if draft.pending is None or now < draft.next_try:
                continue
            if now - draft.last_change >= delay or now - draft.first_change >= max_wait:
                save(draft, now)

    def sign_current() -> None:
        """Flush, sign, build the report, start a new draft (the old one is a record now)."""
        draft = drafts[0]
        if draft.pending is not None:
            return  # sign after the autosave, as Sign… does after its flush
        start = time.perf_counter()
        try:
            signed = records.sign_evaluation(db, draft.evaluation_id, draft.version, user=name)
            log(kind="signed", ev=draft.evaluation_id, version=signed.version)
            from clinic_app.reports import build_clinician_report, report_data_for_evaluation

            data = report_data_for_evaluation(db, draft.evaluation_id)
            build_clinician_report(data, io.BytesIO())
            log(kind="report", ev=draft.evaluation_id, ms=(time.perf_counter() - start) * 1000)
            patient_id = records.get_evaluation(db, draft.evaluation_id).patient_id
            fresh = records.start_evaluation(db, patient_id, form, user=name, copy_forward=False)
            log(kind="started", ev=fresh.id)
            drafts[0] = Draft(fresh.id, fresh.version, {}, fresh.content_hash)
        except StorageError as err:
            log(kind="sign_failed", ev=draft.evaluation_id, error=type(err).__name__)

    prefixes = ["Ana", "Be", "Chlo", "Search1", "S-00", "Dar", "Eun", "Search05", "LOAD-0", "Ch"]

    def search() -> None:
        start = time.perf_counter()
        try:
            found = records.search_patients(db, rng.choice(prefixes))
        except StorageError as err:
            log(kind="search_failed", error=type(err).__name__)
            return
        log(kind="search", ms=(time.perf_counter() - start) * 1000, n=len(found))

    end = time.time() + config["seconds"]
    next_value = time.monotonic() + rng.uniform(0, 2)
    next_sign = time.monotonic() + SIGN_EVERY_S
    next_search = time.monotonic() + SEARCH_EVERY_S
    typing = config["role"] != "searcher"
    while time.time() < end:
        now = time.monotonic()
        if typing and now >= next_value:
            shared_turn = len(drafts) > 1 and rng.random() < config.get("share_ratio", 0.25)
            type_value(drafts[1] if shared_turn else drafts[0])
            next_value = now + rng.uniform(1.0, 3.0)
        step_autosave(now)
        if config["role"] == "signer" and now >= next_sign:
            sign_current()
            next_sign = now + SIGN_EVERY_S
        if config["role"] == "searcher" and now >= next_search:
            search()
            next_search = now + SEARCH_EVERY_S
        time.sleep(0.02)
    # Closing the window: save what is left, retrying while the server is away.
    give_up = time.monotonic() + FINAL_FLUSH_S
    while any(d.pending is not None for d in drafts) and time.monotonic() < give_up:
        now = time.monotonic()
        for draft in drafts:
            if draft.pending is not None and now >= draft.next_try:
                save(draft, now)
        time.sleep(0.05)
    for draft in drafts:
        log(
            kind="final",
            ev=draft.evaluation_id,
            version=draft.version,
            content=draft.content,
            text=(draft.pending if draft.pending is not None else draft.values).get(TEXT_ITEM),
            unsaved=draft.pending is not None,
        )
    db.close()
    out.close()
    return 0


# -- the run --------------------------------------------------------------------------------------


def pct(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def run(plan: Plan, json_out: Path | None) -> int:
    from clinic_app.paths import default_form_path

    form_path = str(default_form_path())
    work = Path(tempfile.mkdtemp(prefix="clinic-load-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with cluster() as server:
            t0 = time.time()
            setup = set_up(server, plan, form_path)
            print(f"cluster on 127.0.0.1:{server.port}, set up in {time.time() - t0:.1f} s")
            for i in range(plan.workstations):
                name = ws_name(i)
                role = (
                    "signer"
                    if i == plan.signer
                    else "searcher"
                    if i == plan.searcher
                    else "charting"
                )
                config = {
                    "name": name,
                    "role": role,
                    "seed": plan.seed * 1000 + i,
                    "url": server.url(WS_ROLE, WS_PW, name),
                    "draft": setup["drafts"][name],
                    "shared": setup["shared"] if i in plan.sharers else None,
                    "seconds": plan.seconds,
                    "form": form_path,
                    "log": str(work / f"{name}.jsonl"),
                }
                env = dict(os.environ)
                env["CLINIC_APP_DATA_DIR"] = str(work / f"data-{name}")
                env["PYTHONPATH"] = str(REPO)
                env.setdefault("QT_QPA_PLATFORM", "offscreen")
                procs.append(
                    subprocess.Popen(
                        [sys.executable, __file__, "--child", json.dumps(config)],
                        env=env,
                        stderr=subprocess.PIPE,
                    )
                )
            started = time.time()
            faults = schedule_faults(plan)
            fault_log: list[dict[str, Any]] = []
            for at, fault in faults:
                time.sleep(max(0.0, started + at - time.time()))
                fault_log.append(inject(server, fault, plan))
            for proc in procs:
                _, err = proc.communicate(timeout=plan.seconds + FINAL_FLUSH_S * 3 + 120)
                if proc.returncode != 0:
                    print(err.decode(errors="replace")[-3000:], file=sys.stderr)
                    raise SystemExit(f"a workstation failed (exit {proc.returncode})")
            elapsed = time.time() - started
            events = {
                ws_name(i): read_events(work / f"{ws_name(i)}.jsonl")
                for i in range(plan.workstations)
            }
            stored = read_stored(server)
        results = compare(plan, events, stored, fault_log, elapsed)
        print_table(plan, results)
        if json_out:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(results, indent=1, default=str))
        bad = results["lost"] or results["duplicated"] or results["wrong"]
        bad = bad or results["conflicts_detected"] != results["conflicts_expected"]
        return 1 if bad else 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def schedule_faults(plan: Plan) -> list[tuple[float, str]]:
    if not plan.faults:
        return []
    step = plan.seconds / (len(plan.faults) + 1)
    return [(step * (k + 1), fault) for k, fault in enumerate(plan.faults)]


def inject(server: Cluster, fault: str, plan: Plan) -> dict[str, Any]:
    at = time.time()
    target = None
    if fault == "fast":
        server.restart_fast()
    elif fault == "immediate":
        server.kill_and_start()
    elif fault == "terminate":
        target = ws_name(plan.sharers[0] if plan.sharers else 0)
        server.terminate(target)
    else:
        raise SystemExit(f"unknown fault {fault!r} (fast, immediate, terminate)")
    back = time.time()
    print(f"fault {fault}: server answering again after {back - at:.2f} s", flush=True)
    return {"fault": fault, "at": at, "back": back, "target": target}


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def read_stored(server: Cluster) -> dict[str, Any]:
    """What the database holds: every draft's findings and version, every audit event."""
    with server.admin(DBNAME) as conn:
        evaluations = {
            row[0]: {
                "version": row[1],
                "values": row[2].get("values", {}),
                "status": row[3],
                "content": row[4],
            }
            for row in conn.execute(
                "SELECT id, version, findings, status, content_hash FROM evaluation"
            )
        }
        audit = [
            {"id": r[0], "actor": r[1], "entity_id": r[2], "action": r[3], "after": r[4]}
            for r in conn.execute(
                "SELECT id, actor, entity_id, action, after_digest FROM audit_event "
                "WHERE entity = 'evaluation' ORDER BY id"
            )
        ]
    return {"evaluations": evaluations, "audit": audit}


def compare(
    plan: Plan,
    events: dict[str, list[dict[str, Any]]],
    stored: dict[str, Any],
    faults: list[dict[str, Any]],
    elapsed: float,
) -> dict[str, Any]:
    """Believed-saved vs stored, conflicts expected vs detected, and the figures."""
    evals: dict[int, dict[str, Any]] = stored["evaluations"]
    # Version v+1 of an evaluation was made by the v-th save (save_draft or sign) in the trail.
    made: dict[tuple[int, int], tuple[str, str]] = {}
    next_version: dict[int, int] = {}
    for a in stored["audit"]:
        if a["action"] == "create":
            next_version[a["entity_id"]] = 2
        elif a["action"] in ("save_draft", "sign"):
            v = next_version[a["entity_id"]]
            made[(a["entity_id"], v)] = (a["actor"], a["after"])
            next_version[a["entity_id"]] = v + 1
    lost: list[str] = []
    duplicated: list[str] = []
    wrong: list[str] = []
    believed: dict[tuple[int, int], str] = {}
    for name, evs in events.items():
        for e in evs:
            if e["kind"] in ("saved", "copy", "signed") and e.get("changed", True):
                key = (e["ev"], e["version"])
                if key in believed:
                    duplicated.append(f"{name}: version {e['version']} of {e['ev']} twice")
                believed[key] = name
                maker = made.get(key)
                if maker is None:
                    lost.append(f"{name} believes it saved version {key[1]} of {key[0]}")
                elif maker[0] != name or (
                    "content" in e and e["content"] and maker[1] != e["content"]
                ):
                    wrong.append(f"{name}: version {key[1]} of {key[0]} is {maker[0]}'s")
            elif e["kind"] == "adopted" or (
                e["kind"] == "saved" and e["version"] > e["expected"]
            ):  # a save of ours whose answer was lost, found again
                believed[(e["ev"], e["version"])] = name
    for key, (actor, _after) in made.items():
        if actor != "setup" and key not in believed:
            duplicated.append(f"version {key[1]} of {key[0]} by {actor}: nobody believes it")
    # The last thing each workstation held is what is stored (unless someone saved after it).
    for name, evs in events.items():
        for e in evs:
            if e["kind"] != "final":
                continue
            if e["unsaved"]:
                lost.append(f"{name}: changes to {e['ev']} never saved")
                continue
            row = evals.get(e["ev"])
            if row is None:
                lost.append(f"{name}: evaluation {e['ev']} missing")
            elif row["version"] == e["version"] and (
                (e["content"] and row["content"] != e["content"])
                or row["values"].get(TEXT_ITEM) != e["text"]
            ):
                lost.append(f"{name}: evaluation {e['ev']} holds other values")
            elif row["version"] < e["version"]:
                lost.append(f"{name}: evaluation {e['ev']} is at an older version")
    # Conflicts: detected by the workstations vs expected from the trail; both versions kept.
    expected = detected = 0
    for name, evs in events.items():
        for e in evs:
            if e["kind"] == "conflict":
                detected += 1
                maker = made.get((e["ev"], e["expected"] + 1))
                if maker is None or maker[0] == name:
                    wrong.append(f"{name}: conflict on {e['ev']} v{e['expected']} not expected")
            if e["kind"] in ("saved", "conflict", "failed"):
                if e["kind"] == "saved" and not e["changed"]:
                    continue
                maker = made.get((e["ev"], e["expected"] + 1))
                if e["kind"] != "failed" and maker is not None and maker[0] not in (name, "setup"):
                    expected += 1
    copies = [e for evs in events.values() for e in evs if e["kind"] == "copy"]
    conflicts = [e for evs in events.values() for e in evs if e["kind"] == "conflict"]
    if len(copies) != len(conflicts):
        lost.append(f"{len(conflicts)} conflicts but {len(copies)} copies of mine")
    for c in copies:
        row = evals.get(c["ev"])
        if row is None or row["content"] != c["content"]:
            lost.append(f"copy {c['ev']} does not hold the values it was made with")
    per_ws: dict[str, dict[str, Any]] = {}
    all_ms: list[float] = []
    saves = 0
    for name, evs in events.items():
        ms = [e["ms"] for e in evs if e["kind"] == "saved" and e["changed"]]
        all_ms += ms
        saves += len(ms)
        per_ws[name] = {
            "saves": len(ms),
            "p50": pct(ms, 50),
            "p95": pct(ms, 95),
            "p99": pct(ms, 99),
            "failed": sum(1 for e in evs if e["kind"] == "failed"),
            "conflicts": sum(1 for e in evs if e["kind"] == "conflict"),
            "signed": sum(1 for e in evs if e["kind"] == "signed"),
            "reports": sum(1 for e in evs if e["kind"] == "report"),
            "searches": sum(1 for e in evs if e["kind"] == "search"),
        }
    search_ms = [e["ms"] for evs in events.values() for e in evs if e["kind"] == "search"]
    recovery = []
    for k, f in enumerate(faults):
        # Recovery: from the server answering again until every workstation that had a failed
        # save during this fault (before the next one) has saved again.
        until = faults[k + 1]["at"] if k + 1 < len(faults) else f["back"] + 60
        hit = {}
        for name, evs in events.items():
            failed = [e for e in evs if e["kind"] == "failed" and f["at"] - 0.5 <= e["t"] < until]
            if not failed:
                continue
            after = [e["t"] for e in evs if e["kind"] == "saved" and e["t"] >= failed[0]["t"]]
            hit[name] = (min(after) - f["back"]) if after else None
        worst = None if None in hit.values() else max(hit.values(), default=0.0)
        recovery.append(
            {
                "fault": f["fault"],
                "server_away_s": f["back"] - f["at"],
                "workstations_hit": len(hit),
                "recovery_s": None if worst is None else max(0.0, worst),
            }
        )
    return {
        "workstations": plan.workstations,
        "seconds": elapsed,
        "saves": saves,
        "saves_per_s": saves / elapsed if elapsed else 0.0,
        "save_ms": {"p50": pct(all_ms, 50), "p95": pct(all_ms, 95), "p99": pct(all_ms, 99)},
        "per_workstation": per_ws,
        "conflicts_detected": detected,
        "conflicts_expected": expected,
        "copies": len(copies),
        # saves whose answer was lost (connection cut after the commit), found again in the
        # conflict they caused: the app's autosaver would show these as a conflict with oneself
        "adopted": sum(1 for evs in events.values() for e in evs if e["kind"] == "adopted"),
        "search_ms": {"p50": pct(search_ms, 50), "p95": pct(search_ms, 95), "n": len(search_ms)},
        "faults": recovery,
        "lost": lost,
        "duplicated": duplicated,
        "wrong": wrong,
        "believed_versions": len(believed),
        "stored_versions": sum(1 for (actor, _a) in made.values() if actor != "setup"),
    }


def print_table(plan: Plan, r: dict[str, Any]) -> None:
    print()
    print(
        f"{r['workstations']} workstations, {r['seconds']:.0f} s, "
        f"{r['saves']} saves = {r['saves_per_s']:.1f} saves/s; "
        f"save p50 {fmt(r['save_ms']['p50'])} ms, p95 {fmt(r['save_ms']['p95'])} ms, "
        f"p99 {fmt(r['save_ms']['p99'])} ms"
    )
    print()
    print("| workstation | role | saves | p50 ms | p95 ms | p99 ms | failed tries | conflicts |")
    print("|---|---|---|---|---|---|---|---|")
    for i, (name, w) in enumerate(r["per_workstation"].items()):
        role = (
            "signs + reports"
            if i == plan.signer
            else "searches"
            if i == plan.searcher
            else "charts"
        )
        if i in plan.sharers:
            role += " + shared patient"
        extra = f" ({w['signed']} signed, {w['reports']} reports)" if w["signed"] else ""
        extra += f" ({w['searches']} searches)" if w["searches"] else ""
        print(
            f"| {name} | {role}{extra} | {w['saves']} | {fmt(w['p50'])} | {fmt(w['p95'])} | "
            f"{fmt(w['p99'])} | {w['failed']} | {w['conflicts']} |"
        )
    print()
    print(
        f"conflicts detected {r['conflicts_detected']}, expected {r['conflicts_expected']}, "
        f"copies of mine kept {r['copies']}; saves whose answer was lost {r['adopted']}"
    )
    s = r["search_ms"]
    print(f"search: {s['n']} searches, p50 {fmt(s['p50'])} ms, p95 {fmt(s['p95'])} ms")
    for f in r["faults"]:
        print(
            f"fault {f['fault']}: server away {f['server_away_s']:.2f} s, "
            f"{f['workstations_hit']} workstations saw a failed save, every one saved again "
            f"{fmt(f['recovery_s'], 2)} s after the server was back"
        )
    print(
        f"believed saved {r['believed_versions']} versions, stored {r['stored_versions']}: "
        f"lost {len(r['lost'])}, duplicated {len(r['duplicated'])}, wrong {len(r['wrong'])}"
    )
    for line in [*r["lost"], *r["duplicated"], *r["wrong"]][:20]:
        print("  " + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workstations", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, help="run time in seconds (overrides --minutes)")
    parser.add_argument(
        "--faults", default="fast,terminate,immediate", help="comma-separated, or 'none'"
    )
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return workstation(json.loads(args.child))
    if args.workstations < 1:
        parser.error("--workstations must be at least 1")
    sharers, signer, searcher = roles_for(args.workstations)
    faults = [] if args.faults == "none" else [f for f in args.faults.split(",") if f]
    plan = Plan(
        workstations=args.workstations,
        seconds=args.seconds if args.seconds else args.minutes * 60,
        seed=args.seed,
        faults=faults,
        sharers=sharers,
        signer=signer,
        searcher=searcher,
    )
    return run(plan, args.json)


if __name__ == "__main__":
    sys.exit(main())
