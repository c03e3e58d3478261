"""Opening a database: where it lives, connection settings, and keeping its schema current.

Checking the schema is one query (the stored Alembic revision against HEAD_REVISION); Alembic is
imported only when there is something to upgrade, so everyday commands stay fast.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from tracker.errors import (
    DamagedDatabase,
    DatabaseLocked,
    PermissionDenied,
    ReadOnlyDatabase,
    StorageError,
    TrackerError,
    UsageError,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The newest migration in migrations/versions; a test keeps the two in step.
HEAD_REVISION = "0010"
BUSY_TIMEOUT_MS = 5000
ENV_VAR = "TRACKER_DB"
# How many times a PostgreSQL unit of work that lost a race to another writer is run in all.
ATTEMPTS_ENV = "TRACKER_WRITE_ATTEMPTS"
DEFAULT_ATTEMPTS = 5
MAX_ATTEMPTS = 20
# SQLSTATEs after which running the whole unit of work again can succeed: PostgreSQL aborted it
# to let another writer on (a serialization failure, or the victim of a deadlock), or another
# writer committed a unique key first (the new run finds that record instead of inserting it).
SERIALIZATION_FAILURE = "40001"
DEADLOCK = "40P01"
UNIQUE_VIOLATION = "23505"
RETRYABLE = {
    SERIALIZATION_FAILURE: "a serialization failure",
    DEADLOCK: "a deadlock",
    UNIQUE_VIOLATION: "a key taken by another writer",
}
T = TypeVar("T")
# Any constant: the key of the advisory lock PostgreSQL schema changes queue on.
MIGRATION_LOCK_KEY = 0x7472_6163_6B65_72  # "tracker"


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("tracker", appauthor=False) / "tracker.db"


# Query keys that carry a secret in a database URL. libpq's `password` and `sslpassword` (the
# key file's passphrase); and, for other drivers, any key naming a password, secret or token.
# Paths (`passfile`, `sslkey`, `sslcert`) are not secrets and stay visible.
SECRET_QUERY_KEYS = ("password", "sslpassword")
_SECRET_KEY_PARTS = ("password", "passwd", "pwd", "secret", "token")
MASK = "***"
# Every secret seen in a URL this process was given: whatever text leaves the program (an
# error, a debug traceback) is passed through redact() first, so a driver or library that
# echoes a connection string cannot leak one.
_secrets: set[str] = set()
_USERINFO = re.compile(r"(://[^/@:?#]*:)([^@/?#]*)(@)")
_QUERY = re.compile(r"([?&;]([^=&;#]+)=)([^&;#]*)")


def is_secret_key(key: str) -> bool:
    key = key.lower()
    return key in SECRET_QUERY_KEYS or any(part in key for part in _SECRET_KEY_PARTS)


def _remember(secret: str | None) -> None:
    if secret:
        from urllib.parse import quote, unquote

        _secrets.update({secret, quote(secret, safe=""), unquote(secret)} - {""})


def _remember_secrets(raw: str) -> None:
    """Collect the secrets of a URL as given, before any parsing that could fail on it."""
    if "://" not in raw:
        return
    for match in _USERINFO.finditer(raw):
        _remember(match.group(2))
    for match in _QUERY.finditer(raw):
        if is_secret_key(match.group(2)):
            _remember(match.group(3))


# Shorter ones would mask ordinary words in every message; URLs themselves are always masked
# by hide_password(), whatever the length.
MIN_REDACTED = 4


def redact(text: str) -> str:
    """`text` with every known secret (of MIN_REDACTED characters or more) replaced by ***."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if len(secret) < MIN_REDACTED:
            continue
        text = text.replace(secret, MASK)
    return text


