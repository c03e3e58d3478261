"""The `tracker` command: assembles the command groups and turns errors into one-line messages."""

import os
import sys
from typing import Annotated

import typer

from tracker import __version__
from tracker.cli import actor, claim, db, export, report, source
from tracker.cli.common import set_db
from tracker.cli.search import search
from tracker.errors import EXIT_IOERR, TrackerError

app = typer.Typer(
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
app.command("search")(search)
app.add_typer(report.app, name="report")
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
            envvar="TRACKER_DB",
            help="Database file path or SQLAlchemy URL.",
            show_envvar=True,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    set_db(database)


def main() -> None:
    """Entry point: run the app; print our own errors as one line, with the exit code they carry."""
    import atexit
    import gc

    # Skip the collector's sweep of every object at interpreter exit (~0.1 s measured here).
    atexit.register(gc.freeze)
    debug = bool(os.environ.get("TRACKER_DEBUG"))
    try:
        app()
    except TrackerError as exc:
        if debug:
            raise
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        # The reader went away (`| head`): not an error of ours. Point stdout at nothing so the
        # interpreter's final flush does not complain.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:
        if debug:
            raise
        where = f" {exc.filename!r}" if exc.filename else ""
        typer.echo(f"Error: cannot read or write{where}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_IOERR)
