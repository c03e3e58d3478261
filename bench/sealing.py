"""What the history's hash chain costs a bulk import: every history entry the import writes is
sealed (numbered, hashed, chained) just before its transaction commits (tracker.chain.seal).

The import of a generated feed runs in process into an empty database, on SQLite and, when a
server is reachable, PostgreSQL (the bulk benchmark's --postgres-url); the time spent in
`seal` is summed by wrapping it, and compared with the import's wall time. No target: the
figure is reported (issue 15 asks what sealing costs).

Usage: python bench/run.py --only sealing [--seal-rows N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from common import DATA_DIR, Options, Report, cached_flat_csv

NAME = "sealing"
DESCRIPTION = "cost of sealing the history's hash chain in a bulk import"


def add_arguments(parser: Options) -> None:
    parser.add_argument(
        "--seal-rows", type=int, default=1_000_000, help="rows of the timed import (sealing)"
    )


def _import(url: str, path: Path) -> tuple[float, float, float, int]:
    """Wall time of the import, time spent sealing, of it the time the chain's head was
    locked (what other writers may wait for), and entries sealed."""
    from tracker import chain
    from tracker.db import open_database
    from tracker.services.flat import Reader
    from tracker.services.importer import import_flat

    spent = {"seconds": 0.0, "locked": 0.0, "entries": 0, "since": 0.0}
    seal, head = chain.seal, chain.head

    def timed(conn: Any) -> int:
        started = time.perf_counter()
        spent["since"] = 0.0
        try:
            sealed = seal(conn)
            spent["entries"] += sealed
            return sealed
        finally:
            ended = time.perf_counter()
            spent["seconds"] += ended - started
            if spent["since"]:
                spent["locked"] += ended - spent["since"]

    def timed_head(conn: Any, *, lock: bool = False) -> Any:
        if lock:
            spent["since"] = time.perf_counter()
        return head(conn, lock=lock)

    database = open_database(url)
    chain.seal, chain.head = timed, timed_head  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        with open(path, "rb") as stream, database.session() as session:
            import_flat(session, Reader(stream, path.name, "csv"), name=path.name)
        wall = time.perf_counter() - started
    finally:
        chain.seal, chain.head = seal, head  # type: ignore[assignment]
        database.close()
    return wall, spent["seconds"], spent["locked"], int(spent["entries"])


def _row(backend: str, wall: float, sealing: float, locked: float, entries: int) -> list[str]:
    per_entry = sealing / entries * 1e6 if entries else 0.0
    return [
        backend,
        f"{wall:.1f} s",
        f"{entries:,}",
        f"{sealing:.2f} s",
        f"{locked:.2f} s",
        f"{per_entry:.1f}",
        f"{sealing / wall * 100:.1f}%",
    ]


def run(args: argparse.Namespace) -> Report:
    import bulk_postgres

    csv, _ = cached_flat_csv(args.seal_rows, args.seed)
    report = Report(
        f"Sealing the history chain in a bulk import ({args.seal_rows:,} rows, empty database)",
        ["backend", "import", "entries sealed", "sealing", "head locked", "us/entry", "share"],
    )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="sealing-") as folder:
        report.rows.append(_row("sqlite", *_import(str(Path(folder) / "s.db"), csv)))
    server, note = bulk_postgres.connect(args)
    if server is not None:
        with bulk_postgres.fresh_database(server, keep=False) as url:
            figures = _import(url.render_as_string(hide_password=False), csv)
        report.rows.append(_row("postgresql", *figures))
    report.notes.append(
        f"PostgreSQL: {note}. Sealing runs once, as the import commits; other writers wait "
        "for the chain's head only while it is locked."
    )
    return report
