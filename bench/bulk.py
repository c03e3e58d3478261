"""Bulk benchmark: import 1,000,000 flat rows (about 600,000 claims), then export, search and
everyday look-ups at 1,000,000 claims, each figure a ratio to a floor measured in the same run.
The database is topped up to its claim count after the timed import, untimed, with the
generator's next claims (--big-claims).

Targets (from the issue):
- `tracker import claims FILE` into an empty database within 2x of the reference loader
  (bench/reference_load.py: csv + sqlite3 alone, the same tables, indexes and full-text index),
  with a peak RSS of at most 300 MB; the ratio to `sqlite-utils insert --csv` (one flat table)
  is shown for reference;
- `tracker export claims -o FILE` within 1.5x of the reference exporter
  (bench/reference_export.py: one query, a sqlite3 cursor streamed into csv.writer), with a peak
  RSS under 150 MB; the ratio to `sqlite3 -csv DB QUERY` is shown for reference;
- `search_claims`, in process, top 20 by rank: a median of at most 10 ms over 20 words of
  varying frequency, and at least 20x faster than a LIKE '%word%' scan of text, quote and note
  (search_claims ranks the newest 1,000 matches; rank_all=True, every match, is shown too);
- `tracker claim show ID` and `tracker report actor NAME` within 2x of their time on a
  1,000-claim database imported the same way.

If a PostgreSQL server is reachable, the same import, export and search also run on a fresh
database there, printed as a second table with ratios to the SQLite figures, for information
(bench/bulk_postgres.py; --postgres-url, $TRACKER_BENCH_POSTGRES_URL, --no-postgres).

Usage: python bench/bulk.py [--rows N] [--big-claims N] [--runs R] [--warmups W] [--keep]
                            [--postgres-url URL]
       python bench/run.py --only bulk --rows 100000
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import generate
import reference_export
from common import (
    BENCH_DIR,
    DATA_DIR,
    ChildRun,
    Options,
    Report,
    cached_flat_csv,
    run_child,
    standalone,
    tracker_executable,
)
from startup import Command, measure

NAME = "bulk"
DESCRIPTION = "bulk import, export, search and look-ups at 1M flat rows, against floors"
DEFAULT_ROWS = 1_000_000
DEFAULT_CLAIMS = 1_000_000
SMALL_ROWS = 1_700  # about 1,000 claims
IMPORT_TARGET = 2.0
IMPORT_RSS_MB = 300
EXPORT_TARGET = 1.5
EXPORT_RSS_MB = 150
SEARCH_MS = 10.0
SEARCH_SPEEDUP = 20.0
SCALE_TARGET = 2.0
N_WORDS = 20
SEARCH_LIMIT = 20
MB = 1_000_000

_LIKE = """
SELECT c.id, c.text, a.name AS claimant, c.verdict
FROM claim c JOIN actor a ON a.id = c.claimant_id
WHERE c.text {op} :pattern OR c.quote {op} :pattern OR c.note {op} :pattern
ORDER BY {order}
LIMIT :limit
"""
# LIKE cannot rank. For one word found once, bm25 favours the shortest documents, so the
# baseline returns the 20 shortest matches: like the FTS query it must consider every match.
BY_LENGTH = "length(c.text) + coalesce(length(c.quote), 0) + coalesce(length(c.note), 0), c.id"
# Not a target: the first 20 matches in id order, which stops scanning at the 20th.
BY_ID = "c.id"


def like_query(operator: str, order: str) -> str:
    """The LIKE baseline with this operator (SQLite's LIKE ignores ASCII case, as PostgreSQL's
    ILIKE does) and this ORDER BY."""
    return _LIKE.format(op=operator, order=order)


LIKE_RANKED = like_query("LIKE", BY_LENGTH)
LIKE_FIRST = like_query("LIKE", BY_ID)
# Template words that say nothing about a claim; nobody searches for them.
STOPWORDS = {
    *("about", "after", "also", "against", "before", "between", "from", "have", "into"),
    *("itself", "over", "says", "since", "that", "their", "them", "there", "these", "this"),
    *("through", "which", "will", "with", "within", "whatsoever"),
}


def add_arguments(parser: Options) -> None:
    parser.add_argument(
        "--rows",
        type=int,
        default=DEFAULT_ROWS,
        help=f"flat CSV rows to import (default {DEFAULT_ROWS:,}; about 0.6 claims a row)",
    )
    parser.add_argument(
        "--big-claims",
        type=int,
        default=DEFAULT_CLAIMS,
        help="claims in the database that export, search and look-ups run on: after the timed "
        f"import, the generator's next claims top it up (default {DEFAULT_CLAIMS:,}; "
        "0 keeps what the import made)",
    )
    parser.add_argument(
        "--small-rows",
        type=int,
        default=SMALL_ROWS,
        help=f"rows of the small database for claim show / report actor (default {SMALL_ROWS:,})",
    )
    parser.add_argument(
        "--like-runs",
        type=int,
        default=1,
        help="timed runs of each LIKE scan, which read the whole claim table (default 1)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the databases and exports (in bench/data/bulk-*, and the PostgreSQL "
        "database) and print where",
    )
    import bulk_postgres  # here, not at the top: it imports this module

    bulk_postgres.add_arguments(parser)


@dataclass
class Row:
    """One line of the results table."""

    measure: str
    value: str
    against: str = ""
    against_value: str = ""
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None  # None: for reference, no target

    def cells(self) -> list[str]:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        result = "(info)" if self.passed is None else "pass" if self.passed else "FAIL"
        cells = [self.measure, self.value, self.against, self.against_value, ratio, self.target]
        return [*cells, result]


def _s(seconds: float) -> str:
    return f"{seconds:.1f} s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _mb(size: int) -> str:
    return f"{size / MB:.0f} MB"


def _file_bytes(path: Path) -> int:
    """A database's size, with its -wal and -shm files."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _file_mb(path: Path) -> str:
    return _mb(_file_bytes(path))


