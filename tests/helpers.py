"""Helpers tests share, imported as `from helpers import ...` (pytest puts tests/ on the path).

Every helper reopens the database from its URL, as a user's next command would: what a test
checks is what was committed, not what a session still holds.
"""

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tracker.cli import app
from tracker.db import Database, open_database
from tracker.models import Base, HistoryEntry


@contextmanager
def reopened(url: str) -> Iterator[Session]:
    """A read-only session on the database at `url`, opened afresh."""
    database = open_database(url)
    try:
        with database.session(write=False) as session:
            yield session
    finally:
        database.close()


def history_rows(url: str, entity: str, entity_id: int) -> list[tuple[str, str | None, Any]]:
    """(action, by, changes) of each history entry of one record, oldest first."""
    with reopened(url) as session:
        return [
            (e.action, e.by, e.changes)
            for e in session.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.entity == entity, HistoryEntry.entity_id == entity_id)
                .order_by(HistoryEntry.id)
            )
        ]


def run_tracker(
    *args: str, env: dict[str, str] | None = None, as_nobody: bool = False, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """The real `tracker` in a subprocess (for closed streams, other users, resource limits)."""
    full_env = {**os.environ, **(env or {})}
    # The tracker the tests import (the source tree when installed editable, else the wheel).
    full_env.pop("PYTHONPATH", None)
    preexec = kwargs.pop("preexec_fn", None)
    command = [sys.executable, "-m", "tracker", *args]
    if as_nobody:
        # The interpreter lives under /root, which nobody cannot read: start as root, load
        # every module, then become nobody before the command runs.
        command = [sys.executable, "-c", _AS_NOBODY, *args]
    return subprocess.run(
        command,
        env=full_env,
        capture_output=True,
        text=True,
        errors="replace",
        preexec_fn=preexec,
        timeout=60,
        **kwargs,
    )


_AS_NOBODY = """
import importlib, os, pkgutil, pwd, sys
import sqlite3, csv, json, getpass, uuid, traceback, urllib.parse
import sqlalchemy.dialects.sqlite, sqlalchemy.orm, sqlalchemy.sql.default_comparator
import tracker, tracker.cli, tracker.services, tracker.migrations
for package in (tracker, tracker.cli, tracker.services):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
import rich.console, rich.table, platformdirs
nobody = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(nobody.pw_gid)
os.setuid(nobody.pw_uid)
os.environ["HOME"] = "/nonexistent"
sys.argv = ["tracker", *sys.argv[1:]]
tracker.cli.main()
"""


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


def empty_postgres(url: str) -> None:
    """Every table emptied and every counter reset: each test starts as on a new database."""

    database = open_database(url)
    with database.connect(write=True) as conn:
        # The history is append-only (its triggers refuse DELETE): only a superuser's replica
        # mode, which fires no trigger, empties it.
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        # DELETE, children first, is ~10x faster than TRUNCATE on tables this small.
        for table in reversed(Base.metadata.sorted_tables):
            conn.exec_driver_sql(f"DELETE FROM {table.name}")
            if "id" in table.c and table.c.id.primary_key:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), 1, false)"
                )
    database.close()


class Run:
    """Invoke the CLI in-process; stdout and stderr are kept apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Any:
        result = self.runner.invoke(app, list(args), input=input)
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result


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


def table_counts(database: Database) -> dict[str, int]:
    """Rows per table: the fingerprint that must not change when a command fails."""
    from sqlalchemy import func, select

    with database.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in Base.metadata.tables.items()
        }


def dump(database: Database | str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: to prove nothing changed at all.
    Takes an open database, or a URL / path to open (and close) for the occasion."""
    if isinstance(database, str):
        opened = open_database(database, write=False)
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


# Every row, read without changing anything (the name some tests use).
snapshot = dump


def tamper(url: str, *statements: str) -> None:
    """Run SQL on the database past its append-only triggers, as someone with the file (SQLite:
    drop the triggers, put them back) or a superuser (PostgreSQL: replica mode) could."""
    if "://" not in url:
        conn = sqlite3.connect(url, isolation_level=None)
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'history%'"
        ).fetchall()
        conn.execute("BEGIN")
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            conn.execute(statement)
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.close()
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def reseal_dump(folder: Path) -> None:
    """Seal a dump's history chain again after a test changed it: a dump as a tracker that
    wrote those entries would have made it."""
    import json
    from datetime import datetime
    from types import SimpleNamespace

    from tracker.chain import entry_hash

    path = folder / "history.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    prev = None
    for row in sorted(rows, key=lambda r: r["seq"]):
        entry = SimpleNamespace(
            **{
                **row,
                "changes": json.dumps(row["changes"]),
                "at": datetime.fromisoformat(row["at"]),
            }
        )
        row["prev_hash"], row["hash"] = prev, entry_hash(row["seq"], prev, entry)
        prev = row["hash"]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["chain"] = {"seq": len(rows), "hash": prev}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def author(db_url: str, stated: str = "tester") -> str:
    """How a history line names who made a change: the stated name on SQLite; on PostgreSQL
    the database role, with the stated name beside it."""
    if "://" not in db_url:
        return stated
    from sqlalchemy.engine import make_url

    return f"{make_url(db_url).username} (stated by: {stated})"
