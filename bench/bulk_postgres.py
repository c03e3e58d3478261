"""The bulk benchmark's PostgreSQL column: the same import, export and search on a PostgreSQL
server, beside the SQLite figures of the same run. For information: the issue sets no targets
for PostgreSQL, so every figure is shown with its ratio to SQLite's and nothing passes or fails.

- `tracker import claims FILE` into an empty database (wall time, the tracker's peak RSS);
- `tracker export claims -o FILE` from it, after the same links as on SQLite are added;
- `search_claims` in process over the same 20 words (tsvector and GIN index), and the LIKE
  baseline: ILIKE over text, quote and note, as SQLite's LIKE ignores ASCII case too.

Each run creates a database of its own on the server and drops it at the end (`--keep` keeps
it). The server is given by an admin URL (--postgres-url, else $TRACKER_BENCH_POSTGRES_URL,
else postgresql+psycopg://postgres@127.0.0.1/postgres) whose role may create databases. If it
cannot be reached, the PostgreSQL part is skipped with a note and the SQLite part still runs.
"""

from __future__ import annotations

import contextlib
import csv
import os
import statistics
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bulk import (
    BY_ID,
    BY_LENGTH,
    SearchResults,
    _last_line,
    _mb,
    _ms,
    _progress,
    _s,
    _tracker_env,
    like_query,
    link_rows,
    run_search,
)
from common import ChildRun, Options, Report, run_child, tracker_executable
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

ENV_VAR = "TRACKER_BENCH_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1/postgres"
DATABASE_PREFIX = "tracker_bench_"
CONNECT_TIMEOUT_S = 5
# Export columns that differ between any two imports by nature: fresh uids, import times.
VOLATILE_COLUMNS = ("uid", "created_at", "updated_at")
# Server settings worth knowing when reading the figures.
SETTINGS = ("shared_buffers", "synchronous_commit", "max_parallel_workers_per_gather")

# The LIKE baselines on PostgreSQL. "ranked" is the one of the ratio, as on SQLite.
SCANS = {
    "ranked": like_query("ILIKE", BY_LENGTH),
    "first": like_query("ILIKE", BY_ID),
    "ranked, case-sensitive": like_query("LIKE", BY_LENGTH),
}


def add_arguments(parser: Options) -> None:
    parser.add_argument(
        "--postgres-url",
        default=None,
        help=(
            "PostgreSQL admin URL; the benchmark creates and drops a database of its own there "
            f"(default ${ENV_VAR}, else {DEFAULT_ADMIN_URL}; skipped if unreachable)"
        ),
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="skip the PostgreSQL column of the benchmark"
    )


@dataclass(frozen=True)
class Server:
    admin_url: URL
    version: str
    settings: dict[str, str]

    def where(self) -> str:
        return self.admin_url.render_as_string(hide_password=True)


@dataclass(frozen=True)
class SqliteFigures:
    """What the SQLite part measured, for the ratios."""

    tracker_import: ChildRun
    import_summary: str
    database_size: int  # bytes, after the import
    tracker_export: ChildRun
    export_path: Path | None
    search: SearchResults


