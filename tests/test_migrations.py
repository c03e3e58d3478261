"""Schema upgrades keep every row: from every earlier revision of a populated database, with a
backup while they run, rolled back whole on failure, and safe against kill -9."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tracker.migrations
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

import tracker.db
from tracker.db import (
    HEAD_REVISION,
    alembic_config,
    downgrade,
    open_database,
    stored_revision,
    upgrade,
)
from tracker.errors import StorageError

# The migrations the tracker under test ships (the source tree's, or the wheel's).
MIGRATIONS = Path(tracker.migrations.__file__).parent


def _populate_0001(conn: Connection) -> None:
    now = "2026-01-01 00:00:00.000000"
    script = f"""
        INSERT INTO actor (id, uid, name, kind, description, created_at, updated_at) VALUES
          (1, 'a-1', 'Mandiant', 'company', NULL, '{now}', '{now}'),
          (2, 'a-2', 'China', 'government', 'PRC', '{now}', '{now}');
        INSERT INTO actor_name (id, actor_id, name, key, is_primary) VALUES
          (1, 1, 'Mandiant', 'mandiant', TRUE), (2, 2, 'China', 'china', TRUE),
          (3, 2, 'PRC', 'prc', FALSE);
        INSERT INTO source (id, uid, title, title_key, kind, publisher_id, authors, url,
                            published, retrieved, reliability, created_at, updated_at) VALUES
          (1, 's-1', 'APT1', 'apt1', 'report', 1, '[]', NULL, '2013-02-19', NULL, 'B',
           '{now}', '{now}'),
          (2, 's-2', 'Globe', 'globe', 'article', NULL, '["A. Writer"]', 'https://x.test/a',
           '2013-03', NULL, NULL, '{now}', '{now}');
        INSERT INTO source_citation (source_id, cited_id) VALUES (2, 1);
        INSERT INTO claim (id, uid, text, text_hash, quote, claimant_id, stated, note,
                           credibility, status, verdict, created_at, updated_at) VALUES
          (1, 'c-1', 'PLA stole terabytes', 'h1', NULL, 1, '2013-02-19', NULL, 2,
           'unreviewed', NULL, '{now}', '{now}'),
          (2, 'c-2', 'China denies it', 'h2', 'We deny', 2, '2013', 'n', NULL, 'reviewed',
           'unverifiable', '{now}', '{now}');
        INSERT INTO claim_subject (claim_id, actor_id) VALUES (1, 2), (2, 2);
        INSERT INTO claim_tag (claim_id, tag) VALUES (1, 'cyber');
        INSERT INTO appearance (claim_id, source_id, position) VALUES (1, 1, 0), (1, 2, 1),
          (2, 2, 0);
        INSERT INTO link (id, uid, from_id, relation, to_id, note, created_at) VALUES
          (1, 'l-1', 2, 'disputes', 1, NULL, '{now}');
        INSERT INTO verdict (id, uid, claim_id, verdict, reviewer, note, created_at) VALUES
          (1, 'v-1', 2, 'unverifiable', 'desk', NULL, '{now}');
        INSERT INTO history (id, uid, entity, entity_id, action, changes, by, at) VALUES
          (1, 'h-1', 'claim', 1, 'created', '{{}}', 'x', '{now}');
        """
    for statement in script.split(";"):
        if statement.strip():
            conn.exec_driver_sql(statement)


def _populate_0002(conn: Connection) -> None:
    _populate_0001(conn)
    conn.exec_driver_sql("UPDATE actor SET reliability = 'A' WHERE id = 1")


def _populate_0005(conn: Connection) -> None:
    _populate_0002(conn)
    now = "2026-01-01 00:00:00.000000"
    script = f"""
        UPDATE claim SET confidence = 'high' WHERE id = 1;
        INSERT INTO actor (id, uid, name, kind, description, created_at, updated_at) VALUES
          (3, 'a-3', 'PLA Unit 61398', 'group', NULL, '{now}', '{now}');
        INSERT INTO actor_part (part_id, whole_id) VALUES (3, 2);
        INSERT INTO incident (id, uid, name, kind, started, ended, description, created_at,
                              updated_at) VALUES
          (1, 'i-1', 'APT1 intrusions', 'intrusion', '2006', '2013-02', NULL, '{now}', '{now}');
        INSERT INTO incident_name (id, incident_id, name, key, is_primary) VALUES
          (1, 1, 'APT1 intrusions', 'apt1 intrusions', TRUE), (2, 1, 'Comment Crew', 'comment crew',
           FALSE);
        INSERT INTO incident_victim (incident_id, actor_id) VALUES (1, 1);
        INSERT INTO claim_incident (claim_id, incident_id) VALUES (1, 1), (2, 1);
        INSERT INTO claim_stance (claim_id, actor_id, stance) VALUES (1, 3, 'blames'),
          (2, 3, 'clears'), (2, 2, 'clears');
        """
    for statement in script.split(";"):
        if statement.strip():
            conn.exec_driver_sql(statement)


# A populated database at each revision: every revision must have its builder.
POPULATE: dict[str, Callable[[Connection], None]] = {
    "0001": _populate_0001,
    "0002": _populate_0002,
    "0003": _populate_0002,  # 0003 changes only PostgreSQL's search index
    "0004": _populate_0002,
    "0005": _populate_0005,
    "0006": _populate_0005,  # 0006 rebuilds only the SQLite search index
    "0007": _populate_0005,  # 0007 adds an empty table (external_id)
    "0008": _populate_0005,  # 0008 adds views only
    "0009": _populate_0005,  # 0009 adds the history's chain columns and seals what is there
    "0010": _populate_0005,  # 0010 adds source.twin and a unique index
}
TABLES = [
    "actor",
    "actor_name",
    "source",
    "source_citation",
    "claim",
    "claim_subject",
    "claim_tag",
    "appearance",
    "link",
    "verdict",
    "history",
    "actor_part",
    "incident",
    "incident_name",
    "incident_victim",
    "claim_incident",
    "claim_stance",
]


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _rows(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    from sqlalchemy import inspect

    present = set(inspect(conn).get_table_names())  # tables a later revision adds are absent
    return {
        t: [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1, 2")]
        for t in TABLES
        if t in present
    }


def _build(url: str | Path, revision: str) -> dict[str, list[tuple[Any, ...]]]:
    """A database at `revision` holding that revision's fixture rows (any earlier content
    dropped); returns the rows as stored."""
    database = open_database(str(url), migrate=False)
    with database.connect() as conn:
        current = stored_revision(conn)
    if current is not None:
        downgrade(database, "base")
    upgrade(database, revision)
    with database.connect(write=True) as conn:
        POPULATE[revision](conn)
    with database.connect() as conn:
        rows = _rows(conn)
    database.close()
    return rows


def test_every_revision_has_a_populated_fixture() -> None:
    assert set(_revisions()) == set(POPULATE)


@pytest.mark.parametrize("revision", sorted(POPULATE))
def test_upgrade_from_every_revision_keeps_every_row(backend, db_url, tmp_path, revision) -> None:
    before = _build(db_url, revision)
    notes: list[str] = []
    database = open_database(db_url, notify=notes.append)
    with database.connect() as conn:
        after = _rows(conn)
        for table, rows in before.items():
            width = len(rows[0]) if rows else 0
            assert [r[:width] for r in after[table]] == rows, table
        assert stored_revision(conn) == HEAD_REVISION
    database.close()
    if backend == "sqlite":
        if revision != HEAD_REVISION:
            assert notes and "backup" in notes[0]
        assert not list(tmp_path.glob("*.bak"))  # kept only until the upgrade succeeded


def test_downgrade_and_upgrade_again_keep_rows(db_url) -> None:
    before = _build(db_url, "0001")
    database = open_database(db_url)
    downgrade(database, "0001")
    upgrade(database)
    with database.connect() as conn:
        # Columns added since 0001 come after the ones it had.
        width = len(before["claim"][0])
        assert [r[:width] for r in _rows(conn)["claim"]] == before["claim"]
        assert conn.exec_driver_sql("SELECT count(*) FROM actor").scalar() == 2
    database.close()


def _extra_migration(tmp_path: Path, body: str) -> Path:
    """A copy of the migrations with one more revision, 9999, whose upgrade runs `body`."""
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    header = (
        "import time\nimport sqlalchemy as sa\nfrom alembic import op\n"
        f"revision = '9999'\ndown_revision = '{HEAD_REVISION}'\n"
        "branch_labels = depends_on = None\n\n"
        "def downgrade():\n    pass\n\n"
        "def upgrade():\n"
    )
    code = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    (location / "versions" / "9999_extra.py").write_text(header + code + "\n")
    return location


def _config_at(location: Path):  # type: ignore[no-untyped-def]
    def build(connection=None):  # type: ignore[no-untyped-def]
        cfg = alembic_config(connection)
        cfg.set_main_option("script_location", str(location))
        return cfg

    return build


def test_a_failed_migration_rolls_back_whole(tmp_path, monkeypatch) -> None:
    path = tmp_path / "db.db"
    _build(path, HEAD_REVISION)
    location = _extra_migration(
        tmp_path,
        """
        op.create_table("scratch", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("DELETE FROM claim_tag")
        op.execute("INSERT INTO claim_subject (claim_id, actor_id) VALUES (77, 77)")
        """,
    )
    monkeypatch.setattr(tracker.db, "alembic_config", _config_at(location))
    monkeypatch.setattr(tracker.db, "HEAD_REVISION", "9999")
    with pytest.raises(StorageError, match="foreign key"):
        open_database(str(path))
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "scratch" not in tables  # the DDL rolled back too
    assert conn.execute("SELECT count(*) FROM claim_tag").fetchone()[0] == 1
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION
    conn.close()


def test_kill_during_a_migration_leaves_the_database_as_it_was(tmp_path) -> None:
    path = tmp_path / "db.db"
    before = _build(path, HEAD_REVISION)
    location = _extra_migration(
        tmp_path,
        """
        op.execute("DELETE FROM claim_tag")
        op.create_table("scratch", sa.Column("id", sa.Integer, primary_key=True))
        print("migrating", flush=True)
        time.sleep(60)
        """,
    )
    script = textwrap.dedent(
        f"""
        import tracker.db as d
        build = d.alembic_config
        def patched(connection=None):
            cfg = build(connection)
            cfg.set_main_option("script_location", {str(location)!r})
            return cfg
        d.alembic_config = patched
        d.HEAD_REVISION = "9999"
        d.open_database({str(path)!r})
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "migrating"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    database = open_database(str(path))  # recovers, and is still at the real head
    with database.connect() as conn:
        assert conn.exec_driver_sql("SELECT * FROM claim_tag").fetchall() == before["claim_tag"]
        assert (
            conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            == HEAD_REVISION
        )
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    database.close()


def test_a_database_from_a_newer_tracker_is_refused(tmp_path) -> None:
    path = tmp_path / "db.db"
    _build(path, HEAD_REVISION)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="newer tracker"):
        open_database(str(path))


def test_new_not_null_columns_have_a_default_or_backfill() -> None:
    """A NOT NULL column added to a table that may hold rows needs a server default (or the
    migration must fill it before the constraint): otherwise upgrading a populated database
    fails. Checked on every migration after the first, which creates the tables."""
    import ast

    for path in sorted((MIGRATIONS / "versions").glob("0*.py"))[1:]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_column"):
                continue
            for column in (a for a in node.args if isinstance(a, ast.Call)):
                keywords = {k.arg: k.value for k in column.keywords}
                nullable = keywords.get("nullable")
                not_null = isinstance(nullable, ast.Constant) and nullable.value is False
                backfilled = "UPDATE " in path.read_text()
                assert not not_null or "server_default" in keywords or backfilled, path.name
