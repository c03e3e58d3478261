"""Writers side by side on PostgreSQL (issue 15 §1): no global write lock, so writers that do
not touch the same new records do not wait for each other.

- Claims per second of 1 writer and of 8 writers (separate processes, each adding claims one
  transaction at a time through the library, as `claim add` does, over shared claimants,
  sources and subjects, some of them new and raced for). Target: 8 writers >= 1.5x one.
- The longest lock wait seen meanwhile: `pg_locks.waitstart` of every ungranted lock, sampled
  every 20 ms, beside the longest single claim transaction of any writer.
- A `tracker claim add` (a real process, over a claimant and source the import also uses)
  every few seconds while `tracker import claims` loads a large file (--writers-import-rows,
  1,000,000 for the issue's figure), through all its phases. Target: each under 2 s.

The machine's other load moves these figures; ratios within one run are what count. The server
is the bulk benchmark's (--postgres-url, $TRACKER_BENCH_POSTGRES_URL); each part runs in a
database of its own, dropped at the end.

Usage: python bench/run.py --only pg-writers [--writers-seconds S] [--writers-import-rows N]
                          [--writers-claim-every S]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bulk_postgres import Server, connect, fresh_database
from common import Options, Report, cached_flat_csv, tracker_executable
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

NAME = "pg-writers"
DESCRIPTION = "PostgreSQL: claims/s of 8 writers vs 1, lock waits, a claim add during an import"
SPEEDUP_TARGET = 1.5
CLAIM_ADD_TARGET_S = 2.0
WRITERS = 8
SAMPLE_S = 0.02
CLAIMANTS = [f"Vendor {c}" for c in "ABCDEFGHIJKL"]
SOURCES = [f"Bulletin {c}" for c in "MNOPQRSTUV"]
SUBJECTS = [f"Group {c}" for c in "ABCDEFGHIJKLMNOPQRST"]

# One writer: warms up, waits for the start signal, then adds claims for `seconds`, one
# transaction each, and prints how many it committed and each one's duration. Every 10th claim
# names a subject nobody has yet, the same one in every writer: those are raced for.
WRITER = f"""
import sys, time
from pathlib import Path
from tracker.db import open_database
from tracker.services.claims import add_claim

url, writer, seconds, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
claimants, sources, subjects = {CLAIMANTS!r}, {SOURCES!r}, {SUBJECTS!r}
database = open_database(url)


class Undo(Exception):
    pass


# Warm up (imports, compiled statements) in a transaction rolled back, on names of its own.
try:
    with database.session() as s:
        add_claim(s, "Warm-up", by=f"Warm-up {{writer}}", sources=[f"Warm-up {{writer}}"],
                  about=[f"Warm-up group {{writer}}"], tags=["bench"], new=True)
        raise Undo
except Undo:
    pass
Path(f"{{start}}.ready{{writer}}").touch()
while not start.exists():
    time.sleep(0.002)
durations, i = [], 0
deadline = time.perf_counter() + seconds
while time.perf_counter() < deadline:
    about = [subjects[(writer + i) % len(subjects)]]
    if i % 10 == 0:
        about.append(f"New group {{i // 10}}")
    began = time.perf_counter()
    database.transaction(
        lambda s: add_claim(
            s,
            f"Claim {{i}} of writer {{writer}}: {{about[0]}} did it",
            by=claimants[(writer * 7 + i) % len(claimants)],
            sources=[sources[(writer + i * 3) % len(sources)]],
            about=about,
            tags=["bench"],
            new=True,
        )
    )
    durations.append(time.perf_counter() - began)
    i += 1
