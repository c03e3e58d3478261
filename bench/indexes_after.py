"""Experiment: does building secondary indexes after a large import into an empty database pay?

Times `import_flat` in process into a fresh database, twice per backend, back to back:

- plain: the tracker's import as it ships;
- after: in the same transaction, the secondary (non-unique) indexes of the tables the import
  fills are dropped first and created again after the import, before the commit; with
  `--search` also the search index (SQLite: the FTS5 insert trigger is dropped and the index
  rebuilt at the end; PostgreSQL: the GIN index is dropped and created again).

Primary keys and unique keys stay: the import relies on them. The result is the time of each and
whether every index came back (compared by definition). Not part of run.py: its figures are in
bench/README.md ("Indexes after the import").

    python bench/indexes_after.py FILE.csv [--postgres-url URL] [--no-sqlite] [--search]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

from tracker.db import open_database
from tracker.services.flat import Reader
from tracker.services.importer import import_flat

# The tables an import of the flat format fills.
TABLES = (
    "claim",
    "appearance",
    "claim_subject",
    "claim_tag",
    "claim_stance",
    "claim_incident",
    "verdict",
    "history",
)


def secondary_indexes(conn: Connection, search: bool) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the droppable indexes of TABLES."""
    listed = ", ".join(f"'{t}'" for t in TABLES)
    if conn.dialect.name == "sqlite":
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({listed}) AND sql NOT LIKE :unique ORDER BY name"
        )
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            f"AND tablename IN ({listed}) AND indexdef NOT LIKE :unique ORDER BY 1"
        )
    rows = conn.execute(text(query), {"unique": "CREATE UNIQUE%"}).all()
    found = [(str(name), str(sql)) for name, sql in rows]
    return [(n, s) for n, s in found if search or n != "ix_claim_search"]


def schema_snapshot(conn: Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        ).all()
    else:
        rows = conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1"
        ).all()
    return [str(r[0]) for r in rows]


@contextlib.contextmanager
def indexes_after(conn: Connection, search: bool) -> Iterator[None]:
    """Drop the secondary indexes (and, with `search`, SQLite's FTS insert trigger) now, and
    create them again when the block ends."""
    sqlite = conn.dialect.name == "sqlite"
    dropped = secondary_indexes(conn, search=search and not sqlite)
    trigger = None
    if search and sqlite:
        trigger = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'claim_fts_insert'"
        ).scalar_one()
        conn.exec_driver_sql("DROP TRIGGER claim_fts_insert")
    for name, _ in dropped:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    yield
    for _, sql in dropped:
        conn.exec_driver_sql(sql)
    if trigger is not None:
        # The database was empty: every claim is the import's, so a rebuild indexes just those.
        conn.exec_driver_sql("INSERT INTO claim_fts(claim_fts) VALUES ('rebuild')")
        conn.exec_driver_sql(trigger)


def timed_import(url: str, csv_path: Path, variant: str) -> tuple[float, list[str]]:
    db = open_database(url)
    try:
        with db.connect() as conn:
            before = schema_snapshot(conn)
        started = time.perf_counter()
        with open(csv_path, "rb") as stream, db.session() as session:
            conn = session.connection()
            reader = Reader(stream, str(csv_path), "csv")
            if variant == "plain":
                import_flat(session, reader, name=str(csv_path))
            else:
                with indexes_after(conn, search=variant == "after+search"):
                    import_flat(session, reader, name=str(csv_path))
        seconds = time.perf_counter() - started
        with db.connect() as conn:
            after = schema_snapshot(conn)
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("INSERT INTO claim_fts(claim_fts) VALUES ('integrity-check')")
        changed = [s for s in before if s not in after] + [s for s in after if s not in before]
        return seconds, changed
    finally:
        db.close()


def fresh_postgres(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--postgres-url", help="admin URL; PostgreSQL is skipped without it")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--search", action="store_true", help="rebuild the search index too")
    args = parser.parse_args(argv)
    variants = ["plain", "after+search" if args.search else "after"]
    with tempfile.TemporaryDirectory(prefix="indexes-after-") as work:
        for backend in ["sqlite"] * (not args.no_sqlite) + ["postgresql"] * bool(args.postgres_url):
            for variant in variants:
                if backend == "sqlite":
                    url = str(Path(work) / f"{variant}.db")
                else:
                    url = fresh_postgres(args.postgres_url, "tracker_indexes_after")
                # Schema first, untimed: the user's database exists before the import.
                open_database(url).close()
                seconds, changed = timed_import(url, args.csv, variant)
                verdict = "indexes as before" if not changed else f"CHANGED: {changed}"
                print(f"{backend:10} {variant:13} {seconds:7.1f} s  {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