def _admin_engine(url: URL) -> Engine:
    return create_engine(
        url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
    )


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def connect(args: Any) -> tuple[Server | None, str]:
    """The server to run on, or None and why not (a note for the report)."""
    if args.no_postgres:
        return None, "skipped (--no-postgres)"
    if args.postgres_url:
        given, origin = args.postgres_url, "--postgres-url"
    elif os.environ.get(ENV_VAR):
        given, origin = os.environ[ENV_VAR], f"${ENV_VAR}"
    else:
        given, origin = DEFAULT_ADMIN_URL, "the default URL"
    hint = f"give a server with --postgres-url or ${ENV_VAR}"
    try:
        url = make_url(given)
    except ArgumentError:
        return None, f"skipped: cannot read {origin}; {hint}"
    if url.get_backend_name() != "postgresql":
        return None, f"skipped: {origin} is not a PostgreSQL URL; {hint}"
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    where = url.render_as_string(hide_password=True)
    try:
        engine = _admin_engine(url)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        return None, f"skipped: no driver for {where} ({exc}); {hint}"
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            settings = {s: conn.execute(text(f"SHOW {s}")).scalar_one() for s in SETTINGS}
            may_create = conn.execute(
                text("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
            ).scalar_one()
    except DBAPIError as exc:
        return None, f"skipped: cannot connect to {where} ({origin}): {_first_line(exc)}; {hint}"
    finally:
        engine.dispose()
    if not may_create:
        return None, f"skipped: the role of {where} may not create databases; {hint}"
    return Server(url, version.split()[0], settings), f"ran on {where}"


@contextlib.contextmanager
def fresh_database(server: Server, keep: bool) -> Iterator[URL]:
    """An empty database of this run's own, dropped afterwards unless `keep`."""
    name = f"{DATABASE_PREFIX}{datetime.now():%Y%m%d_%H%M%S}_{os.getpid()}"
    engine = _admin_engine(server.admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.admin_url.set(database=name)
        finally:
            if keep:
                print(f"bulk: kept PostgreSQL database {name}", flush=True)
            else:
                _drop(engine, name)
    finally:
        engine.dispose()


def _drop(engine: Engine, name: str) -> None:
    """Drop the run's database; a failure to drop is a warning, not a lost run."""
    try:
        with engine.connect() as conn:
            try:  # FORCE ends sessions left behind; PostgreSQL 13 and later
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except DBAPIError:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    except DBAPIError as exc:
        print(
            f"bulk: WARNING: could not drop PostgreSQL database {name}: {_first_line(exc)}",
            file=sys.stderr,
            flush=True,
        )


def _url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def add_links(url: URL, seed: int) -> int:
    """The same links as bulk.add_links writes into the SQLite database, with COPY."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            ids = list(conn.execute(text("SELECT id FROM claim ORDER BY id")).scalars())
            rows = link_rows(ids, seed)
            cursor = conn.connection.driver_connection.cursor()
            columns = "uid, from_id, relation, to_id, note, created_at"
            with cursor.copy(f"COPY link ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    finally:
        engine.dispose()
    return len(rows)


def settle(url: URL) -> float:
    """VACUUM (ANALYZE) and CHECKPOINT after the bulk writes, as autovacuum and the checkpointer
    would do soon anyway, so they do not run during the timed export and searches; seconds."""
    started = datetime.now()
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
            # Needs superuser or pg_checkpoint; without it the server checkpoints on its own.
            with contextlib.suppress(DBAPIError):
                conn.execute(text("CHECKPOINT"))
    finally:
        engine.dispose()
    return (datetime.now() - started).total_seconds()


def database_size(url: URL) -> int:
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    finally:
        engine.dispose()


def match_counts(url: URL, words: list[tuple[str, int]]) -> str:
    """Whether the tsvector index matches as many claims per word as SQLite's FTS5 index."""
    engine = create_engine(url)
    differ = []
    try:
        with engine.connect() as conn:
            query = text(
                "SELECT count(*) FROM claim WHERE search @@ plainto_tsquery('tracker_search', :w)"
            )
            for word, fts5 in words:
                found = conn.execute(query, {"w": word}).scalar_one()
                if found != fts5:
                    differ.append(f"{word} {found:,} (FTS5 {fts5:,})")
    finally:
        engine.dispose()
    if not differ:
        return f"match as many claims as on SQLite for all {len(words)} words"
    return f"match a different number of claims than on SQLite for: {', '.join(differ)}"


def compare_exports(ours: Path, theirs: Path) -> str:
    """Whether two exports hold the same cells, apart from VOLATILE_COLUMNS."""
    with (
        open(ours, newline="", encoding="utf-8-sig") as a,
        open(theirs, newline="", encoding="utf-8-sig") as b,
    ):
        left, right = csv.reader(a), csv.reader(b)
        header = next(left, [])
        if header != next(right, []):
            return "DIFFERENT: not the same columns"
        same = [i for i, column in enumerate(header) if column not in VOLATILE_COLUMNS]
        n = 0
        for n, (x, y) in enumerate(zip(left, right, strict=False), start=1):
            if x != y and [x[i] for i in same] != [y[i] for i in same]:
                column = next(header[i] for i in same if x[i] != y[i])
                return f"DIFFERENT from claim row {n:,}, column {column}"
        if next(left, None) is not None or next(right, None) is not None:
            return "DIFFERENT: one has more rows"
    return f"the same {n:,} rows, cell for cell, apart from {', '.join(VOLATILE_COLUMNS)}"


def run(
    args: Any,
    server: Server,
    csv_path: Path,
    topup: Path | None,
    folder: Path,
    sqlite: SqliteFigures,
) -> tuple[Report | None, str]:
    """Import, export and search on a fresh database; the table, or None and what went wrong."""
    step = "creating the database"
    try:
        with fresh_database(server, args.keep) as url:
            step = "tracker import claims"
            env = _tracker_env(Path(os.devnull))
            env["TRACKER_DB"] = _url_text(url)
            _progress(f"PostgreSQL: tracker import claims {csv_path.name} ...")
            tracker_import = run_child(
                [tracker_executable(), "import", "claims", csv_path], env=env
            )
            size = database_size(url)
            if topup is not None:
                step = "topping up"
                _progress(f"PostgreSQL: topping up, tracker import claims {topup.name} ...")
                run_child([tracker_executable(), "import", "claims", topup], env=env)

            step = "adding links"
            _progress("PostgreSQL: adding links, VACUUM (ANALYZE), CHECKPOINT ...")
            links = add_links(url, args.seed)
            settle_seconds = settle(url)

            step = "tracker export claims"
            out = folder / "export-postgres.csv"
            _progress("PostgreSQL: tracker export claims ...")
            tracker_export = run_child(
                [tracker_executable(), "export", "claims", "-o", out], env=env
            )
            agreement = (
                compare_exports(out, sqlite.export_path)
                if sqlite.export_path is not None
                else "not compared (no SQLite export kept)"
            )
            if not args.keep:
                out.unlink(missing_ok=True)

            step = "search"
            search = run_search(
                _url_text(url),
                sqlite.search.words,
                SCANS,
                args.runs,
                args.warmups,
                args.like_runs,
                label="PostgreSQL: ",
            )
            counts = match_counts(url, sqlite.search.words)
            name = url.database
    except (Exception, SystemExit) as exc:  # run_child exits on a failed command
        print(f"bulk: PostgreSQL part failed while {step}: {exc}", file=sys.stderr, flush=True)
        return None, f"FAILED while {step} on {server.where()}: {_first_line(exc)}"

    summary = _last_line(tracker_import.stderr).replace(str(csv_path), csv_path.name)
    postgres = PostgresFigures(tracker_import, size, tracker_export, search)
    report = Report(
        title=(
            f"Bulk on PostgreSQL {server.version}, the same {args.rows:,} rows imported, "
            f"{search.n_claims:,} claims: for information, no targets; "
            "ratios to this run's SQLite figures"
        ),
        columns=["measure", "SQLite", "PostgreSQL", "PostgreSQL / SQLite"],
        rows=_rows(sqlite, postgres),
    )
    counted = (
        "the same counts as on SQLite"
        if summary == sqlite.import_summary
        else f"DIFFERENT from SQLite's: {sqlite.import_summary}"
    )
    report.notes = [
        f"server: {server.where()}, PostgreSQL {server.version}; "
        + ", ".join(f"{k} {v}" for k, v in server.settings.items()),
        f"database: {name}, created empty for this run and "
        + ("kept (--keep)" if args.keep else "dropped after it"),
        f"tracker: {summary}; {counted}"
        + (f"; then topped up from {topup.name} as on SQLite, untimed" if topup else ""),
        "peak RSS: the tracker process's own; the server's memory is not counted",
        f"links added after the import: {links:,}; then VACUUM (ANALYZE) and CHECKPOINT, "
        f"{settle_seconds:.0f} s, untimed",
        f"export: compared with SQLite's, {agreement}",
        f"search words: the SQLite run's; the tsvector column and its GIN index {counts}",
        f"search_claims: median of {args.runs} runs after {args.warmups} warm-up(s) per word; "
        "LIKE baseline: ILIKE, which ignores case as SQLite's LIKE does for ASCII, "
        f"{args.like_runs} run(s) a word; case-sensitive LIKE for comparison",
    ]
    return report, f"ran on {server.where()}, see its table below"


@dataclass(frozen=True)
class PostgresFigures:
    tracker_import: ChildRun
    database_size: int  # bytes, after the import
    tracker_export: ChildRun
    search: SearchResults


def _median(times: dict[str, float]) -> float:
    return statistics.median(times.values())


def _rows(sqlite: SqliteFigures, postgres: PostgresFigures) -> list[list[str]]:
    """(measure, SQLite, PostgreSQL, PostgreSQL / SQLite) for each figure."""

    def row(measure: str, lite: float, pg: float, show: Callable[[float], str]) -> list[str]:
        return [measure, show(lite), show(pg), f"{pg / lite:.2f}x" if lite else ""]

    def mb(size: float) -> str:
        return _mb(int(size))

    lite, pg = sqlite.search, postgres.search
    lite_fts, pg_fts = _median(lite.fts), _median(pg.fts)
    lite_ranked, pg_ranked = _median(lite.scans["ranked"]), _median(pg.scans["ranked"])
    return [
        row(
            "tracker import claims FILE",
            sqlite.tracker_import.seconds,
            postgres.tracker_import.seconds,
            _s,
        ),
        row(
            "tracker import claims, peak RSS",
            sqlite.tracker_import.max_rss,
            postgres.tracker_import.max_rss,
            mb,
        ),
        row("database size after the import", sqlite.database_size, postgres.database_size, mb),
        row(
            "tracker export claims -o FILE",
            sqlite.tracker_export.seconds,
            postgres.tracker_export.seconds,
            _s,
        ),
        row(
            "tracker export claims, peak RSS",
            sqlite.tracker_export.max_rss,
            postgres.tracker_export.max_rss,
            mb,
        ),
        row(f"search_claims, median of {len(pg.words)} words", lite_fts, pg_fts, _ms),
        row(
            "search_claims(rank_all=True), median",
            _median(lite.exact),
            _median(pg.exact),
            _ms,
        ),
        row("LIKE '%word%' scan, top 20 by length (PG: ILIKE)", lite_ranked, pg_ranked, _ms),
        [
            "that scan's ratio to search_claims",
            f"{lite_ranked / lite_fts:.1f}x",
            f"{pg_ranked / pg_fts:.1f}x",
            "",
        ],
        row(
            "LIKE '%word%', first 20 by id (PG: ILIKE)",
            _median(lite.scans["first"]),
            _median(pg.scans["first"]),
            _ms,
        ),
        [
            "case-sensitive LIKE, top 20 by length",
            "-",
            _ms(_median(pg.scans["ranked, case-sensitive"])),
            "",
        ],
    ]