database.close()
print(len(durations), " ".join(f"{{d:.6f}}" for d in durations))
"""


def add_arguments(parser: Options) -> None:
    parser.add_argument(
        "--writers-seconds",
        type=float,
        default=20.0,
        help="how long each throughput run adds claims (default 20)",
    )
    parser.add_argument(
        "--writers-import-rows",
        type=int,
        default=100_000,
        help="rows of the import a claim add runs beside (default 100,000; the issue's: 1M; "
        "0 skips that part)",
    )
    parser.add_argument(
        "--writers-claim-every",
        type=float,
        default=15.0,
        help="seconds between claim adds for as long as the import runs (default 15)",
    )


class LockWatch:
    """Samples the longest wait of any ungranted lock in one database until stopped."""

    def __init__(self, url: URL) -> None:
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.longest = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def _run(self) -> None:
        query = text(
            "SELECT coalesce(extract(epoch FROM max(clock_timestamp() - waitstart)), 0)"
            " FROM pg_locks WHERE NOT granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with self.engine.connect() as conn:
            while not self._stop.is_set():
                self.longest = max(self.longest, float(conn.execute(query).scalar() or 0))
                self.samples += 1
                time.sleep(SAMPLE_S)


def _url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _env(url: URL) -> dict[str, str]:
    env = {**os.environ, "TRACKER_DB": _url_text(url), "TRACKER_USER": "bench"}
    env.pop("TRACKER_DEBUG", None)
    return env


def _tracker(url: URL, *args: str) -> float:
    """Run a tracker command; its wall time. Exits the benchmark if it fails."""
    began = time.perf_counter()
    done = subprocess.run(
        [str(tracker_executable()), *args], env=_env(url), capture_output=True, text=True
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"tracker {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return seconds


class Throughput:
    def __init__(self, writers: int, claims: int, seconds: float, durations: list[float]):
        self.writers = writers
        self.claims = claims
        self.seconds = seconds
        self.durations = durations
        self.longest_wait = 0.0

    @property
    def rate(self) -> float:
        return self.claims / self.seconds


def throughput(server: Server, writers: int, seconds: float) -> Throughput:
    """`writers` processes adding claims for `seconds` into a new database."""
    with fresh_database(server, keep=False) as url, tempfile.TemporaryDirectory() as folder:
        _tracker(url, "db", "upgrade")  # the schema, before the clock starts
        start = Path(folder) / "start"
        children = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, _url_text(url), str(w), str(seconds), str(start)],
                env=_env(url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for w in range(writers)
        ]
        ready = [Path(f"{start}.ready{w}") for w in range(writers)]
        while not all(r.exists() for r in ready):  # every writer connected and warmed up
            if any(child.poll() is not None for child in children):
                break
            time.sleep(0.05)
        with LockWatch(url) as watch:
            start.touch()
            outputs = [child.communicate() for child in children]
        claims, durations = 0, []
        for child, (out, err) in zip(children, outputs, strict=True):
            if child.returncode != 0:
                raise SystemExit(f"a writer failed ({child.returncode}): {err.strip()}")
            count, *times = out.split()
            claims += int(count)
            durations += [float(t) for t in times]
        with create_engine(url).connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM claim")).scalar_one()
            names = conn.execute(
                text("SELECT count(*) - count(DISTINCT key) FROM actor_name WHERE is_primary")
            ).scalar_one()
        if stored != claims or names:
            raise SystemExit(f"lost or doubled: {claims} added, {stored} stored, {names} twice")
        result = Throughput(writers, claims, seconds, durations)
        result.longest_wait = watch.longest
        return result


def _first_row(path: Path) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as stream:
        return next(csv.DictReader(stream))


def claim_add_during_import(
    server: Server, rows: int, every: float, seed: int
) -> tuple[float, list[float], float, float]:
    """A claim add alone, then one every `every` seconds for as long as an import of `rows`
    rows runs (reading, resolving names, inserting): the one alone, those during, the
    import's wall time, and the longest lock wait seen."""
    path, _ = cached_flat_csv(rows, seed)
    first = _first_row(path)
    with fresh_database(server, keep=False) as url:
        # The claimant and source of the file's first row exist already, as the file describes
        # the source (title, URL, publisher, date): the import refers to them, and so do the
        # claim adds (the source by its URL when it has one: titles may be shared).
        described = [
            arg
            for option, column in (
                ("--url", "source_url"),
                ("--publisher", "source_publisher"),
                ("--date", "source_date"),
            )
            if first.get(column)
            for arg in (option, first[column])
        ]
        _tracker(url, "source", "add", first["source"], *described)
        source = first.get("source_url") or first["source"]
        _tracker(url, "claim", "add", "Seeded before the import", "--by", first["claimant"],
                 "--source", source)  # fmt: skip
        alone = _tracker(
            url, "claim", "add", "Added with nothing else running", "--by", first["claimant"]
        )
        importer = subprocess.Popen(
            [str(tracker_executable()), "import", "claims", str(path)],
            env=_env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        began = time.perf_counter()
        during: list[float] = []
        with LockWatch(url) as watch:
            time.sleep(3.0)  # the import has begun writing
            i = 0
            while importer.poll() is None:
                during.append(
                    _tracker(
                        url,
                        "claim",
                        "add",
                        f"Added during the import, #{i}",
                        "--by",
                        first["claimant"],
                        "--source",
                        source,
                        "--about",
                        f"Bystander {i}",
                        "--new",
                    )
                )
                i += 1
                time.sleep(every)
            _, err = importer.communicate()
        seconds = time.perf_counter() - began
        if importer.returncode != 0:
            raise SystemExit(f"the import failed ({importer.returncode}): {err.strip()}")
        return alone, during, seconds, watch.longest


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def run(args: argparse.Namespace) -> Report:
    report = Report(
        f"PostgreSQL writers side by side ({WRITERS} writers, {args.writers_seconds:g} s each run)",
        ["measure", "1 writer", f"{WRITERS} writers", "ratio", "target", "ok"],
    )
    server, note = connect(args)
    if server is None:
        report.notes.append(f"PostgreSQL {note}")
        return report
    print(f"{NAME}: 1 writer ...", flush=True)
    one = throughput(server, 1, args.writers_seconds)
    print(f"{NAME}: {WRITERS} writers ...", flush=True)
    many = throughput(server, WRITERS, args.writers_seconds)
    speedup = many.rate / one.rate
    met = speedup >= SPEEDUP_TARGET
    report.ok &= met
    report.rows += [
        [
            "claims per second",
            f"{one.rate:,.1f}",
            f"{many.rate:,.1f}",
            f"{speedup:.2f}x",
            f">= {SPEEDUP_TARGET}x",
            "yes" if met else "NO",
        ],
        [
            "claim transaction, median",
            _ms(statistics.median(one.durations)),
            _ms(statistics.median(many.durations)),
            "",
            "",
            "",
        ],
        [
            "claim transaction, longest",
            _ms(max(one.durations)),
            _ms(max(many.durations)),
            "",
            "",
            "",
        ],
        [
            "longest lock wait seen",
            _ms(one.longest_wait),
            _ms(many.longest_wait),
            "",
            "<= longest transaction",
            "yes" if many.longest_wait <= max(many.durations) else "NO",
        ],
    ]
    report.ok &= many.longest_wait <= max(many.durations)
    rows = args.writers_import_rows
    report.notes += [
        f"Server: PostgreSQL {server.version} at {server.where()}; this machine has "
        f"{os.cpu_count()} cores, shared with other work while measuring (load average "
        f"{os.getloadavg()[0]:.1f}): ratios within this run are what count.",
        f"Every claim kept and every name created once in both runs ({one.claims:,} and "
        f"{many.claims:,} claims); lock waits sampled every {SAMPLE_S * 1000:.0f} ms.",
    ]
    if not rows:
        return report
    print(f"{NAME}: claim add during an import of {rows:,} rows ...", flush=True)
    alone, during, import_s, import_wait = claim_add_during_import(
        server, rows, args.writers_claim_every, args.seed
    )
    slowest = max(during) if during else float("nan")
    met = bool(during) and slowest < CLAIM_ADD_TARGET_S
    report.ok &= met
    report.rows.append(
        [
            f"claim add during a {rows:,}-row import, slowest of {len(during)}",
            _ms(alone) + " alone",
            _ms(slowest),
            f"{slowest / alone:.2f}x",
            f"< {CLAIM_ADD_TARGET_S:g} s",
            "yes" if met else "NO",
        ]
    )
    report.notes += [
        f"Import of {rows:,} rows: {import_s:,.1f} s; claim adds during it: "
        + ", ".join(_ms(d) for d in during)
        + f"; longest lock wait seen meanwhile {_ms(import_wait)}.",
    ]
    return report