def resolve_url(db: str | None) -> URL:
    """A file path or any SQLAlchemy URL (--db, TRACKER_DB); by default, the user data folder."""
    if db is None:
        path = default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return URL.create("sqlite+pysqlite", database=str(path))
    if not db.strip():
        raise UsageError("the database is empty: give a file path or URL (--db, TRACKER_DB)")
    if "\x00" in db:
        raise UsageError("the database path contains a NUL character")
    if "://" in db:
        _remember_secrets(db)
        try:
            url = make_url(db)
            url.port  # noqa: B018  (a port that is not a number fails only when read)
        except (ArgumentError, ValueError):
            raise StorageError(f"cannot read database URL {hide_password(db)!r}") from None
        for key, value in url.query.items():
            if is_secret_key(key):
                for item in (value,) if isinstance(value, str) else value:
                    _remember(item)
        _remember(url.password)
        backend = url.get_backend_name()
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise StorageError(
                f"unsupported database {backend!r} in {hide_password(url)!r}: tracker works "
                "with SQLite (a file path) and PostgreSQL (postgresql+psycopg://...)"
            )
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        if backend == "sqlite" and url.database and url.database != ":memory:" and not url.query:
            return _file_url(url.database)
        return url
    return _file_url(db)


def _file_url(db: str) -> URL:
    path = Path(db).expanduser()
    if not path.parent.is_dir():
        raise StorageError(
            f"cannot open database {str(path)!r}: folder {str(path.parent)!r} does not exist"
        )
    return URL.create("sqlite+pysqlite", database=str(path.resolve()))


def hide_password(url: str | URL) -> str:
    """A URL fit to print: the password in the user-info and every secret query value masked."""
    if isinstance(url, str):
        text = url
        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            masked = _USERINFO.sub(rf"\g<1>{MASK}\g<3>", text)
            return redact(
                _QUERY.sub(
                    lambda m: m.group(1) + (MASK if is_secret_key(m.group(2)) else m.group(3)),
                    masked,
                )
            )
    if url.query:
        query = {k: (MASK if is_secret_key(k) else v) for k, v in url.query.items()}
        url = url.set(query=query)
    return redact(url.render_as_string(hide_password=True))


def describe(url: URL) -> str:
    """Where the database is, fit to print: a file path, or a URL with no password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return hide_password(url)


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    # pysqlite's own transaction handling defers BEGIN and never wraps DDL; take control of it
    # (SQLAlchemy's documented recipe) so that writes start with BEGIN IMMEDIATE, which takes the
    # write lock up front: look-up-then-insert cannot race another process, and a failed
    # migration rolls back whole.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # No mmap_size: mapped pages count in the process's memory, and exporting a 1M-claim
        # database held 550 MB with a 1 GiB map (58 MB without) for a search gain of <1 ms.
        # WAL only when writing to a file known to be ours: switching mode rewrites the header.
        if wal and cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            with suppress(sqlite3.OperationalError):
                cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get("tracker_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE for a privilege refused


def _configure_postgresql(engine: Engine) -> None:
    # The recursive CTEs (evidence, organisational tree) look costly to the planner, which then
    # JIT-compiles them: evidence.walk took 1.1 s on a 5-claim database with JIT, 17 ms
    # without (PostgreSQL 15, measured here). Our queries are index look-ups; JIT never pays.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()

    # No global write lock: writers run side by side, find-or-create relies on unique keys
    # (INSERT ... ON CONFLICT in services/identity.py), and a unit of work that loses a race is
    # run again (Database.transaction). A writer still never waits on a row lock for longer than
    # the busy timeout. Readers never wait.
    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get("tracker_readonly", False):
            return
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{BUSY_TIMEOUT_MS}ms'")


def _seal_on_commit(engine: Engine) -> None:
    # Every writing transaction seals the history entries it wrote just before it commits
    # (tracker.chain), whichever code inserted them: ORM, Core, bulk INSERT ... SELECT.
    # Migrations run before the chain's columns exist and seal for themselves; `tracker_seal`
    # False also keeps a check that writes nothing (FTS5's) from sealing as it commits.
    @event.listens_for(engine, "commit")
    def _commit(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("tracker_readonly", False) or not options.get("tracker_seal", True):
            return
        from tracker.chain import seal

        seal(conn)


def make_engine(url: URL, *, readonly: str | None = None) -> Engine:
    """An engine for `url`. `readonly` ("ro" or "immutable") opens a SQLite file read-only,
    so reading can never change its bytes or journal mode."""
    try:
        if url.get_backend_name() == "sqlite":
            timeout = BUSY_TIMEOUT_MS / 1000
            if readonly and url.database:
                uri = f"{Path(url.database).as_uri()}?{_READONLY_PARAMS[readonly]}"
                engine = create_engine(
                    url,
                    creator=lambda: sqlite3.connect(
                        uri, uri=True, timeout=timeout, check_same_thread=False
                    ),
                )
            else:
                engine = create_engine(url, connect_args={"timeout": timeout})
            _configure_sqlite(engine, wal=not readonly)
            _seal_on_commit(engine)
            return engine
        engine = create_engine(url)
        if url.get_backend_name() == "postgresql":
            _configure_postgresql(engine)
        _seal_on_commit(engine)
        return engine
    except NoSuchModuleError:
        raise StorageError(f"no database driver for {url.drivername!r}") from None
    except ModuleNotFoundError as exc:
        if url.get_backend_name() == "postgresql":
            raise StorageError(
                "PostgreSQL needs the psycopg driver: pip install 'claim-tracker[postgres]'"
            ) from None
        raise StorageError(f"missing database driver: {exc.name}") from None


_READONLY_PARAMS = {"ro": "mode=ro", "immutable": "mode=ro&immutable=1"}
_READONLY_MARKERS = ("readonly database", "read-only", "read only")


def driver_message(exc: DBAPIError) -> str:
    """The driver's own first line of an error: no SQL, no parameters, no password."""
    message = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return redact(message)


