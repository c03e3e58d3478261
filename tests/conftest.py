"""Shared fixtures: every test gets its own database file (never the user's), a CLI runner that
points at it, and the seed article's claims when asked for."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Run, Templates, empty_postgres, record_seed

from tracker.db import Database, open_database


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
        empty_postgres(url)
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


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def cli(db_url: str) -> Run:
    return Run()


@pytest.fixture
def seeded(cli: Run, templates: Templates, backend: str, db_url: str) -> dict[str, int]:
    """The seed article recorded (once per session), with the same ids in every test."""
    return dict(templates.load("seed", record_seed, backend, db_url))
