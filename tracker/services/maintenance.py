"""Looking after the database itself: status, integrity checks and online backups."""

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from tracker.db import Database, describe, run_outside_transaction, stored_revision
from tracker.errors import InvalidInput, StorageError
from tracker.models import Actor, Appearance, Claim, HistoryEntry, Link, Source, VerdictEntry

COUNTED = {
    "actors": Actor,
    "sources": Source,
    "claims": Claim,
    "appearances": Appearance,
    "links": Link,
    "verdicts": VerdictEntry,
    "history": HistoryEntry,
}


def status(database: Database) -> dict[str, Any]:
    with database.connect() as conn:
        counts = {
            name: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in COUNTED.items()
        }
        revision = stored_revision(conn)
    return {
        "database": describe(database.url),
        "backend": database.backend,
        "revision": revision,
        **counts,
    }


def check(database: Database) -> list[str]:
    """Every problem found, as a sentence; an empty list means the database is sound."""
    problems: list[str] = []
    with database.connect() as conn:
        if database.backend == "sqlite":
            for (line,) in conn.exec_driver_sql("PRAGMA integrity_check"):
                if line != "ok":
                    problems.append(f"integrity: {line}")
            for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check"):
                problems.append(f"foreign key: {table} row {rowid} points at a missing {parent}")
            try:
                # Compares the FTS5 index with the claim table it indexes, entry by entry.
                conn.exec_driver_sql(
                    "INSERT INTO claim_fts(claim_fts, rank) VALUES ('integrity-check', 1)"
                )
            except DBAPIError:
                problems.append("search index is out of step with the claims: rebuild it")
    from tracker.services.integrity import check_database  # every row against its rules

    return problems + check_database(database)


def backup(database: Database, path: Path) -> None:
    """A consistent copy made by SQLite itself (VACUUM INTO), safe while others write."""
    if database.backend != "sqlite":
        raise InvalidInput(
            "db backup copies SQLite databases; on PostgreSQL use pg_dump or 'tracker export all'"
        )
    target = path.expanduser()
    if target.exists():
        raise InvalidInput(f"{str(target)!r} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise StorageError(
            f"cannot write {str(target)!r}: folder {str(target.parent)!r} does not exist"
        )
    with database.engine.connect() as conn:
        run_outside_transaction(conn, "VACUUM INTO ?", (str(target),))