def sqlstate(exc: DBAPIError) -> str | None:
    """The SQLSTATE code PostgreSQL gave the error (None from SQLite)."""
    return getattr(exc.orig, "sqlstate", None)


def write_attempts() -> int:
    """How many times a PostgreSQL writer runs a unit of work that keeps losing races
    (TRACKER_WRITE_ATTEMPTS, 1 to MAX_ATTEMPTS; DEFAULT_ATTEMPTS if unset)."""
    value = os.environ.get(ATTEMPTS_ENV, "").strip()
    if not value:
        return DEFAULT_ATTEMPTS
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ATTEMPTS:
        raise UsageError(f"{ATTEMPTS_ENV}={value!r} is not a whole number from 1 to {MAX_ATTEMPTS}")
    return int(value)


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt `attempt + 1`: exponential from 20 ms, capped at 1 s, with
    full jitter so that writers which collided do not collide again in step."""
    return random.uniform(0, min(1.0, 0.02 * 2**attempt))


def translate(exc: DBAPIError, url: URL | None = None, *, write: bool = True) -> TrackerError:
    """Turn a driver error into one of ours, with no password and no SQL in the message."""
    message = driver_message(exc)
    where = f" ({describe(url)})" if url is not None else ""
    if sqlstate(exc) in (SERIALIZATION_FAILURE, DEADLOCK):
        return DatabaseLocked(
            f"the database is busy: this change collided with another writer's "
            f"in {RETRYABLE[str(sqlstate(exc))]}{where}; nothing was changed, try again"
        )
    if any(m in message for m in ("database is locked", "could not obtain lock", "lock timeout")):
        return DatabaseLocked(
            f"the database is busy: another process held its lock for over "
            f"{BUSY_TIMEOUT_MS // 1000} s{where}; nothing was changed, try again"
        )
    if any(m in message.lower() for m in _READONLY_MARKERS):
        return ReadOnlyDatabase(f"the database is read-only{where}; nothing was changed")
    if isinstance(exc, OperationalError) or "not a database" in message or "malformed" in message:
        return StorageError(f"database error{where}: {message}")
    if not write:
        return TrackerError(f"cannot read the database{where}: {message}")
    return TrackerError(f"database refused the change: {message}")


class Database:
    """An opened database at the current schema; hands out sessions."""

    def __init__(
        self, url: URL, engine: Engine, *, revision: str | None = None, readonly: bool = False
    ) -> None:
        self.url = url
        self.engine = engine
        # The schema revision found when it was opened (HEAD_REVISION once upgraded).
        self.revision = revision
        # Opened read-only (a reading command): any write fails as ReadOnlyDatabase.
        self.readonly = readonly

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed if the block ends normally, rolled back otherwise. A
        block cannot be run again: writers that may race others use `transaction`."""
        try:
            with self._session(write) as session:
                yield session
        except DBAPIError as exc:
            raise self._translate(exc, write) from exc

    @contextmanager
    def _session(self, write: bool) -> Iterator[Session]:
        from sqlalchemy.orm import Session

        self._check_writable(write)
        bind = self._engine(write)
        with Session(bind, expire_on_commit=False) as session, session.begin():
            yield session

    def transaction(
        self, work: Callable[[Session], T], *, write: bool = True, retry: bool = True
    ) -> T:
        """`work(session)` in one transaction, committed if it returns; its result.

        On PostgreSQL writers run side by side: a unit of work that loses a race to another
        writer (a deadlock, a serialization failure, a unique key committed first) is rolled
        back and run again from the start, up to `write_attempts()` times in all with jittered
        backoff, then refused as busy (exit 75), nothing changed. So `work` must change
        nothing but the database (`retry=False` where it cannot run twice, as when it reads
        standard input). SQLite's writers queue on the file instead: one attempt."""
        attempts = write_attempts() if retry and write and self.backend == "postgresql" else 1
        attempt = 1
        while True:
            try:
                with self._session(write) as session:
                    return work(session)
            except DBAPIError as exc:
                state = sqlstate(exc)
                if state not in RETRYABLE or attempt >= attempts:
                    if state in RETRYABLE and state != UNIQUE_VIOLATION and attempts > 1:
                        raise DatabaseLocked(
                            f"the database is busy: this change collided with other writers "
                            f"{attempts} times, the last time in {RETRYABLE[state]} "
                            f"({describe(self.url)}); nothing was changed, try again"
                        ) from exc
                    # A key still taken after every re-run is no race: the plain refusal.
                    raise self._translate(exc, write) from exc
            time.sleep(backoff(attempt))
            attempt += 1

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A Core connection inside one transaction, for bulk and read-heavy paths."""
        self._check_writable(write)
        try:
            with self._engine(write).begin() as conn:
                yield conn
        except DBAPIError as exc:
            raise self._translate(exc, write) from exc

    def _engine(self, write: bool) -> Engine:
        if not write:
            return self.engine.execution_options(tracker_readonly=True)
        if self.revision != HEAD_REVISION:
            # A schema held at an older revision (tests, `db status`) has no chain to seal.
            return self.engine.execution_options(tracker_seal=False)
        return self.engine

    def _translate(self, exc: DBAPIError, write: bool) -> TrackerError:
        if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            return self._denied(exc)
        return translate(exc, self.url, write=write)

    def _denied(self, exc: DBAPIError) -> PermissionDenied:
        """PostgreSQL refused for lack of a privilege: say which role, and what it may do."""
        message = redact(str(exc.orig).strip().splitlines()[0])
        try:
            with self.engine.execution_options(tracker_readonly=True).connect() as conn:
                role, reads, writes = conn.exec_driver_sql(
                    "SELECT session_user, has_table_privilege('claim', 'SELECT'),"
                    " has_table_privilege('claim', 'INSERT')"
                ).one()
        except DBAPIError:
            return PermissionDenied(f"permission denied: {message}; nothing was changed")
        if not reads:
            return PermissionDenied(
                f"permission denied: role {role!r} has no access to this database (an admin "
                f"gives it with: tracker db grant {role} --reader)"
            )
        if not writes:
            return PermissionDenied(
                f"permission denied: role {role!r} may only read; nothing was changed"
            )
        return PermissionDenied(f"permission denied: role {role!r}: {message}; nothing was changed")

    def _check_writable(self, write: bool) -> None:
        if write and self.readonly:
            raise ReadOnlyDatabase(
                f"the database is read-only ({describe(self.url)}); nothing was changed"
            )

    def close(self) -> None:
        self.engine.dispose()


def stored_revision(conn: Connection) -> str | None:
    return conn.execute(_REVISION_QUERY).scalar() if _has_version(conn) else None


def open_database(
    db: str | None = None,
    *,
    migrate: bool = True,
    write: bool = True,
    notify: Callable[[str], None] | None = None,
) -> Database:
    """Open the database named by `db` (or TRACKER_DB, or the default), upgrading it if needed.

    Only a tracker database, or a new or empty file, is opened: a file holding other tables is
    refused untouched, as is a schema from a newer tracker. With `write=False` (a command that
    only reads) a missing database is an error rather than created, and a SQLite file is opened
    read-only so its bytes and journal mode stay as they are, unless its schema must be
    upgraded first (`notify` is told). Before an existing SQLite database with data is upgraded,
    a backup is written next to it (and `notify` told where); it is removed once the upgrade
    has committed, or has rolled back.
    """
    url = resolve_url(db if db is not None else os.environ.get(ENV_VAR))
    readonly: str | None = None
    if _is_file(url):
        assert url.database
        path = Path(url.database)
        found = _probe_file(path)
        if (found is None or not found.tables) and not write:
            raise StorageError(f"no database at {path} yet")
        revision = found.revision if found else None
        if migrate:  # without, the caller only describes it (db status)
            _refuse_newer(revision)
        upgrading = migrate and revision != HEAD_REVISION
        if (write or upgrading) and not _can_write(path):
            if upgrading and revision is not None:
                raise ReadOnlyDatabase(
                    f"the database needs a schema upgrade from {revision} to {HEAD_REVISION} "
                    f"but is read-only ({path}); open it once where it can be written"
                )
            raise ReadOnlyDatabase(f"the database is read-only ({path}); nothing was changed")
        if not write and not upgrading:
            readonly = found.mode if found else "ro"
    engine = make_engine(url, readonly=readonly)
    database = Database(url, engine, readonly=readonly is not None)
    try:
        # A read transaction: a read-only file can still be opened and read.
        with engine.execution_options(tracker_readonly=True).connect() as conn:
            revision = stored_revision(conn)
            if revision is None and database.backend != "sqlite":
                _refuse_foreign(_pg_tables(conn), describe(url))
            has_data = revision in known_revisions() and _has_rows(conn)
        database.revision = revision
        if migrate:
            _refuse_newer(revision)
        if revision != HEAD_REVISION and migrate:
            if not write and revision is not None and notify:
                notify("this command only reads, but the database must first be upgraded")
            backup = None
            if has_data and database.backend == "sqlite" and url.database:
                backup = _backup_before_upgrade(database, str(revision))
                if notify:
                    notify(
                        f"upgrading the schema from {revision} to {HEAD_REVISION}; "
                        f"a backup is at {backup} until it succeeds"
                    )
            try:
                upgrade(database)
            finally:
                # Committed, or rolled back whole: either way the copy is no longer needed,
                # and retries must not pile full-size copies up.
                if backup is not None:
                    backup.unlink(missing_ok=True)
            database.revision = HEAD_REVISION
    except DBAPIError as exc:
        error = database._translate(exc, write)
        engine.dispose()
        raise error from exc
    except TrackerError:
        engine.dispose()
        raise
    return database


def _is_file(url: URL) -> bool:
    """A plain SQLite file (not memory, not a `file:` URI with its own options)."""
    database = url.database
    return (
        url.get_backend_name() == "sqlite"
        and bool(database)
        and database != ":memory:"
        and (not url.query)
    )


class _Found:
    """What a look at an existing SQLite file found, without changing it."""

    def __init__(self, tables: list[str], revision: str | None, mode: str) -> None:
        self.tables = tables
        self.revision = revision
        self.mode = mode  # how it can be opened read-only: "ro", or "immutable"


def _probe_file(path: Path) -> _Found | None:
    """None for a missing file; else its tables and revision, read with the standard library
    in read-only mode (no journal change, nothing written to the file). Refuses a file that is
    not a SQLite database or that holds another application's tables."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot open database {str(path)!r}: {exc.strerror}") from None
    if path.is_dir():
        raise StorageError(f"cannot open database {str(path)!r}: it is a folder")
    if info.st_size == 0:
        return _Found([], None, "ro")
    last: sqlite3.Error | None = None
    # Read-only; "immutable" where SQLite cannot create the WAL index beside a WAL file (a
    # read-only folder or mount).
    for mode in ("ro", "immutable"):
        try:
            uri = f"{path.as_uri()}?{_READONLY_PARAMS[mode]}"
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                tables = [
                    name
                    for (name,) in conn.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
                    )
                    if not name.startswith("sqlite_")
                ]
                revision = None
                if "alembic_version" in tables:
                    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                    revision = row[0] if row else None
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            last = exc
            if "locked" in str(exc):
                raise DatabaseLocked(
                    f"the database is busy: another process held its lock for over "
                    f"{BUSY_TIMEOUT_MS // 1000} s ({path}); try again"
                ) from None
            continue
        except sqlite3.DatabaseError as exc:
            if "malformed" in str(exc):
                raise DamagedDatabase(
                    f"the database is damaged ({exc}): {path}; `tracker db check` tells more, "
                    "a backup restores it"
                ) from None
            raise StorageError(
                f"cannot open database {str(path)!r}: it is not a SQLite database ({exc})"
            ) from None
        if "alembic_version" not in tables:
            _refuse_foreign(tables, str(path))
        return _Found(tables, revision, mode)
    raise StorageError(f"cannot open database {str(path)!r}: {last}")


