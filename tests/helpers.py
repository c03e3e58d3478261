"""Helpers tests share, imported as `from helpers import ...` (pytest puts tests/ on the path).

Every helper reopens the database from its URL, as a user's next command would: what a test
checks is what was committed, not what a session still holds.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db import open_database
from tracker.models import Base, HistoryEntry


@contextmanager
def reopened(url: str) -> Iterator[Session]:
    """A read-only session on the database at `url`, opened afresh."""
    database = open_database(url)
    try:
        with database.session(write=False) as session:
            yield session
    finally:
        database.close()


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: to prove nothing changed at all."""
    database = open_database(url)
    try:
        with database.connect() as conn:
            return {
                name: [
                    tuple(row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for name, table in Base.metadata.tables.items()
            }
    finally:
        database.close()


def history_rows(url: str, entity: str, entity_id: int) -> list[tuple[str, str | None, Any]]:
    """(action, by, changes) of each history entry of one record, oldest first."""
    with reopened(url) as session:
        return [
            (e.action, e.by, e.changes)
            for e in session.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.entity == entity, HistoryEntry.entity_id == entity_id)
                .order_by(HistoryEntry.id)
            )
        ]
