"""What the richer schema costs on a threat-intelligence feed: one row per claim.

Real feeds carry about one row per claim (few claims seen twice, ~100 characters of text), where
the default generator has 1.67 rows per claim. On the generator's "feed" profile (435,000 rows by
default) this times, back to back on the same CSV:

- `tracker import claims FILE` into an empty SQLite database, and into an empty PostgreSQL
  database when a server is reachable (the bulk benchmark's --postgres-url / --no-postgres);
- `reference_load.py`: the same schema as the tracker's, every index and foreign key, loaded
  with csv + sqlite3;
- `lean_load.py`: the same rows and search index in tables with primary keys only.

For information: no targets. Ratios are to the reference and the lean loader of the same run.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import bulk_postgres
from bulk import _progress, _s, _tracker_env
from common import DATA_DIR, Options, Report, cached_flat_csv, run_child, tracker_executable

NAME = "feed"
DESCRIPTION = "import of a one-row-per-claim feed: tracker vs full-schema reference vs lean loader"
BENCH_DIR = Path(__file__).resolve().parent


def add_arguments(parser: Options) -> None:
    parser.add_argument(
        "--feed-rows", type=int, default=435_000, help="rows of the feed CSV (default 435,000)"
    )


def run(args: Any) -> Report:
    csv_path, _ = cached_flat_csv(args.feed_rows, args.seed, profile="feed")
    server, why_not = bulk_postgres.connect(args)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="feed-") as work:
        folder = Path(work)
        _progress(f"tracker import claims {csv_path.name} (SQLite) ...")
        tracker = run_child(
            [tracker_executable(), "import", "claims", csv_path],
            env=_tracker_env(folder / "tracker.db"),
        )
        _progress("reference_load.py ...")
        reference = run_child(
            [sys.executable, BENCH_DIR / "reference_load.py", csv_path, folder / "reference.db"]
        )
        _progress("lean_load.py ...")
        lean = run_child([sys.executable, BENCH_DIR / "lean_load.py", csv_path, folder / "lean.db"])
        postgres = None
        if server is not None:
            with bulk_postgres.fresh_database(server, keep=False) as url:
                _progress(f"tracker import claims {csv_path.name} (PostgreSQL) ...")
                env = _tracker_env(folder / "unused.db")
                env["TRACKER_DB"] = url.render_as_string(hide_password=False)
                postgres = run_child([tracker_executable(), "import", "claims", csv_path], env=env)
    report = Report(
        f"Import of a one-row-per-claim feed ({args.feed_rows:,} rows, {csv_path.name})",
        ["loader", "wall time", "/ reference", "/ lean"],
    )

    def row(label: str, seconds: float) -> list[str]:
        return [
            label,
            _s(seconds),
            f"{seconds / reference.seconds:.2f}x",
            f"{seconds / lean.seconds:.2f}x",
        ]

    report.rows.append(row("tracker import claims (SQLite)", tracker.seconds))
    if postgres is not None:
        report.rows.append(row("tracker import claims (PostgreSQL)", postgres.seconds))
    report.rows.append(row("reference_load.py (full schema, sqlite3)", reference.seconds))
    report.rows.append(row("lean_load.py (primary keys and search index)", lean.seconds))
    report.notes.append(f"tracker: {tracker.stderr.strip().splitlines()[0]}")
    if server is None:
        report.notes.append(f"PostgreSQL: {why_not}")
    return report
