"""Looking after the database itself: status, integrity checks, the search index and backups."""

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tracker.chain import head, unsealed, verify
from tracker.db import (
    HEAD_REVISION,
    Database,
    copy_into,
    describe,
    known_revisions,
    newer_message,
    stored_revision,
)
from tracker.errors import InvalidInput, ReadOnlyDatabase, StorageError, TrackerError
from tracker.models import Actor, Appearance, Claim, HistoryEntry, Link, Source, VerdictEntry
from tracker.outputs import refuse_overwrite

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
    """Where the database is, its revision and counts. A schema this tracker cannot read (a
    newer one, or one not yet upgraded) is described by its revision and what to do."""
    with database.connect() as conn:
        revision = stored_revision(conn)
        about = {"database": describe(database.url), "backend": database.backend}
        if revision != HEAD_REVISION:
            if revision is not None and revision not in known_revisions():
                todo = newer_message(revision)
            else:
                todo = f"run `tracker db upgrade` to bring it to {HEAD_REVISION}"
            return {**about, "revision": revision, "expected": HEAD_REVISION, "action": todo}
        counts = {
            name: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in COUNTED.items()
        }
        chain = head(conn)
    return {
        **about,
        "revision": revision,
        **counts,
        "chain_head": f"seq {chain.seq} {chain.hash}" if chain.hash else f"seq {chain.seq}",
    }


FTS_CHECK = "INSERT INTO claim_fts(claim_fts, rank) VALUES ('integrity-check', 1)"


def check(database: Database) -> list[str]:
    """Every problem found, as a sentence; an empty list means the database is sound. A damaged
    file is a problem found, not an error."""
    problems: list[str] = []
    try:
        with database.connect() as conn:
            if database.backend == "sqlite":
                for (line,) in conn.exec_driver_sql("PRAGMA integrity_check"):
                    if line != "ok":
                        problems.append(f"integrity: {line}")
                for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check"):
                    problems.append(
                        f"foreign key: {table} row {rowid} points at a missing {parent}"
                    )
        if database.backend == "sqlite" and not problems and not _search_index_in_step(database):
            problems.append("search index is out of step with the claims: run `tracker db reindex`")
    except StorageError as exc:
        problems.append(f"damaged: {exc}")
        return problems
    from tracker.services.integrity import check_database  # every row against its rules

    with database.connect() as conn:
        problems += verify(conn)
    return problems + check_database(database)


def chain_warnings(database: Database) -> list[str]:
    """History entries written straight in SQL, around tracker: not wrong, but not yet in the
    chain either (the next change made through tracker seals them)."""
    with database.connect() as conn:
        ids = unsealed(conn)
    if not ids:
        return []
    shown = ", ".join(f"#{i}" for i in ids)
    return [f"history entries {shown} are not sealed yet: written around tracker"]


def _search_index_in_step(database: Database) -> bool:
    """FTS5's own comparison of the index with the claims. It is worded as an INSERT, which a
    read-only connection refuses: then it runs on an in-memory copy, so whoever runs the check
    gets the same answer."""
    if not database.readonly:
        try:
            with database.connect(write=True) as conn:
                conn.execution_options(tracker_seal=False)
                conn.exec_driver_sql(FTS_CHECK)
            return True
        except ReadOnlyDatabase:
            pass  # below
        except TrackerError:
            return False  # FTS5 reports a mismatch as a corrupt index
    source = database.engine.raw_connection()
    copy = sqlite3.connect(":memory:")
    try:
        source.driver_connection.backup(copy)  # type: ignore[union-attr]
        copy.execute(FTS_CHECK)
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        source.close()
        copy.close()


def reindex(database: Database) -> str:
    """Rebuild the search index from the claims; returns what was done."""
    with database.connect(write=True) as conn:
        if database.backend == "sqlite":
            conn.exec_driver_sql("INSERT INTO claim_fts(claim_fts) VALUES ('rebuild')")
            return "rebuilt the search index (FTS5)"
        conn.exec_driver_sql("REINDEX INDEX ix_claim_search")
        return "rebuilt the search index (REINDEX INDEX ix_claim_search)"


def backup(database: Database, path: Path) -> None:
    """A consistent copy made by SQLite itself (VACUUM INTO), safe while others write. A failed
    backup removes what it wrote, so a retry can use the same name."""
    if database.backend != "sqlite":
        raise InvalidInput(
            "db backup copies SQLite databases; on PostgreSQL use pg_dump or 'tracker export all'"
        )
    target = path.expanduser()
    refuse_overwrite(target, database=database.url)
    if target.exists() or target.is_symlink():
        raise InvalidInput(f"{str(target)!r} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise StorageError(
            f"cannot write {str(target)!r}: folder {str(target.parent)!r} does not exist"
        )
    reason = copy_into(database, target)
    if reason is not None:
        if "malformed" in reason or "not a database" in reason:
            raise StorageError(
                f"cannot back up: the database is damaged ({reason}); run `tracker db check`"
            ) from None
        raise StorageError(f"cannot write the backup {str(target)!r}: {reason}") from None