def _refuse_foreign(tables: list[str], where: str) -> None:
    """A database holding tables but no tracker schema belongs to someone else."""
    if not tables or "alembic_version" in tables:
        return
    shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
    raise StorageError(
        f"not a tracker database: it holds tables {shown} ({where}); tracker only opens its "
        "own databases, or a new or empty one"
    )


def _pg_tables(conn: Connection) -> list[str]:
    rows = conn.exec_driver_sql(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() ORDER BY table_name"
    )
    return [name for (name,) in rows]


def known_revisions() -> set[str]:
    """Every revision this tracker can upgrade from: the migration files it ships."""
    import tracker.migrations

    folder = Path(tracker.migrations.__file__).parent / "versions"
    names = {p.name.split("_", 1)[0] for p in folder.glob("*.py") if p.name[0].isdigit()}
    return names | {HEAD_REVISION}


def _refuse_newer(revision: str | None) -> None:
    if revision is not None and revision not in known_revisions():
        raise StorageError(newer_message(revision))


def newer_message(revision: str) -> str:
    return (
        f"the database is at schema revision {revision!r}, which this tracker (revision "
        f"{HEAD_REVISION}) does not know: it was written by a newer tracker. Upgrade tracker "
        "and try again; nothing was changed"
    )


def _can_write(path: Path) -> bool:
    """Whether this process may change the file (and create its journal beside it). access()
    also answers False on a read-only mount."""
    folder = os.access(path.parent, os.W_OK)
    return folder and (not path.exists() or os.access(path, os.W_OK))


