"""What the name checks cost a bulk import: every name new to the database is compared with the
known ones (typos, punctuation, look-alike characters, word subsets, prefixes) through the
similarity index of tracker.names. Target: at most 10% of a 1,000,000-row import into a database
that already knows 2,000+ names.

The database is first given the names of another generated world (a different seed: same
vocabulary, other combinations), so most of the big file's names are new and each is checked.
The import runs in process; the time spent building and querying the index is summed by
wrapping its two methods, and compared with the import's wall time.

Usage: python bench/run.py --only names [--name-rows N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from common import DATA_DIR, Options, Report, cached_flat_csv

NAME = "names"
DESCRIPTION = "cost of the name checks in a bulk import with 2,000+ known names"
TARGET = 0.10


def add_arguments(parser: Options) -> None:
    parser.add_argument(
        "--name-rows", type=int, default=1_000_000, help="rows of the timed import (names)"
    )
    parser.add_argument(
        "--known-rows", type=int, default=20_000, help="rows imported first for the known names"
    )


def _import(url: str, path: Path) -> Any:
    from tracker.db import open_database
    from tracker.services.flat import Reader
    from tracker.services.importer import import_flat

    database = open_database(url)
    try:
        with open(path, "rb") as stream, database.session() as session:
            return import_flat(session, Reader(stream, path.name, "csv"), name=path.name)
    finally:
        database.close()


def run(args: argparse.Namespace) -> Report:
    from sqlalchemy import func, select

    from tracker import names
    from tracker.db import open_database
    from tracker.models import ActorName, Source

    known_csv, _ = cached_flat_csv(args.known_rows, args.seed + 1000)
    big_csv, _ = cached_flat_csv(args.name_rows, args.seed)
    spent = {"similar": 0.0, "add": 0.0, "queries": 0}
    similar, add = names.SimilarityIndex.similar, names.SimilarityIndex.add

    def timed_similar(self: Any, *a: Any, **k: Any) -> Any:
        started = time.perf_counter()
        try:
            return similar(self, *a, **k)
        finally:
            spent["similar"] += time.perf_counter() - started
            spent["queries"] += 1

    def timed_add(self: Any, *a: Any, **k: Any) -> Any:
        started = time.perf_counter()
        try:
            return add(self, *a, **k)
        finally:
            spent["add"] += time.perf_counter() - started

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="names-") as folder:
        url = str(Path(folder) / "names.db")
        _import(url, known_csv)
        database = open_database(url)
        with database.connect() as conn:
            known = conn.execute(select(func.count()).select_from(ActorName)).scalar_one()
            titles = conn.execute(select(func.count()).select_from(Source)).scalar_one()
        database.close()
        names.SimilarityIndex.similar = timed_similar  # type: ignore[method-assign]
        names.SimilarityIndex.add = timed_add  # type: ignore[method-assign]
        try:
            started = time.perf_counter()
            result = _import(url, big_csv)
            wall = time.perf_counter() - started
        finally:
            names.SimilarityIndex.similar = similar  # type: ignore[method-assign]
            names.SimilarityIndex.add = add  # type: ignore[method-assign]
    checks = spent["similar"] + spent["add"]
    share = checks / wall
    report = Report(
        f"Name checks in a bulk import ({args.name_rows:,} rows; {known:,} known actor names "
        f"and {titles:,} source titles)",
        ["measure", "value", "target", "result"],
    )
    report.rows.append(["import wall time", f"{wall:.1f} s", "", ""])
    report.rows.append(
        [
            "new names checked",
            f"{spent['queries']:,} ({len(result.resembling):,} resemble known ones)",
            "",
            "",
        ]
    )
    report.rows.append(["index building", f"{spent['add']:.2f} s", "", ""])
    report.rows.append(["similarity queries", f"{spent['similar']:.2f} s", "", ""])
    ok = share <= TARGET
    report.rows.append(
        ["checks / import", f"{share * 100:.2f}%", f"<= {TARGET:.0%}", "pass" if ok else "FAIL"]
    )
    report.ok = ok
    report.notes.append(
        f"{result.actors_created:,} actors and {result.sources_created:,} sources created; "
        f"{result.rows:,} rows."
    )
    return report
