"""The `tracker` command: assembles the command groups and turns errors into one-line messages."""

import errno
import os
import sys
from typing import Annotated, Any

import typer
from typer._click.core import Command, Context
from typer._click.exceptions import ClickException
from typer._click.types import INT, IntRange
from typer.core import TyperOption

from tracker import __version__
from tracker.cli import actor, claim, db, export, imports, incident, report, source
from tracker.cli.common import DB_HELP, CommandGroup, closed_streams, set_db
from tracker.cli.graph import graph
from tracker.cli.search import search
from tracker.errors import EXIT_DATAERR, EXIT_ERROR, EXIT_IOERR, TrackerError, UsageError

# Counts given as options (--limit, --top ...) are bounded here, once for every command: a
# value past 64 bits or below zero is a usage error rather than an overflow in the driver.
MAX_COUNT = 2**31 - 1


class _BadArgument(ClickException):
    exit_code = EXIT_DATAERR


def _redact(text: str) -> str:
    from tracker.db import redact

    return redact(text)


def _debug_traceback(exc: BaseException) -> None:
    """The traceback for TRACKER_DEBUG=1, printed with every secret of the URL masked."""
    import traceback

    text = "".join(traceback.format_exception(exc))
    sys.stderr.write(_redact(text))


def _printable(value: str) -> str:
    return repr(value.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def _bound_counts(command: Command) -> None:
    for param in command.params:
        if isinstance(param, TyperOption) and param.type is INT:
            param.type = IntRange(0, MAX_COUNT)
    for sub in getattr(command, "commands", {}).values():
        _bound_counts(sub)


class _Root(CommandGroup):
    """Turns the tracker's own errors into one line on stderr and the exit code they carry;
    TRACKER_DEBUG=1 shows the traceback instead (with any password masked)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _bound_counts(self)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        # Bytes that are not UTF-8 reach Python as lone surrogates, which no database can store.
        for position, arg in enumerate(args, 1):
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:
                raise _BadArgument(
                    f"argument {position} ({_printable(arg)}) is not valid UTF-8"
                ) from None
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        debug = bool(os.environ.get("TRACKER_DEBUG"))
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except TrackerError as exc:
            if debug:
                _debug_traceback(exc)
            typer.echo(f"Error: {_redact(str(exc))}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # Click quietly ends a command whose reader went away (`| head`)
            if debug:
                _debug_traceback(exc)
            where = f" {_redact(str(exc.filename))!r}" if exc.filename else ""
            reason = _redact(exc.strerror or str(exc))
            typer.echo(f"Error: cannot read or write{where}: {reason}", err=True)
            raise typer.Exit(EXIT_IOERR) from None
        except Exception as exc:
            if debug:
                _debug_traceback(exc)
            if isinstance(exc, ValueError) and "null byte" in str(exc):
                # A NUL in a file name given on the command line: no system call takes one.
                typer.echo("Error: a file name contains a NUL character", err=True)
                raise typer.Exit(EXIT_DATAERR) from None
            # A bug, not a user's mistake: still one line (and no secret); the traceback on
            # request.
            reason = _redact(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            typer.echo(
                f"Error: internal error ({type(exc).__name__}: {reason}); "
                "TRACKER_DEBUG=1 shows where",
                err=True,
            )
            raise typer.Exit(EXIT_ERROR) from None


app = typer.Typer(
    cls=_Root,
    name="tracker",
    help=(
        "Record who claimed what, where it was said, whom it is about, and who disputes it.\n\n"
        "The database is a SQLite file in your user data folder unless --db or TRACKER_DB "
        "names another file or a SQLAlchemy URL (postgresql+psycopg://...)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(claim.app, name="claim")
app.add_typer(actor.app, name="actor")
app.add_typer(source.app, name="source")
app.add_typer(incident.app, name="incident")
app.command("search")(search)
app.add_typer(report.app, name="report")
app.command("graph")(graph)
app.add_typer(imports.app, name="import")
app.add_typer(export.app, name="export")
app.add_typer(db.app, name="db")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tracker {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    database: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH|URL",
            envvar="TRACKER_DB",
            help=DB_HELP,
            show_envvar=True,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    # Click reads an empty TRACKER_DB as unset; an empty name is a mistake either way, never a
    # request for the default database.
    if database is None and os.environ.get("TRACKER_DB") == "":
        raise UsageError("TRACKER_DB is set but empty: give a database file path or URL")
    if database is not None and not database.strip():
        raise UsageError("--db is empty: give a database file path or URL")
    set_db(database)


def _reserve_closed_streams() -> None:
    """A standard stream closed by the caller (`>&-`) leaves its descriptor free, and the next
    file opened (the database!) would take it: anything written to "stdout" would land in it.
    Hold each free one with /dev/null and remember it was closed."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            held = os.open(os.devnull, os.O_RDWR)
            if held != fd:
                os.dup2(held, fd)
                os.close(held)
            closed_streams[name] = True


def main() -> None:
    """Console entry point."""
    import atexit
    import gc

    _reserve_closed_streams()
    if closed_streams.get("stderr"):
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (messages have nowhere to go)
    # Skip the collector's sweep of every object at interpreter exit (~0.1 s measured here).
    atexit.register(gc.freeze)
    app()
