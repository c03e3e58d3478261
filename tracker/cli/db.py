"""tracker db ...: where the database is, its schema, its health, and backups."""

from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.common import Format, FormatOption, emit_record, group, open_db, say

app = group("Database status, checks, upgrades and backups.")


@app.command("status")
def status(fmt: FormatOption = Format.table) -> None:
    """Where the database is, its schema revision and what it holds.

    Example: tracker db status
    """
    from tracker.services.maintenance import status as build

    database = open_db()
    try:
        emit_record(build(database), fmt)
    finally:
        database.close()


@app.command("check")
def check(fmt: FormatOption = Format.table) -> None:
    """Check integrity, foreign keys and the search index; exit 1 on any problem.

    Example: tracker db check
    """
    from tracker.services.maintenance import check as run

    database = open_db()
    try:
        problems = run(database)
    finally:
        database.close()
    emit_record({"ok": not problems, "problems": problems}, fmt, problems or ["ok"])
    if problems:
        raise typer.Exit(1)


@app.command("upgrade")
def upgrade() -> None:
    """Bring the schema to the newest version (done automatically on first use too).

    Example: tracker db upgrade
    """
    from tracker.db import HEAD_REVISION

    database = open_db()  # opening upgrades
    database.close()
    say(f"schema is at revision {HEAD_REVISION}")


@app.command("backup")
def backup(
    path: Annotated[
        Path, typer.Argument(metavar="FILE", help="The backup file to create (must not exist).")
    ],
) -> None:
    """Write a consistent copy of a SQLite database while it stays in use (VACUUM INTO).

    Example: tracker db backup ~/tracker-2026-11-26.db
    """
    from tracker.services.maintenance import backup as run

    database = open_db()
    try:
        run(database, path)
    finally:
        database.close()
    say(f"backed up to {path}")
