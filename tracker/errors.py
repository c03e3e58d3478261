"""The tracker's own errors. Each carries the exit code the CLI returns for it (docs/cli.md)."""

from collections.abc import Sequence

EXIT_ERROR = 1
EXIT_USAGE = 2  # as Click's own usage errors
EXIT_DATAERR = 65  # bad input data (BSD sysexits EX_DATAERR)
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE: a program the command needs is not installed
EXIT_IOERR = 74  # EX_IOERR
EXIT_LOCKED = 75  # EX_TEMPFAIL: the database is busy; trying again later may work


class TrackerError(Exception):
    """Base class: a message fit to show a user on one line."""

    exit_code = EXIT_ERROR


class InvalidInput(TrackerError):
    """A value given by the user is not acceptable (bad date, URL, grade, empty text ...)."""

    exit_code = EXIT_DATAERR


class NotFound(TrackerError):
    """A reference to an actor, source or claim matched nothing."""


class Ambiguous(TrackerError):
    """A reference matched several records."""

    def __init__(self, what: str, ref: str, candidates: Sequence[str]) -> None:
        listed = "; ".join(candidates)
        super().__init__(f"{what} {ref!r} is ambiguous: it matches {listed}. Use the id.")
        self.candidates = list(candidates)


class Conflict(TrackerError):
    """The change would break a rule of the data (duplicate link, delete of a linked claim ...)."""


class StorageError(TrackerError):
    """The database cannot be opened, read or written."""

    exit_code = EXIT_IOERR


class DatabaseLocked(TrackerError):
    exit_code = EXIT_LOCKED


class UsageError(TrackerError):
    """The command line itself is wrong (an empty --db, say): as Click's usage errors."""

    exit_code = EXIT_USAGE


class ReadOnlyDatabase(StorageError):
    """A change was asked of a database this process can only read."""


class OutputRefused(StorageError):
    """An output would overwrite the database or an input being read."""


class DamagedDatabase(StorageError):
    """The database file is corrupt: `db check` reports it as a failed check."""


class ToolMissing(TrackerError):
    """A program the command needs (Graphviz's dot ...) is not installed."""

    exit_code = EXIT_UNAVAILABLE


class PermissionDenied(TrackerError):
    """The database role may not make this change (a reader writing, an editor migrating)."""
