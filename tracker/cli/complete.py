"""Shell completion of actor and source names, read from an existing database.

Completion must be instant and harmless: it opens the database read-only with the standard
library's sqlite3, never creates or migrates one, and offers nothing rather than fail.
"""

import os
import sqlite3
from pathlib import Path

LIMIT = 50


def _database_file() -> Path | None:
    value = os.environ.get("TRACKER_DB")
    if value and "://" in value:
        if not value.startswith("sqlite:///"):
            return None
        value = value.removeprefix("sqlite:///")
    if not value:
        from platformdirs import user_data_path

        return user_data_path("tracker", appauthor=False) / "tracker.db"
    return Path(value).expanduser()


def _names(query: str, incomplete: str) -> list[str]:
    path = _database_file()
    if path is None or not path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
        try:
            pattern = incomplete.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = conn.execute(query, (pattern + "%", LIMIT)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    return [name for (name,) in rows]


def actor_names(incomplete: str) -> list[str]:
    return _names(
        "SELECT name FROM actor_name WHERE name LIKE ? ESCAPE '\\' ORDER BY name LIMIT ?",
        incomplete,
    )


def source_titles(incomplete: str) -> list[str]:
    return _names(
        "SELECT title FROM source WHERE title LIKE ? ESCAPE '\\' ORDER BY title LIMIT ?",
        incomplete,
    )
