"""Opening a database: where it lives, connection settings, and keeping its schema current.

Checking the schema is one query (the stored Alembic revision against HEAD_REVISION); Alembic is
imported only when there is something to upgrade, so everyday commands stay fast.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from tracker.errors import DatabaseLocked, StorageError, TrackerError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The newest migration in migrations/versions; a test keeps the two in step.
HEAD_REVISION = "0004"
BUSY_TIMEOUT_MS = 5000
ENV_VAR = "TRACKER_DB"


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("tracker", appauthor=False) / "tracker.db"


def resolve_url(db: str | None) -> URL:
    """A file path or any SQLAlchemy URL (--db, TRACKER_DB); by default, the user data folder."""
    if not db:
        path = default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return URL.create("sqlite+pysqlite", database=str(path))
    if "://" in db:
        try:
            url = make_url(db)
        except ArgumentError:
            raise StorageError(f"cannot read database URL {hide_password(db)!r}") from None
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url
    path = Path(db).expanduser()
    if not path.parent.is_dir():
        raise StorageError(
            f"cannot open database {str(path)!r}: folder {str(path.parent)!r} does not exist"
        )
    return URL.create("sqlite+pysqlite", database=str(path.resolve()))


def hide_password(url: str | URL) -> str:
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unreadable URL>"
    return url.render_as_string(hide_password=True)


def describe(url: URL) -> str:
    """Where the database is, fit to print: a file path, or a URL with no password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return hide_password(url)


def _configure_sqlite(engine: Engine) -> None:
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
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            # A read-only file cannot change mode; reading it still works.
            with suppress(sqlite3.OperationalError):
                cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get("tracker_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


# Any constant: the key of the advisory lock that PostgreSQL writers take.
WRITE_LOCK_KEY = 0x7472_6163_6B65_72  # "tracker"


def _configure_postgresql(engine: Engine) -> None:
    # Writers queue on one transaction-scoped advisory lock, as SQLite's BEGIN IMMEDIATE makes
    # them queue on the file: a look-up-then-insert (find or create an actor) cannot race
    # another process, and a writer waits at most the busy timeout. Readers never wait.
    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get("tracker_readonly", False):
            return
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{BUSY_TIMEOUT_MS}ms'")
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def make_engine(url: URL) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            _configure_sqlite(engine)
            return engine
        engine = create_engine(url)
        if url.get_backend_name() == "postgresql":
            _configure_postgresql(engine)
        return engine
    except NoSuchModuleError:
        raise StorageError(f"no database driver for {url.drivername!r}") from None
    except ModuleNotFoundError as exc:
        if url.get_backend_name() == "postgresql":
            raise StorageError(
                "PostgreSQL needs the psycopg driver: pip install 'claim-tracker[postgres]'"
            ) from None
        raise StorageError(f"missing database driver: {exc.name}") from None


def translate(exc: DBAPIError, url: URL | None = None) -> TrackerError:
    """Turn a driver error into one of ours, with no password and no SQL in the message."""
    message = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    where = f" ({describe(url)})" if url is not None else ""
    if any(m in message for m in ("database is locked", "could not obtain lock", "lock timeout")):
        return DatabaseLocked(
            f"the database is busy: another process held its lock for over "
            f"{BUSY_TIMEOUT_MS // 1000} s{where}; nothing was changed, try again"
        )
    if isinstance(exc, OperationalError) or "not a database" in message or "malformed" in message:
        return StorageError(f"database error{where}: {message}")
    return TrackerError(f"database refused the change: {message}")


class Database:
    """An opened database at the current schema; hands out sessions."""

    def __init__(self, url: URL, engine: Engine) -> None:
        self.url = url
        self.engine = engine

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed if the block ends normally, rolled back otherwise."""
        from sqlalchemy.orm import Session

        bind = self.engine if write else self.engine.execution_options(tracker_readonly=True)
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                yield session
        except DBAPIError as exc:
            raise translate(exc, self.url) from exc

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A Core connection inside one transaction, for bulk and read-heavy paths."""
        engine = self.engine if write else self.engine.execution_options(tracker_readonly=True)
        try:
            with engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            raise translate(exc, self.url) from exc

    def close(self) -> None:
        self.engine.dispose()


def stored_revision(conn: Connection) -> str | None:
    return conn.execute(_REVISION_QUERY).scalar() if _has_version(conn) else None


def open_database(
    db: str | None = None,
    *,
    migrate: bool = True,
    notify: Callable[[str], None] | None = None,
) -> Database:
    """Open the database named by `db` (or TRACKER_DB, or the default), upgrading it if needed.

    Before an existing SQLite database with data is upgraded, a backup is written next to it
    (and `notify` told where); it is removed once the upgrade has committed.
    """
    url = resolve_url(db if db is not None else os.environ.get(ENV_VAR))
    engine = make_engine(url)
    database = Database(url, engine)
    try:
        # A read transaction: a read-only file can still be opened and read.
        with engine.execution_options(tracker_readonly=True).connect() as conn:
            revision = stored_revision(conn)
            has_data = revision is not None and _has_rows(conn)
        if revision != HEAD_REVISION and migrate:
            backup = None
            if has_data and database.backend == "sqlite" and url.database:
                backup = _backup_before_upgrade(database, str(revision))
                if notify:
                    notify(
                        f"upgrading the schema from {revision} to {HEAD_REVISION}; "
                        f"a backup is at {backup} until it succeeds"
                    )
            upgrade(database)
            if backup is not None:
                backup.unlink()
    except DBAPIError as exc:
        engine.dispose()
        raise translate(exc, url) from exc
    except TrackerError:
        engine.dispose()
        raise
    return database


def _has_rows(conn: Connection) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM actor LIMIT 1").first() is not None


def _backup_before_upgrade(database: Database, revision: str) -> Path:
    assert database.url.database
    path = Path(database.url.database)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.before-{revision}-{stamp}.bak")
    with database.engine.connect() as conn:
        run_outside_transaction(conn, "VACUUM INTO ?", (str(target),))
    return target


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


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction (DDL included, on SQLite too)."""
    _migrate(database, "upgrade", revision)


def downgrade(database: Database, revision: str) -> None:
    _migrate(database, "downgrade", revision)


def _migrate(database: Database, direction: str, revision: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    with database.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild tables; with foreign keys on, dropping a parent could
            # cascade-delete children. The setting cannot change inside a transaction.
            _pragma(conn, "foreign_keys = OFF")
        try:
            with conn.begin():
                try:
                    getattr(command, direction)(alembic_config(conn), revision)
                except CommandError as exc:
                    raise StorageError(
                        f"cannot {direction} the schema ({exc}); is this database from a newer "
                        "tracker? Upgrade tracker and try again"
                    ) from None
                if sqlite:
                    problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise StorageError(
                            f"migration would break {len(problems)} foreign key(s); rolled back"
                        )
        finally:
            if sqlite:
                _pragma(conn, "foreign_keys = ON")