def _progress(message: str) -> None:
    """Say what runs next, and let the disk settle first: the writeback of a file the last step
    wrote (the CSV, a database) would otherwise slow down whatever runs next."""
    print(f"bulk: {message}", flush=True)
    os.sync()


class Phase:
    """Wall time of a stretch of the benchmark, for the notes."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.started


# --- import -----------------------------------------------------------------------------------


@dataclass
class ImportResults:
    tracker: ChildRun
    reference: ChildRun
    sqlite_utils: ChildRun | None
    tracker_summary: str
    reference_summary: str
    tracker_size: int  # bytes
    reference_size: str
    reference_schema: str
    claims: int  # in the tracker's database after the import


def _tracker_env(database: Path) -> dict[str, str]:
    env = {**os.environ, "TRACKER_DB": str(database), "TRACKER_USER": "bench"}
    env.pop("TRACKER_DEBUG", None)
    return env


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else ""


def sqlite_utils_executable() -> Path | None:
    beside = Path(sys.executable).parent / "sqlite-utils"
    if beside.exists():
        return beside
    found = shutil.which("sqlite-utils")
    return Path(found) if found else None


def _count_claims(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        return int(conn.execute("SELECT count(*) FROM claim").fetchone()[0])


def top_up(database: Path, rows: int, claims: int, seed: int) -> Path | None:
    """Import the generator's claims after the first `rows` rows until the database holds
    `claims` claims (untimed); the CSV it imported, or None if there were enough already."""
    missing = claims - _count_claims(database)
    if missing <= 0:
        return None
    csv_path, _ = cached_flat_csv(missing, seed, after=rows)
    _progress(f"topping up to {claims:,} claims: tracker import claims {csv_path.name} ...")
    run_child([tracker_executable(), "import", "claims", csv_path], env=_tracker_env(database))
    return csv_path


def run_imports(csv_path: Path, folder: Path, keep: bool) -> tuple[ImportResults, Path]:
    tracker_db = folder / "tracker.db"
    _progress(f"tracker import claims {csv_path.name} ...")
    tracker = run_child(
        [tracker_executable(), "import", "claims", csv_path], env=_tracker_env(tracker_db)
    )
    reference_db = folder / "reference.db"
    _progress("reference loader (csv + sqlite3) ...")
    reference = run_child([sys.executable, BENCH_DIR / "reference_load.py", csv_path, reference_db])
    reference_size = _file_mb(reference_db)
    schema = compare_schemas(tracker_db, reference_db)
    if not keep:
        _remove(reference_db)
    sqlite_utils = None
    executable = sqlite_utils_executable()
    if executable is not None:
        flat_db = folder / "sqlite-utils.db"
        _progress("sqlite-utils insert --csv ...")
        sqlite_utils = run_child([executable, "insert", flat_db, "claims", csv_path, "--csv"])
        if not keep:
            _remove(flat_db)
    results = ImportResults(
        tracker=tracker,
        reference=reference,
        sqlite_utils=sqlite_utils,
        tracker_summary=_last_line(tracker.stderr).replace(str(csv_path), csv_path.name),
        reference_summary=_last_line(reference.stderr),
        tracker_size=_file_bytes(tracker_db),
        reference_size=reference_size,
        reference_schema=schema,
        claims=_count_claims(tracker_db),
    )
    return results, tracker_db


# The tables both loaders fill, and what keeps them: indexes, keys, full-text triggers.
SHARED_TABLES = (
    "actor",
    "actor_name",
    "source",
    "claim",
    "appearance",
    "claim_subject",
    "claim_tag",
)


def _schema(database: Path) -> set[str]:
    """Indexes (by table, columns and uniqueness, not name), triggers and virtual tables."""
    found: set[str] = set()
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        for table in SHARED_TABLES:
            for _, name, unique, _, _ in conn.execute(f'PRAGMA index_list("{table}")'):
                columns = [row[2] for row in conn.execute(f'PRAGMA index_info("{name}")')]
                kind = "unique index" if unique else "index"
                found.add(f"{kind} on {table} ({', '.join(columns)})")
        for kind, name, sql in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type = 'trigger'"
            " OR (type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%')"
        ):
            found.add(f"{kind} {name}: {' '.join(sql.split())}")
    return found


def compare_schemas(tracker: Path, reference: Path) -> str:
    ours, theirs = _schema(tracker), _schema(reference)
    if ours == theirs:
        return f"the tracker's {len(ours)} indexes, unique keys and search triggers"
    missing = "; ".join(sorted(ours - theirs)) or "-"
    extra = "; ".join(sorted(theirs - ours)) or "-"
    return f"WARNING, not the tracker's: it lacks {missing}; it adds {extra}"


def _remove(database: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)


LinkRow = tuple[str, int, str, int, str | None, datetime]


def link_rows(claim_ids: Sequence[int], seed: int) -> list[LinkRow]:
    """The generator's links between the imported claims, in the order they were imported:
    (uid, from_id, relation, to_id, note, created_at in UTC)."""
    rng = random.Random(f"claim-tracker-bench:{seed}:bulk-links")
    at = datetime.now(UTC)
    return [
        (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            claim_ids[link.from_claim],
            link.relation,
            claim_ids[link.to_claim],
            link.note,
            at,
        )
        for link in generate.make_links(len(claim_ids), seed)
    ]


def add_links(database: Path, seed: int) -> int:
    """The generator's links (supports, disputes, ...) between the imported claims, which the
    flat format cannot carry: they feed supported_by / disputed_by and the dossiers' links."""
    conn = sqlite3.connect(database)
    try:
        ids = [row[0] for row in conn.execute("SELECT id FROM claim ORDER BY id")]
        # SQLite keeps the tracker's timestamps as naive UTC text.
        rows = [
            (*row[:5], row[5].replace(tzinfo=None).isoformat(" ")) for row in link_rows(ids, seed)
        ]
        with conn:
            conn.executemany(
                "INSERT INTO link (uid, from_id, relation, to_id, note, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
    finally:
        conn.close()
    return len(rows)


# --- export -----------------------------------------------------------------------------------


@dataclass
class ExportResults:
    tracker: ChildRun
    reference: ChildRun
    sqlite_cli: ChildRun | None
    size: str
    agreement: str
    path: Path | None  # the tracker's export, if asked to keep it


def run_exports(
    database: Path, folder: Path, keep: bool, keep_tracker_export: bool = False
) -> ExportResults:
    """Time the tracker's export and its floors; keep_tracker_export keeps the tracker's file
    (in `folder`) for a later comparison."""
    tracker_out = folder / "export-tracker.csv"
    reference_out = folder / "export-reference.csv"
    cli_out = folder / "export-sqlite3.csv"
    _progress("tracker export claims ...")
    tracker = run_child(
        [tracker_executable(), "export", "claims", "-o", tracker_out], env=_tracker_env(database)
    )
    _progress("reference exporter (sqlite3 + csv.writer) ...")
    reference = run_child(
        [sys.executable, BENCH_DIR / "reference_export.py", database, reference_out]
    )
    sqlite_cli = None
    cli = shutil.which("sqlite3")
    if cli is not None:
        _progress("sqlite3 -csv ...")
        with open(cli_out, "wb") as out:
            sqlite_cli = run_child(
                [cli, "-readonly", "-csv", "-header", database, reference_export.QUERY],
                stdout=out,
            )
    size = _mb(tracker_out.stat().st_size)
    agreement = _compare(tracker_out, reference_out)
    if not keep:
        for path in (reference_out, cli_out):
            path.unlink(missing_ok=True)
        if not keep_tracker_export:
            tracker_out.unlink(missing_ok=True)
    kept = tracker_out if keep or keep_tracker_export else None
    return ExportResults(tracker, reference, sqlite_cli, size, agreement, kept)


def _compare(ours: Path, theirs: Path) -> str:
    """Whether the two exports are the same file; if not, the first line that differs."""
    with open(ours, "rb") as a, open(theirs, "rb") as b:
        for number, (left, right) in enumerate(zip(a, b, strict=False), start=1):
            if left != right:
                return f"DIFFERENT from line {number}: {left[:60]!r} vs {right[:60]!r}"
        if a.read(1) or b.read(1):
            return "DIFFERENT: one is longer"
    return "the same, byte for byte"


# --- search -----------------------------------------------------------------------------------


def vocabulary() -> list[str]:
    """Words the generator writes into claims and quotes: its templates and name lists."""
    texts = [t for t, _ in generate.CLAIM_TEMPLATES] + list(generate.QUOTE_TEMPLATES)
    for name in dir(generate):
        value = getattr(generate, name)
        if name.isupper() and isinstance(value, list) and all(isinstance(v, str) for v in value):
            texts.extend(value)
    words = {w.lower() for text in texts for w in re.findall(r"[A-Za-z]{4,}", text)}
    return sorted(words - STOPWORDS)


def pick_words(database: Path, n: int) -> list[tuple[str, int]]:
    """`n` words spread evenly over the log of how many claims contain them, rarest first."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        counted = []
        for word in vocabulary():
            (matches,) = conn.execute(
                "SELECT count(*) FROM claim_fts WHERE claim_fts MATCH ?", (f'"{word}"',)
            ).fetchone()
            if matches:
                counted.append((matches, word))
    finally:
        conn.close()
    counted.sort()
    if len(counted) <= n:
        return [(w, m) for m, w in counted]
    low, high = math.log(counted[0][0]), math.log(counted[-1][0])
    chosen: list[tuple[int, str]] = []
    for i in range(n):
        goal = low + (high - low) * i / (n - 1)
        best = min(
            (c for c in counted if c not in chosen), key=lambda c: (abs(math.log(c[0]) - goal), c)
        )
        chosen.append(best)
    return [(w, m) for m, w in sorted(chosen)]


@dataclass
class SearchResults:
    words: list[tuple[str, int]]
    fts: dict[str, float]  # search_claims, median seconds per word
    exact: dict[str, float]  # the same with rank_all=True: every match ranked
    window: int  # search_claims ranks at most this many of the newest matches
    scans: dict[str, dict[str, float]]  # the same for each LIKE query, by its key
    n_claims: int
    # search_claims on what people type before a word is whole: its first 2, 3 and 4 letters
    prefixes: dict[str, float]


def run_search(
    database: str,
    words: list[tuple[str, int]],
    scans: dict[str, str],
    runs: int,
    warmups: int,
    like_runs: int,
    label: str = "",
) -> SearchResults:
    """Time `search_claims` on each word, then each of the `scans` (LIKE queries by key), on the
    database at this path or URL."""
    from sqlalchemy import text

    from tracker.db import open_database
    from tracker.services.search import RANK_WINDOW, search_claims

    db = open_database(database)
    try:
        with db.session(write=False) as session:
            n_claims = session.execute(text("SELECT count(*) FROM claim")).scalar_one()

            def fts(word: str, rank_all: bool = False) -> Callable[[], object]:
                return lambda: search_claims(session, word, limit=SEARCH_LIMIT, rank_all=rank_all)

            def like(sql: str, word: str) -> Callable[[], object]:
                query = text(sql)
                params = {"pattern": f"%{word}%", "limit": SEARCH_LIMIT}
                return lambda: session.execute(query, params).all()

            _progress(f"{label}search_claims over {len(words)} words ...")
            fts_times = _time_each({w: fts(w) for w, _ in words}, runs, warmups)
            _progress(f"{label}search_claims(rank_all=True) over {len(words)} words ...")
            exact_times = _time_each({w: fts(w, True) for w, _ in words}, runs, warmups)
            typed = sorted({w[:n] for w, _ in words for n in (2, 3, 4)})
            _progress(f"{label}search_claims over {len(typed)} typed prefixes ...")
            prefix_times = _time_each({p: fts(p) for p in typed}, runs, warmups)
            _progress(f"{label}LIKE scans over {len(words)} words ...")
            scan_times = {
                key: _time_each({w: like(sql, w) for w, _ in words}, like_runs, 0)
                for key, sql in scans.items()
            }
    finally:
        db.close()
    return SearchResults(
        words, fts_times, exact_times, RANK_WINDOW, scan_times, n_claims, prefix_times
    )


def _time_each(calls: dict[str, Callable[[], object]], runs: int, warmups: int) -> dict[str, float]:
    """The median seconds of each call; every round calls each once, in order."""
    times: dict[str, list[float]] = {key: [] for key in calls}
    for round_ in range(warmups + max(runs, 1)):
        for key, call in calls.items():
            started = time.perf_counter()
            call()
            elapsed = time.perf_counter() - started
            if round_ >= warmups:
                times[key].append(elapsed)
    return {key: statistics.median(values) for key, values in times.items()}


# --- claim show / report actor at two sizes ---------------------------------------------------


@dataclass(frozen=True)
class Lookups:
    small_db_claims: int
    claim_id: int
    claim_links: int
    claim_sources: int
    big_actor: str
    big_actor_claims: int
    small_actor: str
    small_actor_claims: int


def _actor_claims(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(claims by or about, name) for every actor."""
    return conn.execute(
        "SELECT (SELECT count(*) FROM claim c WHERE c.claimant_id = a.id)"
        " + (SELECT count(*) FROM claim_subject s WHERE s.actor_id = a.id), a.name"
        " FROM actor a ORDER BY 1, a.name"
    ).fetchall()


def _claim_shape(conn: sqlite3.Connection, claim_id: int) -> tuple[int, int]:
    (links,) = conn.execute(
        "SELECT count(*) FROM link WHERE from_id = ? OR to_id = ?", (claim_id, claim_id)
    ).fetchone()
    (sources,) = conn.execute(
        "SELECT count(*) FROM appearance WHERE claim_id = ?", (claim_id,)
    ).fetchone()
    return links, sources


def pick_lookups(big: Path, small: Path) -> Lookups:
    """The same claim in both databases (the first claims of the big one are the small one's),
    with as many links and sources in both; the small database's busiest actor, and the actor
    of the big database whose report is closest in size: a report's length is the actor's
    claim count, which grows with the data, so only equal-sized reports compare databases."""
    with (
        contextlib.closing(sqlite3.connect(f"file:{big}?mode=ro", uri=True)) as b,
        contextlib.closing(sqlite3.connect(f"file:{small}?mode=ro", uri=True)) as s,
    ):
        (n_small,) = s.execute("SELECT count(*) FROM claim").fetchone()
        claim_id = max(1, n_small // 2)
        for candidate in range(claim_id, n_small + 1):
            shape = _claim_shape(s, candidate)
            if shape == _claim_shape(b, candidate) and shape[0] >= 1 and shape[1] >= 2:
                claim_id = candidate
                break
        links, sources = _claim_shape(b, claim_id)
        small_claims, small_actor = _actor_claims(s)[-1]
        big_claims, big_actor = min(_actor_claims(b), key=lambda c: (abs(c[0] - small_claims), c))
    return Lookups(
        small_db_claims=n_small,
        claim_id=claim_id,
        claim_links=links,
        claim_sources=sources,
        big_actor=big_actor,
        big_actor_claims=big_claims,
        small_actor=small_actor,
        small_actor_claims=small_claims,
    )


def lookup_commands(big: Path, small: Path, lookups: Lookups) -> list[Command]:
    tracker = str(tracker_executable())

    def fixed(*argv: str) -> Callable[[int], list[str]]:
        return lambda _: list(argv)

    show = ("claim", "show", str(lookups.claim_id))
    return [
        Command("claim show, small", fixed(tracker, "--db", str(small), *show)),
        Command("claim show, big", fixed(tracker, "--db", str(big), *show)),
        Command(
            "report actor, small",
            fixed(tracker, "--db", str(small), "report", "actor", lookups.small_actor),
        ),
        Command(
            "report actor, big",
            fixed(tracker, "--db", str(big), "report", "actor", lookups.big_actor),
        ),
    ]


# --- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Report:
    if args.rows < args.small_rows:
        raise SystemExit(f"--rows must be at least --small-rows ({args.small_rows:,})")
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    import bulk_postgres  # here, not at the top: it imports this module

    server, postgres_note = bulk_postgres.connect(args)
    if server is None:
        print(f"bulk: PostgreSQL {postgres_note}", flush=True)
    csv_path, csv_seconds = cached_flat_csv(args.rows, args.seed)
    small_csv, _ = cached_flat_csv(args.small_rows, args.seed)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=DATA_DIR, prefix="bulk-"))
    phases: dict[str, float] = {}
    try:
        phase = Phase()
        imports, big = run_imports(csv_path, folder, args.keep)
        phases["import"] = phase()

        phase = Phase()
        topup = top_up(big, args.rows, args.big_claims, args.seed)
        if topup is not None:
            phases["top-up"] = phase()

        phase = Phase()
        _progress(f"importing {small_csv.name} for the small database, adding links ...")
        small = folder / "small.db"
        run_child([tracker_executable(), "import", "claims", small_csv], env=_tracker_env(small))
        big_links = add_links(big, args.seed)
        small_links = add_links(small, args.seed)
        phases["set-up"] = phase()

        phase = Phase()
        exports = run_exports(big, folder, args.keep, keep_tracker_export=server is not None)
        phases["export"] = phase()

        phase = Phase()
        words = pick_words(big, N_WORDS)
        scans = {"ranked": LIKE_RANKED, "first": LIKE_FIRST}
        search = run_search(str(big), words, scans, args.runs, args.warmups, args.like_runs)
        phases["search"] = phase()

        phase = Phase()
        _progress(f"claim show and report actor, {args.runs} runs ...")
        lookups = pick_lookups(big, small)
        commands = lookup_commands(big, small, lookups)
        env = {**os.environ, "TRACKER_USER": "bench"}
        for key in ("TRACKER_DB", "TRACKER_DEBUG"):
            env.pop(key, None)
        times = measure(commands, env, args.runs, args.warmups, args.seed)
        lookup_medians = {label: statistics.median(values) for label, values in times.items()}
        phases["look-ups"] = phase()

        postgres = None
        if server is not None:
            phase = Phase()
            sqlite_figures = bulk_postgres.SqliteFigures(
                imports.tracker,
                imports.tracker_summary,
                imports.tracker_size,
                exports.tracker,
                exports.path,
                search,
            )
            postgres, postgres_note = bulk_postgres.run(
                args, server, csv_path, topup, folder, sqlite_figures
            )
            phases["PostgreSQL"] = phase()
    finally:
        if args.keep:
            print(f"bulk: kept {folder.relative_to(BENCH_DIR.parent)}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)

    rows = _rows(imports, exports, search, lookups, lookup_medians)
    report = Report(
        title=(
            f"Bulk, {args.rows:,} flat rows imported, {search.n_claims:,} claims: SQLite "
            f"{sqlite3.sqlite_version}, Python {sys.version.split()[0]}"
        ),
        columns=["measure", "value", "against", "its value", "ratio", "target", "result"],
        rows=[row.cells() for row in rows],
    )
    report.ok = all(row.passed is not False for row in rows)
    written = f"written in {csv_seconds:.0f} s" if csv_seconds is not None else "cached"
    fts_all = sorted(search.fts.values())
    speedups = [search.scans["ranked"][w] / search.fts[w] for w, _ in search.words]
    report.notes = [
        f"input: {csv_path.relative_to(BENCH_DIR.parent)} ({_file_mb(csv_path)}, {written})",
        f"tracker: {imports.tracker_summary}",
        f"reference: {imports.reference_summary}",
        f"reference schema: {imports.reference_schema}",
        f"claims: {imports.claims:,} from the timed import; "
        + (
            f"topped up to {search.n_claims:,} from {topup.name}, untimed"
            if topup is not None
            else "not topped up"
        ),
        f"database size after the import: tracker {_mb(imports.tracker_size)} "
        "(with history and verdict rows), "
        f"reference {imports.reference_size}",
        f"import and export ran once each; links added after the import: {big_links:,} "
        f"(big), {small_links:,} (small)",
        f"export: {exports.size}; tracker and reference outputs are {exports.agreement}",
        "search words (claims containing them): "
        + ", ".join(f"{w} {m:,}" for w, m in search.words),
        f"search_claims: median of {args.runs} runs after {args.warmups} warm-up(s) per word; "
        f"fastest {_ms(fts_all[0])}, slowest {_ms(fts_all[-1])} "
        f"({max(search.fts, key=search.fts.__getitem__)}); LIKE: {args.like_runs} run(s) a word; "
        f"speed-up per word from {min(speedups):.0f}x to {max(speedups):.0f}x",
        f"search_claims ranks the newest {search.window:,} matches; "
        f"{sum(m > search.window for _, m in search.words)} of the {len(search.words)} words "
        "match more claims; rank_all=True (tracker search --rank-all) ranks every match, "
        f"slowest {_ms(max(search.exact.values()))} "
        f"({max(search.exact, key=search.exact.__getitem__)})",
        f"claim show {lookups.claim_id} on both ({lookups.claim_sources} sources, "
        f"{lookups.claim_links} links); report actor {lookups.small_actor!r} "
        f"({lookups.small_actor_claims} claims by or about) on the small database, "
        f"{lookups.big_actor!r} ({lookups.big_actor_claims}) on the big one",
        "phases: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in phases.items()),
        f"PostgreSQL: {postgres_note}",
    ]
    if postgres is not None:
        report.more.append(postgres)
    return report


def _rows(
    imports: ImportResults,
    exports: ExportResults,
    search: SearchResults,
    lookups: Lookups,
    medians: dict[str, float],
) -> list[Row]:
    rows: list[Row] = []
    tracker = imports.tracker.seconds
    reference = imports.reference.seconds
    rows.append(
        Row(
            "tracker import claims FILE",
            _s(tracker),
            "reference loader (sqlite3)",
            _s(reference),
            tracker / reference,
            f"<= {IMPORT_TARGET:.1f}x",
            tracker / reference <= IMPORT_TARGET,
        )
    )
    if imports.sqlite_utils is not None:
        flat = imports.sqlite_utils.seconds
        rows.append(
            Row(
                "tracker import claims FILE",
                _s(tracker),
                "sqlite-utils insert --csv",
                _s(flat),
                tracker / flat,
            )
        )
    rss = imports.tracker.max_rss
    rows.append(
        Row(
            "tracker import claims, peak RSS",
            _mb(rss),
            target=f"<= {IMPORT_RSS_MB} MB",
            passed=rss <= IMPORT_RSS_MB * MB,
        )
    )
    rows.append(Row("reference loader, peak RSS", _mb(imports.reference.max_rss)))

    tracker = exports.tracker.seconds
    reference = exports.reference.seconds
    rows.append(
        Row(
            "tracker export claims -o FILE",
            _s(tracker),
            "reference exporter (sqlite3)",
            _s(reference),
            tracker / reference,
            f"<= {EXPORT_TARGET:.1f}x",
            tracker / reference <= EXPORT_TARGET,
        )
    )
    if exports.sqlite_cli is not None:
        cli = exports.sqlite_cli.seconds
        rows.append(
            Row(
                "tracker export claims -o FILE",
                _s(tracker),
                "sqlite3 -csv DB QUERY",
                _s(cli),
                tracker / cli,
            )
        )
    rss = exports.tracker.max_rss
    rows.append(
        Row(
            "tracker export claims, peak RSS",
            _mb(rss),
            target=f"< {EXPORT_RSS_MB} MB",
            passed=rss < EXPORT_RSS_MB * MB,
        )
    )

    fts = statistics.median(search.fts.values())
    ranked = statistics.median(search.scans["ranked"].values())
    first = statistics.median(search.scans["first"].values())
    typed = statistics.median(search.prefixes.values())
    rows.append(
        Row(
            f"search_claims, median of {len(search.words)} words",
            _ms(fts),
            target=f"<= {SEARCH_MS:.0f} ms",
            passed=fts <= SEARCH_MS / 1000,
        )
    )
    rows.append(
        Row(
            f"search_claims, median of {len(search.prefixes)} typed prefixes (2-4 letters)",
            _ms(typed),
            target=f"<= {SEARCH_MS:.0f} ms",
            passed=typed <= SEARCH_MS / 1000,
        )
    )
    rows.append(
        Row(
            "LIKE '%word%' scan, top 20 by length",
            _ms(ranked),
            "search_claims",
            _ms(fts),
            ranked / fts,
            f">= {SEARCH_SPEEDUP:.0f}x",
            ranked / fts >= SEARCH_SPEEDUP,
        )
    )
    rows.append(
        Row("LIKE '%word%', first 20 by id", _ms(first), "search_claims", _ms(fts), first / fts)
    )
    exact = statistics.median(search.exact.values())
    rows.append(
        Row(
            "search_claims(rank_all=True), median",
            _ms(exact),
            "LIKE '%word%', top 20 by length",
            _ms(ranked),
            ranked / exact,
        )
    )

    for command in ("claim show", "report actor"):
        big, small = medians[f"{command}, big"], medians[f"{command}, small"]
        rows.append(
            Row(
                f"tracker {command}, {search.n_claims:,} claims",
                _ms(big),
                f"same, {lookups.small_db_claims:,} claims",
                _ms(small),
                big / small,
                f"<= {SCALE_TARGET:.1f}x",
                big / small <= SCALE_TARGET,
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    return standalone(DESCRIPTION, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
