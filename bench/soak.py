"""A chaos soak: every write the tracker acknowledged survives processes killed mid-write.

For --seconds, several writers add, edit and rate claims through the real `tracker` CLI, readers
list and search, an importer loads small generated files and a dumper takes `export all` dumps,
all at once; every few seconds a killer sends SIGKILL to one of these processes at random.

A write is acknowledged when its command exits 0: the soak logs the claim id it printed and the
state it set. A killed command acknowledged nothing; what it did may or may not have committed,
so either outcome is accepted (an import is all or nothing, so none or all of its rows).

At the end it checks, and prints as figures: every acknowledged claim is present with its
acknowledged state; no claim is duplicated; every import is whole or absent; a killed dump left
no half-written folder (one killed after its last rename is whole, and checked); every dump
restores into a fresh database on the same backend, its row counts
match its manifest, `db check` passes on it, and it holds every claim acknowledged before it
began; `db check` passes on the soaked database. Exits 1 on any loss or unexpected error.

    python bench/soak.py --seconds 60 --backend sqlite
    python bench/soak.py --seconds 60 --backend postgresql \\
        --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TRACKER = str(Path(sys.executable).parent / "tracker")
KILLED = -signal.SIGKILL
LOCKED = 75  # the database stayed busy past the timeout: refused cleanly, nothing changed
VERDICTS = ("true", "false", "misleading", "unverifiable")


@dataclass
class ClaimState:
    """What the tracker acknowledged about one claim; a field holds every value it may have
    (more than one while a killed edit may or may not have committed)."""

    text: str
    claimant: str
    note: set[str | None] = field(default_factory=lambda: {None})
    verdict: set[str | None] = field(default_factory=lambda: {None})
    status: set[str] = field(default_factory=lambda: {"unreviewed"})


@dataclass
class Dump:
    folder: Path
    acknowledged_before: set[int]


@dataclass
class Running:
    role: str
    kind: str
    proc: subprocess.Popen[bytes]
    out: Path
    done: Callable[[int, str], None]


@dataclass
class Soak:
    url: str
    work: Path
    rng: random.Random
    claims: dict[int, ClaimState] = field(default_factory=dict)
    owned: dict[str, list[int]] = field(default_factory=dict)
    imports: dict[str, tuple[str, list[str], bool]] = field(default_factory=dict)
    dumps: list[Dump] = field(default_factory=list)
    killed_dumps: list[Dump] = field(default_factory=list)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    kills: int = 0
    serial: int = 0

    def next(self) -> int:
        self.serial += 1
        return self.serial

    # -- operations: each returns the command to run and what to do with its exit code -------

    def writer_op(self, role: str) -> tuple[str, list[str], Callable[[int, str], None]]:
        mine = self.owned.setdefault(role, [])
        choice = self.rng.random()
        if not mine or choice < 0.5:
            n = self.next()
            text = f"Soak claim {n} by {role}: shipment {self.rng.randrange(10**6)} was seen"
            claimant = f"Claimant {self.rng.randrange(40)}"
            args = ["claim", "add", text, "--by", claimant, "--source", f"Soak report {n % 25}"]
            args += ["--about", f"Subject {n % 30}", "--tag", "soak"]

            def added(code: int, out: str) -> None:
                if code == 0:
                    ident = int(out.strip())
                    self.claims[ident] = ClaimState(text, claimant)
                    mine.append(ident)

            return "add", args, added
        ident = self.rng.choice(mine)
        state = self.claims[ident]
        if choice < 0.8:
            note = f"note {self.next()}"

            def edited(code: int, _: str) -> None:
                if code == 0:
                    state.note = {note}
                elif code == KILLED:
                    state.note.add(note)

            return "edit", ["claim", "edit", str(ident), "--note", note], edited
        verdict = self.rng.choice(VERDICTS)

        def rated(code: int, _: str) -> None:
            if code == 0:
                state.verdict, state.status = {verdict}, {"reviewed"}
            elif code == KILLED:
                state.verdict.add(verdict)
                state.status.add("reviewed")

        return "rate", ["claim", "rate", str(ident), verdict], rated

    def reader_op(self) -> tuple[str, list[str], Callable[[int, str], None]]:
        def nothing(code: int, out: str) -> None:
            pass

        if self.rng.random() < 0.5:
            return "list", ["claim", "list", "--limit", "20", "-f", "jsonl"], nothing
        word = self.rng.choice(["shipment", "seen", "imported", "soak"])
        return "search", ["search", word, "--limit", "10", "-f", "jsonl"], nothing

    def importer_op(self) -> tuple[str, list[str], Callable[[int, str], None]]:
        batch = f"batch{self.next()}"
        claimant = f"Importer {self.rng.randrange(5)}"
        texts = [f"Imported claim {i} of {batch}" for i in range(self.rng.randrange(5, 30))]
        path = self.work / f"{batch}.csv"
        rows = "".join(f"{t},{claimant},Import source {batch}\n" for t in texts)
        path.write_text("text,claimant,source\n" + rows, encoding="utf-8")

        def imported(code: int, _: str) -> None:
            if code in (0, KILLED):
                self.imports[batch] = (claimant, texts, code == 0)

        return "import", ["import", "claims", str(path)], imported

    def dumper_op(self) -> tuple[str, list[str], Callable[[int, str], None]]:
        folder = self.work / "dumps" / f"dump-{self.next():05d}"
        before = set(self.claims)

        def dumped(code: int, _: str) -> None:
            if code == 0:
                self.dumps.append(Dump(folder, before))
            elif code == KILLED:
                self.killed_dumps.append(Dump(folder, before))

        return "dump", ["export", "all", str(folder)], dumped


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "TRACKER_DB": url, "TRACKER_USER": "soak"}


def run(args: Sequence[str], url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TRACKER, *args], env=_env(url), capture_output=True, text=True)


def soak(soak_state: Soak, seconds: float, writers: int, readers: int, kill_every: float) -> None:
    """Run every role until the time is up, killing a random child every few seconds."""
    roles = [f"writer{w}" for w in range(writers)] + [f"reader{r}" for r in range(readers)]
    roles += ["importer", "dumper"]
    running: dict[str, Running] = {}
    deadline = time.monotonic() + seconds
    next_kill = time.monotonic() + soak_state.rng.uniform(0.5, 1.5) * kill_every
    (soak_state.work / "dumps").mkdir()
    while True:
        now = time.monotonic()
        for role, child in list(running.items()):
            code = child.proc.poll()
            if code is None:
                continue
            del running[role]
            out = child.out.read_text(encoding="utf-8", errors="replace")
            err = child.out.with_suffix(".err").read_text(encoding="utf-8", errors="replace")
            child.out.unlink()
            child.out.with_suffix(".err").unlink()
            outcome = {0: "ok", KILLED: "killed", LOCKED: "locked"}.get(code, f"exit {code}")
            soak_state.outcomes[(child.kind, outcome)] += 1
            if code not in (0, KILLED, LOCKED):
                soak_state.errors.append(f"{child.kind} exited {code}: {err.strip()[-300:]}")
            child.done(code, out)
        if now >= deadline:
            if not running:
                return
        else:
            for role in roles:
                if role not in running:
                    running[role] = _start(soak_state, role)
            if now >= next_kill and running:
                victim = soak_state.rng.choice(sorted(running))
                running[victim].proc.send_signal(signal.SIGKILL)
                soak_state.kills += 1
                next_kill = now + soak_state.rng.uniform(0.5, 1.5) * kill_every
        time.sleep(0.01)


def _start(soak_state: Soak, role: str) -> Running:
    if role.startswith("writer"):
        kind, args, done = soak_state.writer_op(role)
    elif role.startswith("reader"):
        kind, args, done = soak_state.reader_op()
    elif role == "importer":
        kind, args, done = soak_state.importer_op()
    else:
        kind, args, done = soak_state.dumper_op()
    out = soak_state.work / f"child-{soak_state.next()}.out"
    with open(out, "wb") as stdout, open(out.with_suffix(".err"), "wb") as stderr:
        proc = subprocess.Popen(
            [TRACKER, *args], env=_env(soak_state.url), stdout=stdout, stderr=stderr
        )
    return Running(role, kind, proc, out, done)


# -- the checks at the end ------------------------------------------------------------------


def verify(soak_state: Soak, fresh_database: Fresh) -> tuple[list[str], Counter[str]]:
    """Every loss found (sentences), and figures about what was checked."""
    from sqlalchemy import func, select

    from tracker.db import open_database
    from tracker.models import Actor, Claim

    losses: list[str] = []
    figures: Counter[str] = Counter()
    database = open_database(soak_state.url)
    try:
        with database.connect() as conn:
            rows = conn.execute(
                select(
                    Claim.id, Claim.text, Actor.name, Claim.note, Claim.verdict, Claim.status
                ).join(Actor, Claim.claimant_id == Actor.id)
            ).all()
            duplicated = conn.execute(
                select(Claim.text, func.count()).group_by(Claim.text).having(func.count() > 1)
            ).all()
    finally:
        database.close()
    stored = {row.id: row for row in rows}
    by_pair = Counter((row.name, row.text) for row in rows)
    for ident, state in sorted(soak_state.claims.items()):
        row = stored.get(ident)
        if row is None:
            losses.append(f"acknowledged claim #{ident} is missing")
            continue
        wrong = [
            f"{name} {value!r} (acknowledged: {sorted(map(str, allowed))})"
            for name, value, allowed in (
                ("text", row.text, {state.text}),
                ("claimant", row.name, {state.claimant}),
                ("note", row.note, state.note),
                ("verdict", row.verdict, state.verdict),
                ("status", row.status, state.status),
            )
            if value not in allowed
        ]
        if wrong:
            losses.append(f"claim #{ident} has {'; '.join(wrong)}")
    figures["acknowledged claims checked"] = len(soak_state.claims)
    for text, count in duplicated:
        losses.append(f"claim text {text!r} is stored {count} times")
    for batch, (claimant, texts, acknowledged) in sorted(soak_state.imports.items()):
        present = sum(by_pair[(claimant, t)] for t in texts)
        if acknowledged and present != len(texts):
            losses.append(f"import {batch}: {present} of {len(texts)} acknowledged rows present")
        elif not acknowledged and present not in (0, len(texts)):
            losses.append(f"killed import {batch} is half there: {present} of {len(texts)} rows")
        figures["imports checked"] += 1
    for killed in soak_state.killed_dumps:
        if killed.folder.exists():
            # Killed after the rename that completes a dump, before it exited: a whole dump,
            # checked below like any other; anything less would be a half-written one.
            if (killed.folder / "manifest.json").is_file():
                soak_state.dumps.append(killed)
            else:
                losses.append(f"a killed dump left {killed.folder} behind without a manifest")
    for dump in soak_state.dumps:
        url = fresh_database()
        losses += _check_dump(dump, url)
        fresh_database.drop(url)
        figures["dumps restored"] += 1
    check = run(["db", "check"], soak_state.url)
    if check.returncode != 0:
        losses.append(f"db check on the soaked database: {check.stdout.strip()[:500]}")
    return losses, figures


def _check_dump(dump: Dump, url: str) -> list[str]:
    name = dump.folder.name
    restored = run(["import", "all", str(dump.folder)], url)
    if restored.returncode != 0:
        return [f"{name} does not restore: {restored.stderr.strip()}"]
    problems = []
    manifest = json.loads((dump.folder / "manifest.json").read_text(encoding="utf-8"))
    status = json.loads(run(["db", "status", "-f", "json"], url).stdout)
    if status["claims"] != manifest["tables"]["claim"]:
        problems.append(f"{name}: {status['claims']} claims restored, manifest says otherwise")
    check = run(["db", "check"], url)
    if check.returncode != 0:
        problems.append(f"{name}: db check after restore: {check.stdout.strip()[:300]}")
    with open(dump.folder / "claim.jsonl", encoding="utf-8") as lines:
        ids = {json.loads(line)["id"] for line in lines}
    if missing := sorted(dump.acknowledged_before - ids):
        problems.append(f"{name} lacks claims acknowledged before it began: {missing[:10]}")
    return problems


# -- databases -------------------------------------------------------------------------------


class Fresh:
    """Fresh databases on the backend: SQLite files in the work folder, or PostgreSQL databases
    made on the given server; `drop` removes one once checked, the rest go at the end."""

    def __init__(self, new: Callable[[], str], drop: Callable[[str], None]) -> None:
        self.new = new
        self.drop = drop

    def __call__(self) -> str:
        return self.new()


@contextmanager
def databases(backend: str, work: Path, postgres_url: str | None) -> Iterator[Fresh]:
    made: list[str] = []
    if backend == "sqlite":

        def new_file() -> str:
            made.append(str(work / f"soak-{len(made)}.db"))
            return made[-1]

        def drop_file(url: str) -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(url + suffix).unlink(missing_ok=True)

        yield Fresh(new_file, drop_file)
        return
    if not postgres_url:
        raise SystemExit("--backend postgresql needs --postgres-url or TRACKER_TEST_POSTGRES_URL")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    prefix = f"tracker_soak_{os.getpid()}"

    def new_database() -> str:
        name = f"{prefix}_{len(made)}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(url: str) -> None:
        name = make_url(url).database
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        made.remove(str(name))

    try:
        yield Fresh(new_database, drop_database)
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _lose_one(soak_state: Soak) -> None:
    """Delete an acknowledged claim behind the tracker's back: the check must notice."""
    from tracker.db import open_database
    from tracker.models import Claim

    ident = max(soak_state.claims)
    database = open_database(soak_state.url)
    with database.connect(write=True) as conn:
        conn.execute(Claim.__table__.delete().where(Claim.id == ident))
    database.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long to soak (default 60)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TRACKER_TEST_POSTGRES_URL"),
        help="a PostgreSQL server to create fresh databases on "
        "(default $TRACKER_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument(
        "--kill-every", type=float, default=2.0, help="mean seconds between kills (default 2)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--inject-loss", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    seed = options.seed if options.seed is not None else random.randrange(10**6)
    work = Path(tempfile.mkdtemp(prefix="tracker-soak-"))
    started = time.monotonic()
    try:
        with databases(options.backend, work, options.postgres_url) as fresh:
            soak_state = Soak(url=fresh(), work=work, rng=random.Random(seed))
            created = run(["db", "upgrade"], soak_state.url)
            if created.returncode != 0:
                raise SystemExit(f"cannot create the soak database: {created.stderr.strip()}")
            soak(soak_state, options.seconds, options.writers, options.readers, options.kill_every)
            if options.inject_loss and soak_state.claims:
                _lose_one(soak_state)
            losses, figures = verify(soak_state, fresh)
    finally:
        if options.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    _report(options, seed, soak_state, losses, figures, time.monotonic() - started)
    return 1 if losses or soak_state.errors else 0


def _report(
    options: argparse.Namespace,
    seed: int,
    soak_state: Soak,
    losses: list[str],
    figures: Counter[str],
    elapsed: float,
) -> None:
    print(
        f"soak on {options.backend}: {options.seconds:g} s of load, {elapsed:.0f} s in all, "
        f"seed {seed}"
    )
    kinds = sorted({kind for kind, _ in soak_state.outcomes})
    for kind in kinds:
        parts = [
            f"{outcome} {n}" for (k, outcome), n in sorted(soak_state.outcomes.items()) if k == kind
        ]
        print(f"  {kind:<8} {', '.join(parts)}")
    print(f"  kills    {soak_state.kills}")
    for name, n in sorted(figures.items()):
        print(f"  {name}: {n}")
    for error in soak_state.errors[:20]:
        print(f"  unexpected: {error}")
    for loss in losses[:50]:
        print(f"  LOSS: {loss}")
    print(f"losses: {len(losses)}, unexpected errors: {len(soak_state.errors)}")


if __name__ == "__main__":
    sys.exit(main())
