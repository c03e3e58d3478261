"""Helpers tests share, imported as `from helpers import ...` (pytest puts tests/ on the path).

Every helper reopens the database from its URL, as a user's next command would: what a test
checks is what was committed, not what a session still holds.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
    database = open_database(url, write=False)
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


# Every row, read without changing anything (the name some tests use).
snapshot = dump


def run_tracker(
    *args: str, env: dict[str, str] | None = None, as_nobody: bool = False, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """The real `tracker` in a subprocess (for closed streams, other users, resource limits)."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(Path(__file__).parent.parent)
    preexec = kwargs.pop("preexec_fn", None)
    command = [sys.executable, "-m", "tracker", *args]
    if as_nobody:
        # The interpreter lives under /root, which nobody cannot read: start as root, load
        # every module, then become nobody before the command runs.
        command = [sys.executable, "-c", _AS_NOBODY, *args]
    return subprocess.run(
        command,
        env=full_env,
        capture_output=True,
        text=True,
        errors="replace",
        preexec_fn=preexec,
        timeout=60,
        **kwargs,
    )


_AS_NOBODY = """
import importlib, os, pkgutil, pwd, sys
import sqlite3, csv, json, getpass, uuid, traceback, urllib.parse
import sqlalchemy.dialects.sqlite, sqlalchemy.orm, sqlalchemy.sql.default_comparator
import tracker, tracker.cli, tracker.services, tracker.migrations
for package in (tracker, tracker.cli, tracker.services):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
import rich.console, rich.table, platformdirs
nobody = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(nobody.pw_gid)
os.setuid(nobody.pw_uid)
os.environ["HOME"] = "/nonexistent"
sys.argv = ["tracker", *sys.argv[1:]]
tracker.cli.main()
"""
