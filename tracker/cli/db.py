"""tracker db ...: where the database is, its schema, its health, and backups."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.common import (
    Format,
    FormatOption,
    emit_record,
    emit_rows,
    group,
    guard_output,
    open_db,
    print_table,
    progress,
    say,
)

app = group("Database status, checks, upgrades, the search index and backups.")


@app.command("status")
def status(fmt: FormatOption = Format.table) -> None:
    """Where the database is, its schema revision and what it holds. A schema from an older or
    newer tracker is described (revision found, what to do) and left as it is.

    Example: tracker db status
    """
    from tracker.services.maintenance import status as build

    database = open_db(write=False, migrate=False)
    try:
        emit_record(build(database), fmt)
    finally:
        database.close()


@app.command("check")
def check(fmt: FormatOption = Format.table) -> None:
    """Check integrity, foreign keys, the search index, the history's hash chain and every row
    against the rules the commands apply (vocabularies, dates, limits, hashes and keys); exit 1
    on any problem, a damaged file included. A history entry altered, deleted, moved or cut
    off the end is named (`history entry #12 (seq 12): hash does not match its content`).
    Dates that cannot be right (a source dated before one it cites, a claim stated before its
    earliest source), and history entries written around tracker, not yet sealed, are
    warnings: exit 0. Reads only: the answer is the same whoever runs it.

    Example: tracker db check
    """
    from tracker.errors import DamagedDatabase
    from tracker.services.attribution import check_chronology
    from tracker.services.maintenance import chain_warnings
    from tracker.services.maintenance import check as run

    warnings: list[str] = []
    try:
        database = open_db(write=False)
    except DamagedDatabase as exc:
        problems = [f"damaged: {exc}"]
    else:
        try:
            problems = run(database)
            if not problems:
                # Dates that cannot be right (a source citing a later one): worth a look, but
                # the database itself is sound, so they do not fail the check.
                with database.session(write=False) as s:
                    warnings = check_chronology(s)
                warnings += chain_warnings(database)
        finally:
            database.close()
    lines = (problems or ["ok"]) + [f"warning: {w}" for w in warnings]
    emit_record({"ok": not problems, "problems": problems, "warnings": warnings}, fmt, lines)
    if problems:
        raise typer.Exit(1)


@app.command("reindex")
def reindex() -> None:
    """Rebuild the search index from the claims, as `tracker db check` may advise.

    On SQLite this is FTS5's `rebuild`. On PostgreSQL the search column is generated from each
    claim and always current, so this rebuilds its index (REINDEX INDEX ix_claim_search).

    Example: tracker db reindex
    """
    from tracker.services.maintenance import reindex as run

    database = open_db()
    try:
        with progress(None, "rebuilding the search index", rows=False):
            done = run(database)
    finally:
        database.close()
    say(done)


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

    A backup that fails (full disk, read-only folder, damaged database) removes what it wrote.

    Example: tracker db backup ~/tracker-2026-11-26.db
    """
    from tracker.services.maintenance import backup as run

    guard_output(path)
    database = open_db(write=False)
    try:
        run(database, path)
    finally:
        database.close()
    say(f"backed up to {path}")


class Prefer(StrEnum):
    ours = "ours"
    theirs = "theirs"


@app.command("merge")
def merge(
    other: Annotated[
        str,
        typer.Argument(
            metavar="OTHER",
            help="The notebook to bring in: a database file, a URL, or an `export all` folder.",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")
    ] = False,
    prefer: Annotated[
        Prefer | None,
        typer.Option(help="Settle records changed on both sides: keep ours or take theirs."),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Bring another notebook (a laptop's copy, a colleague's database) into this one, by uid.

    Records new there are added (new ids here, same uids); records changed on one side only take
    that side's state (a history entry says `merged from OTHER`); records changed on both sides
    are conflicts, listed and left alone unless --prefer. Verdicts and history from both sides
    are kept. A record already here under the same name (an actor's, a source's title and URL)
    is that record. Deletions on either side are listed, not carried over. All or nothing;
    merging twice changes nothing. OTHER is only read.

    Example: tracker db merge ~/laptop-tracker.db --dry-run
    """
    from tracker.services.notebook_merge import merge_notebook

    database = open_db(write=not dry_run)
    try:
        plan = merge_notebook(
            database, other, prefer=prefer.value if prefer else None, dry_run=dry_run
        )
    finally:
        database.close()
    summary = plan.summary()
    columns = ["kind", "added", "updated", "conflicts", "unchanged"]
    if fmt is Format.csv:
        emit_rows(summary["kinds"], columns, fmt)
        return
    if fmt is not Format.table:
        emit_record(summary | {"dry_run": dry_run}, fmt)
        return
    title = f"{'would merge' if dry_run else 'merged'} {plan.other} (updated: from theirs)"
    print_table(summary["kinds"], columns, title)
    if plan.history_skipped:
        typer.echo(
            f"{plan.history_skipped} history entries of records made and deleted there were "
            "left out: nothing here is what they are about"
        )
    if plan.history_held:
        typer.echo(
            f"{plan.history_held} history entries of conflicting records stay there until "
            "the conflict is settled (--prefer, or edits that make both sides agree)"
        )
    for note in summary["notes"]:
        typer.echo(note)
    if dry_run:
        typer.echo("nothing was changed (--dry-run)")


@app.command("grant")
def grant(
    role: Annotated[str, typer.Argument(metavar="ROLE", help="A person's database role.")],
    reader: Annotated[bool, typer.Option("--reader", help="May read everything.")] = False,
    editor: Annotated[
        bool, typer.Option("--editor", help="May also write records; history only grows.")
    ] = False,
    admin: Annotated[
        bool, typer.Option("--admin", help="Owns the schema: migrates and grants.")
    ] = False,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Take every tracker level away from ROLE.")
    ] = False,
) -> None:
    """Give a PostgreSQL role one level: reader, editor or admin (PostgreSQL only).

    The role is created (LOGIN, no password: set one with ALTER ROLE, or rely on pg_hba) if
    missing, and made a member of this database's group `<database>_reader`, `_editor` or
    `_admin` (created on first use), and of no other: granting again changes the level. Run by
    the database owner or a superuser (CREATEROLE is needed to create roles).

    Example: tracker db grant alice --editor
    """
    from tracker.errors import UsageError
    from tracker.services.roles import Level
    from tracker.services.roles import grant as run

    chosen = [level for level, on in zip(Level, (reader, editor, admin), strict=True) if on]
    if len(chosen) + revoke != 1:
        raise UsageError("give exactly one of --reader, --editor, --admin or --revoke")
    level = None if revoke else chosen[0]
    database = open_db()
    try:
        if database.backend != "postgresql":
            raise UsageError(
                "db grant is for PostgreSQL: a SQLite file is guarded by its file permissions"
            )
        with database.connect(write=True) as conn:
            done = run(conn, role, level)
    finally:
        database.close()
    made = "created role " + repr(done.role) + "; " if done.created else ""
    if done.group is None:
        say(f"{made}revoked every tracker level from {done.role!r}")
    else:
        say(f"{made}{done.role!r} is now {done.level} (member of {done.group!r})")
