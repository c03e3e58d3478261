"""What every command shares: the database option, sessions, output formats and messages.

Kept light on purpose: SQLAlchemy, Alembic and rich are imported only inside the functions that
use them, so `tracker --help` and shell completion start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from typer.core import TyperGroup, TyperOption

from tracker.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.orm import Session

    from tracker.db import Database


DB_HELP = "Database file path or SQLAlchemy URL."


def _db_after_command(ctx: Any, param: Any, value: str | None) -> None:
    # Parsed after `tracker --db`/TRACKER_DB has been applied, so the later one wins.
    if value is not None:
        set_db(value)


class CommandGroup(TyperGroup):
    """A group whose every command also takes `--db`, so it may follow the command as well as
    precede it (`tracker claim list --db x.db`): one option added here, not in each command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            _accept_db(command)

    def add_command(self, cmd: Any, name: str | None = None) -> None:
        super().add_command(cmd, name)
        _accept_db(cmd)


def _accept_db(command: Any) -> None:
    if isinstance(command, TyperGroup) or any("--db" in p.opts for p in command.params):
        return
    command.params.append(
        TyperOption(
            param_decls=["--db"],
            type=str,
            metavar="PATH|URL",
            expose_value=False,
            callback=_db_after_command,
            help=f"{DB_HELP[:-1]}; also accepted before the command, or from TRACKER_DB.",
        )
    )


def group(help: str) -> typer.Typer:
    """A command group. Plain Click help and errors: rich stays unloaded unless a table needs it."""
    return typer.Typer(cls=CommandGroup, no_args_is_help=True, rich_markup_mode=None, help=help)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="table for people; csv, json or jsonl for programs.",
    ),
]

NewOption = Annotated[
    bool,
    typer.Option(
        "--new",
        help="Names nobody has are new records even if they resemble known ones "
        "(otherwise refused with the candidates).",
    ),
]

_db_option: dict[str, str | None] = {"db": None}
# Standard streams that were closed when the program started (main() puts /dev/null in their
# place so no file the program opens can take their descriptor): name -> True.
closed_streams: dict[str, bool] = {}


def set_db(value: str | None) -> None:
    _db_option["db"] = value


def open_db(*, write: bool = True, migrate: bool = True) -> Database:
    """The selected database. Commands that only read pass write=False: a missing database is
    then an error rather than created, and a SQLite file is opened read-only."""
    from tracker.db import open_database

    return open_database(_db_option["db"], write=write, migrate=migrate, notify=say)


def database_url() -> URL:
    """The selected database's URL, without opening it."""
    from tracker.db import ENV_VAR, resolve_url

    db = _db_option["db"]
    return resolve_url(db if db is not None else os.environ.get(ENV_VAR))


def guard_output(
    path: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = ()
) -> None:
    """Refuse (exit 74, nothing written) an output that is the selected database, one of the
    files SQLite keeps beside it, or one of `inputs`; `-` is stdout and always allowed. Every
    command that writes a file calls this before it opens anything."""
    from tracker.outputs import refuse_overwrite

    refuse_overwrite(path, database=database_url(), inputs=inputs)


YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Make the change without asking (needed off a terminal)."),
]


def confirm(preview: Sequence[str], question: str, yes: bool) -> None:
    """Show what a change will do; on a terminal ask, elsewhere go on only with --yes."""
    for line in preview:
        say(line)
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise typer.BadParameter(
            "this change needs confirming: give --yes (nothing was changed)", param_hint="'--yes'"
        )
    if not typer.confirm(question, default=False, err=True):
        say("nothing changed")
        raise typer.Exit(1)


def say(message: str) -> None:
    """A message for the person at the terminal: stderr, so stdout stays data."""
    typer.echo(message, err=True)


@contextmanager
def session(*, write: bool = True) -> Iterator[Session]:
    """One transaction on the selected database; queued notes are printed once it commits."""
    database = open_db(write=write)
    try:
        with database.session(write=write) as s:
            yield s
            notes = list(s.info.get("notes", []))
    finally:
        database.close()
    for note in notes:
        say(note)


@contextmanager
def output_stream(output: str, *, inputs: Iterable[str] = ()) -> Iterator[TextIO]:
    """stdout for `-`; otherwise the named file, written aside and renamed into place only when
    complete, so a failed export never leaves half a file (devices and pipes are written as-is).
    The file is never the database or one of `inputs` (guard_output).
    """
    if output == "-":
        if sys.stdout is None or closed_streams.get("stdout"):
            raise StorageError("cannot write to standard output: it is closed")
        yield sys.stdout
        sys.stdout.flush()
        return
    guard_output(output, inputs=inputs)
    target = Path(output).expanduser()
    if not target.parent.is_dir():
        raise StorageError(f"cannot write {output!r}: folder {str(target.parent)!r} does not exist")
    try:
        if target.exists() and not target.is_file():
            with open(target, "w", encoding="utf-8", newline="") as out:
                yield out
            return
        partial = target.with_name(f".{target.name}.partial")
        try:
            with open(partial, "w", encoding="utf-8", newline="") as out:
                yield out
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        # Name the file the user gave (a full disk reports no file name of its own).
        raise OSError(exc.errno, exc.strerror, output) from None


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in value.items())
    return str(value)


def color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def print_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None
) -> None:
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, title_justify="left", highlight=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(_plain(row.get(c)) for c in columns))
        Console(no_color=not color()).print(table)
        return
    # Piped: aligned plain text, no box drawing, no colour.
    cells = [[_plain(row.get(c)).replace("\n", " ") for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    if title:
        typer.echo(title)
    typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def emit_rows(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    fmt: Format,
    *,
    title: str | None = None,
) -> int:
    """Print records in the chosen format; returns how many."""
    from tracker.services import export

    out = sys.stdout
    if fmt is Format.csv:
        return export.write_csv(rows, out, columns, safe=False)
    if fmt is Format.jsonl:
        return export.write_jsonl(rows, out)
    if fmt is Format.json:
        return export.write_json(rows, out)
    rows = list(rows)
    print_table(rows, columns, title)
    return len(rows)


def emit_record(record: dict[str, Any], fmt: Format, text: Iterable[str] | None = None) -> None:
    """Print one record: as JSON for programs, else as readable lines (`text`, or key: value)."""
    import json

    if fmt in (Format.json, Format.jsonl):
        indent = 2 if fmt is Format.json else None
        typer.echo(json.dumps(record, ensure_ascii=False, indent=indent))
        return
    if fmt is Format.csv:
        emit_rows([record], list(record), fmt)
        return
    lines = text if text is not None else (f"{k}: {_plain(v)}" for k, v in record.items())
    for line in lines:
        typer.echo(line)


def heading(title: str) -> str:
    return typer.style(title, bold=True) if color() else title