def _has_rows(conn: Connection) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM actor LIMIT 1").first() is not None


def _backup_before_upgrade(database: Database, revision: str) -> Path:
    assert database.url.database
    path = Path(database.url.database)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.before-{revision}-{stamp}.bak")
    reason = copy_into(database, target)
    if reason is not None:
        raise StorageError(
            f"cannot write the backup {str(target)!r} taken before upgrading the schema "
            f"({reason}); nothing was changed"
        ) from None
    return target


def copy_into(database: Database, target: Path) -> str | None:
    """A consistent copy of a SQLite database made by SQLite itself (VACUUM INTO), safe while
    others write. On failure nothing is left behind, and the reason is returned."""
    try:
        with database.engine.connect() as conn:
            run_outside_transaction(conn, "VACUUM INTO ?", (str(target),))
    except (sqlite3.Error, DBAPIError) as exc:
        for leftover in (target, target.with_name(target.name + "-journal")):
            leftover.unlink(missing_ok=True)
        return str(exc.orig if isinstance(exc, DBAPIError) else exc)
    return None


_REVISION_QUERY = text("SELECT version_num FROM alembic_version")


def _has_version(conn: Connection) -> bool:
    # Cheaper than the inspector on the everyday path: one catalogue look-up.
    if conn.dialect.name == "sqlite":
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    else:
        query = (
            "SELECT 1 FROM information_schema.tables"
            " WHERE table_name = 'alembic_version' AND table_schema = current_schema()"
        )
    return conn.exec_driver_sql(query).first() is not None


