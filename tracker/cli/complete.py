"""Shell completion of actor and source names, read from an existing database.

Completion must be instant and harmless: it reads the database and never creates or migrates
one; a SQLite file is opened read-only with the standard library. Any failure offers nothing.
"""

import os
import sqlite3
from pathlib import Path

LIMIT = 50
ACTORS = (
    "SELECT name FROM actor_name WHERE name {like} :pattern ESCAPE '\\' ORDER BY name LIMIT :limit"
)
SOURCES = (
    "SELECT title FROM source WHERE title {like} :pattern ESCAPE '\\' ORDER BY title LIMIT :limit"
)


def _database() -> Path | str:
    """The SQLite file to read, or the URL of a database server."""
    value = os.environ.get("TRACKER_DB")
    if value and "://" in value:
        if not value.startswith("sqlite:///"):
            return value
        value = value.removeprefix("sqlite:///")
    if not value:
        from platformdirs import user_data_path

        return user_data_path("tracker", appauthor=False) / "tracker.db"
    return Path(value).expanduser()


def _from_server(url: str, query: str, params: dict[str, object]) -> list[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(query.format(like="ILIKE")), params).all()
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError):
        return []
    return [name for (name,) in rows]


def _names(query: str, incomplete: str) -> list[str]:
    escaped = incomplete.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params: dict[str, object] = {"pattern": escaped + "%", "limit": LIMIT}
    where = _database()
    if isinstance(where, str):
        return _from_server(where, query, params)
    if not where.is_file():
        return []
    try:
        conn = sqlite3.connect(f"{where.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
        try:
            rows = conn.execute(query.format(like="LIKE"), params).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    return [name for (name,) in rows]


def actor_names(incomplete: str) -> list[str]:
    return _names(ACTORS, incomplete)


def source_titles(incomplete: str) -> list[str]:
    return _names(SOURCES, incomplete)
