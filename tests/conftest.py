"""Shared fixtures: every test gets its own database file (never the user's), a CLI runner that
points at it, and the seed article's claims when asked for."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.db import Database, open_database

SEED = Path(__file__).parent.parent.parent / "shared" / "seed-article.txt"

MANDIANT_CLAIM = (
    "A unit of China's People's Liberation Army stole hundreds of terabytes of data from at "
    "least 141 organizations, mostly in the United States"
)
DONILON_QUOTE = (
    "The international community cannot afford to tolerate such activity from any country"
)
CHINA_DENIAL = "The Chinese state is not behind online espionage; China is also a victim"
APT1_REPORT = "APT1: Exposing One of China's Cyber Espionage Units"
GLOBE_ARTICLE = "Obama raises hacking concerns with China's Xi"
GLOBE_URL = (
    "https://www.theglobeandmail.com/news/world/obama-raises-hacking-concerns/article9745383/"
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real user data folder and terminal settings."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("TRACKER_USER", "tester")
    monkeypatch.delenv("TRACKER_DEBUG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


PG_ENV = "TRACKER_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, on the server TRACKER_TEST_POSTGRES_URL
    names (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres); dropped at the end."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://user@host/db")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"tracker_test_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    open_database(url).close()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    """Every table emptied and every counter reset: each test starts as on a new database."""
    from tracker.models import Base

    database = open_database(url)
    with database.connect(write=True) as conn:
        # DELETE, children first, is ~10x faster than TRUNCATE on tables this small.
        for table in reversed(Base.metadata.sorted_tables):
            conn.exec_driver_sql(f"DELETE FROM {table.name}")
            if "id" in table.c and table.c.id.primary_key:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), 1, false)"
                )
    database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The test's own database on each backend: a new SQLite file, or the session's
    PostgreSQL database emptied. TRACKER_DB points at it."""
    if backend == "sqlite":
        url = str(tmp_path / "tracker.db")
        # Created, as the PostgreSQL one is: commands that only read refuse a missing database.
        open_database(url).close()
    else:
        url = request.getfixturevalue("postgres_url")
        _empty_postgres(url)
    monkeypatch.setenv("TRACKER_DB", url)
    return url


@pytest.fixture
def db_path(backend: str, db_url: str) -> Path:
    """The SQLite file itself, for tests of SQLite behaviour; skipped on PostgreSQL."""
    if backend != "sqlite":
        pytest.skip("tests the SQLite file itself")
    return Path(db_url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


class Templates:
    """Databases recorded once per session, handed to each test as a fresh copy on its
    backend: the SQLite file is copied; PostgreSQL gets the template's dump restored."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.built: dict[str, tuple[Path, Path, Any]] = {}

    def load(self, name: str, build: Callable[["Run"], Any], backend: str, db_url: str) -> Any:
        import shutil
        import sqlite3
        from contextlib import closing

        from tracker.services.dump import export_all, import_all

        if name not in self.built:
            path = self.folder / f"{name}.db"
            path.unlink(missing_ok=True)  # what a failed build may have left
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("TRACKER_DB", str(path))
                result = build(Run())
            with closing(sqlite3.connect(path)) as conn:  # fold the WAL into the file
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            database = open_database(str(path))
            with database.connect() as conn:
                export_all(conn, self.folder / f"{name}-dump")
            database.close()
            self.built[name] = (path, self.folder / f"{name}-dump", result)
        path, dumped, result = self.built[name]
        if backend == "sqlite":
            shutil.copyfile(path, db_url)
        else:
            database = open_database(db_url)
            with database.connect(write=True) as conn:
                import_all(conn, dumped)
            database.close()
        return result


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


class Run:
    """Invoke the CLI in-process; stdout and stderr are kept apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Any:
        result = self.runner.invoke(app, list(args), input=input)
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result


@pytest.fixture
def cli(db_url: str) -> Run:
    return Run()


def record_seed(cli: Callable[..., Any]) -> dict[str, int]:
    """The seed article (../shared/seed-article.txt) recorded as the README's quick start does."""
    ids: dict[str, int] = {}

    def run(*args: str) -> int:
        return int(cli(*args).stdout.strip())

    run("actor", "add", "Mandiant", "--kind", "company")
    run("actor", "add", "China", "--kind", "government")
    run(
        "actor",
        "add",
        "PLA Unit 61398",
        "--kind",
        "group",
        "--alias",
        "APT1",
        "--alias",
        "Comment Crew",
    )
    run(
        "actor",
        "add",
        "Tom Donilon",
        "--kind",
        "person",
        "--description",
        "White House national security adviser",
    )
    ids["report"] = run(
        "source",
        "add",
        APT1_REPORT,
        "--publisher",
        "Mandiant",
        "--kind",
        "report",
        "--date",
        "2013-02-19",
        "--reliability",
        "B",
    )
    ids["article"] = run(
        "source",
        "add",
        GLOBE_ARTICLE,
        "--publisher",
        "The Globe and Mail",
        "--kind",
        "article",
        "--date",
        "2013-03",
        "--url",
        GLOBE_URL,
        "--cites",
        APT1_REPORT,
    )
    ids["mandiant"] = run(
        "claim",
        "add",
        MANDIANT_CLAIM,
        "--by",
        "Mandiant",
        "--source",
        APT1_REPORT,
        "--source",
        GLOBE_ARTICLE,
        "--about",
        "APT1",
        "--date",
        "2013-02-19",
        "--tag",
        "cyber-espionage",
    )
    ids["donilon"] = run(
        "claim",
        "add",
        "The international community cannot tolerate such activity from any country",
        "--by",
        "Tom Donilon",
        "--quote",
        DONILON_QUOTE,
        "--source",
        GLOBE_ARTICLE,
        "--about",
        "China",
        "--date",
        "2013-03",
    )
    ids["denial"] = run(
        "claim",
        "add",
        CHINA_DENIAL,
        "--by",
        "China",
        "--source",
        GLOBE_ARTICLE,
        "--about",
        "PLA Unit 61398",
        "--about",
        "China",
        "--date",
        "2013-03",
    )
    cli("claim", "link", str(ids["denial"]), "disputes", str(ids["mandiant"]))
    return ids


@pytest.fixture
def seeded(cli: Run, templates: Templates, backend: str, db_url: str) -> dict[str, int]:
    """The seed article recorded (once per session), with the same ids in every test."""
    return dict(templates.load("seed", record_seed, backend, db_url))


def table_counts(database: Database) -> dict[str, int]:
    """Rows per table: the fingerprint that must not change when a command fails."""
    from sqlalchemy import func, select

    from tracker.models import Base

    with database.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in Base.metadata.tables.items()
        }


def dump(database: Database | str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: to prove nothing changed at all.
    Takes an open database, or a URL / path to open (and close) for the occasion."""
    from sqlalchemy import select

    from tracker.models import Base

    if isinstance(database, str):
        opened = open_database(database)
        try:
            return dump(opened)
        finally:
            opened.close()
    with database.connect() as conn:
        return {
            name: [
                tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for name, table in Base.metadata.tables.items()
        }