def alembic_config(connection: Connection | None = None):  # type: ignore[no-untyped-def]
    """Alembic's Config built in code, pointing at the migrations shipped inside the package."""
    from alembic.config import Config

    import tracker.migrations

    # Alembic's own messages must never mix with data on stdout; and naming the stream here
    # (its default is bound at import time) keeps it valid when stdout is swapped.
    cfg = Config(stdout=sys.stderr)
    location = str(Path(tracker.migrations.__file__).parent)
    cfg.set_main_option("script_location", location.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def run_outside_transaction(conn: Connection, sql: str, params: tuple[str, ...] = ()) -> None:
    """Straight to the SQLite driver, in autocommit: for statements SQLite refuses or ignores
    inside a transaction (PRAGMA foreign_keys, VACUUM)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute(sql, params)


def _pragma(conn: Connection, setting: str) -> None:
    run_outside_transaction(conn, f"PRAGMA {setting}")


def _refuse_non_admin(conn: Connection, direction: str) -> None:
    """Only the owner of the tracker's tables (a member of its role: an admin) changes the
    schema; anyone else is told so before anything is tried."""
    row = conn.exec_driver_sql(
        "SELECT session_user, pg_has_role(session_user, c.relowner, 'USAGE')"
        " FROM pg_class c WHERE c.oid = to_regclass('alembic_version')"
    ).first()
    conn.rollback()
    if row is not None and not row[1]:
        raise PermissionDenied(
            f"permission denied: role {row[0]!r} may not {direction} the schema: only admins "
            "migrate (tracker db grant ROLE --admin); nothing was changed"
        )


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction (DDL included, on SQLite too)."""
    _migrate(database, "upgrade", revision)


def downgrade(database: Database, revision: str) -> None:
    _migrate(database, "downgrade", revision)


def _migrate(database: Database, direction: str, revision: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    with database.engine.connect() as conn:
        conn.execution_options(tracker_seal=False)
        sqlite = conn.dialect.name == "sqlite"
        if not sqlite:
            _refuse_non_admin(conn, direction)
        if sqlite:
            # Batch migrations rebuild tables; with foreign keys on, dropping a parent could
            # cascade-delete children. The setting cannot change inside a transaction.
            _pragma(conn, "foreign_keys = OFF")
        try:
            with conn.begin():
                if not sqlite:
                    # Writers no longer queue on a lock, but schema changes must: processes
                    # opening a new database at once would each create it. The next in line
                    # finds the revision already stored, and Alembic has nothing to do.
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
                try:
                    getattr(command, direction)(alembic_config(conn), revision)
                except CommandError as exc:
                    raise StorageError(
                        f"cannot {direction} the schema ({exc}); is this database from a newer "
                        "tracker? Upgrade tracker and try again"
                    ) from None
                if not sqlite:
                    # Tables a migration created get the privileges `db grant` gave the others.
                    from tracker.services.roles import refresh

                    refresh(conn)
                if sqlite:
                    problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise StorageError(
                            f"migration would break {len(problems)} foreign key(s); rolled back"
                        )
                database.revision = stored_revision(conn)
        finally:
            if sqlite:
                _pragma(conn, "foreign_keys = ON")
