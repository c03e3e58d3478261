"""The storage layer: schema from migrations, connection settings, status, check and backup."""

import sqlite3

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from helpers import dump
from sqlalchemy import inspect, text

from tracker.db import HEAD_REVISION, alembic_config, downgrade, open_database, upgrade
from tracker.errors import StorageError


def test_one_head_and_the_code_knows_it() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD_REVISION]


def test_new_database_is_at_head_without_an_init_step(db_path) -> None:
    database = open_database(str(db_path))
    with database.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
        )
    database.close()
    assert db_path.exists()


def test_models_match_migrations(db) -> None:
    with db.engine.connect() as conn:
        command.check(alembic_config(conn))  # raises if autogenerate would emit anything


def test_downgrade_to_base_and_back(db) -> None:
    downgrade(db, "base")
    with db.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert tables <= {"alembic_version", "sqlite_sequence"}
    upgrade(db)
    with db.connect() as conn:
        assert "claim" in inspect(conn).get_table_names()
        assert conn.exec_driver_sql("SELECT count(*) FROM claim").scalar() == 0


def test_every_connection_enforces_foreign_keys_wal_and_busy_timeout(db_path) -> None:
    db = open_database(str(db_path))
    with db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        with pytest.raises(Exception, match="FOREIGN KEY"):
            conn.exec_driver_sql("INSERT INTO claim_subject (claim_id, actor_id) VALUES (999, 999)")


def test_reopening_a_current_database_changes_nothing(cli, seeded, db_path) -> None:
    before = dump(open_database(str(db_path)))
    assert dump(open_database(str(db_path))) == before


def test_db_status_and_check(cli, seeded, db_path) -> None:
    status = cli("db", "status", "-f", "json").stdout
    assert '"claims": 3' in status and f'"revision": "{HEAD_REVISION}"' in status
    assert str(db_path) in status
    assert cli("db", "check").stdout.strip() == "ok"


def test_db_check_fails_on_a_broken_search_index(cli, seeded, db_path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER claim_fts_update")
    conn.execute("UPDATE claim SET text = 'changed behind the index' WHERE id = 1")
    conn.commit()
    conn.close()
    result = cli("db", "check", ok=False)
    assert result.exit_code == 1
    assert "search index" in result.stdout


def test_db_check_fails_on_a_dangling_foreign_key(cli, seeded, db_path) -> None:
    conn = sqlite3.connect(db_path)  # a raw connection: foreign keys off, as other tools have them
    conn.execute("INSERT INTO claim_tag (claim_id, tag) VALUES (4242, 'orphan')")
    conn.commit()
    conn.close()
    result = cli("db", "check", ok=False)
    assert result.exit_code == 1
    assert "foreign key: claim_tag" in result.stdout


def test_backup_is_a_consistent_database(cli, seeded, db_path, tmp_path) -> None:
    target = tmp_path / "backup.db"
    cli("db", "backup", str(target))
    assert dump(open_database(str(target))) == dump(open_database(str(db_path)))
    again = cli("db", "backup", str(target), ok=False)
    assert again.exit_code == 65 and "already exists" in again.stderr


def test_db_upgrade_reports_the_revision(cli) -> None:
    assert HEAD_REVISION in cli("db", "upgrade").stderr


def test_missing_folder_is_a_clean_error(tmp_path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_database(str(tmp_path / "nowhere" / "x.db"))


def test_a_file_that_is_not_a_database(cli, db_path) -> None:
    db_path.write_bytes(b"this is not a database, just some text" * 100)
    result = cli("claim", "list", ok=False)
    assert result.exit_code == 74
    assert result.stderr.startswith("Error: ") and "not a database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_password_never_shown(cli, monkeypatch) -> None:
    monkeypatch.setenv("TRACKER_DB", "postgresql+psycopg://analyst:s3cret@127.0.0.1:1/nodb")
    result = cli("claim", "list", ok=False)
    assert result.exit_code != 0
    assert "s3cret" not in result.stderr + result.stdout
    assert result.stderr.startswith("Error: ")
