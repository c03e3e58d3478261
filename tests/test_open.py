"""Opening databases: foreign files untouched, missing ones not created by reads, newer schemas
refused without a backup, read-only folders readable, and secrets never printed."""

import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_tracker
from typer.testing import CliRunner

from tracker.cli import app
from tracker.db import HEAD_REVISION, hide_password, open_database

SECRET = "s3cretPW42"


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env)


def _foreign(path: Path) -> bytes:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute("CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.org')")
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("command", [["search", "x"], ["claim", "add", "t", "--by", "A"]])
def test_another_applications_database_is_refused_untouched(tmp_path, command) -> None:
    path = tmp_path / "places.sqlite"
    before = _foreign(path)
    result = invoke("--db", str(path), *command)
    assert result.exit_code == 74
    assert "not a tracker database: it holds tables moz_places, moz_bookmarks" in result.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["places.sqlite"]


def test_reads_never_create_a_database(tmp_path) -> None:
    path = tmp_path / "new.db"
    for command in (["db", "status"], ["claim", "list"], ["search", "x"], ["export", "claims"]):
        result = invoke("--db", str(path), *command)
        assert result.exit_code == 74, command
        assert f"no database at {path} yet" in result.stderr
        assert not path.exists()
    assert invoke("--db", str(path), "actor", "add", "Alice").exit_code == 0
    assert path.exists()


def test_an_empty_file_is_initialised_by_a_write(tmp_path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    assert invoke("--db", str(path), "actor", "add", "Alice").exit_code == 0
    assert invoke("--db", str(path), "actor", "list").exit_code == 0


def test_reading_keeps_bytes_and_journal_mode(tmp_path) -> None:
    path = tmp_path / "t.db"
    assert invoke("--db", str(path), "actor", "add", "Alice").exit_code == 0
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = path.read_bytes()
    for command in (["actor", "list"], ["search", "Alice"], ["db", "status"], ["db", "check"]):
        assert invoke("--db", str(path), *command).exit_code == 0, command
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.db"]


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_database_name_is_a_usage_error(tmp_path, value) -> None:
    assert invoke("--db", value, "actor", "list").exit_code == 2
    result = invoke("actor", "list", env={"TRACKER_DB": ""})
    assert result.exit_code == 2 and "TRACKER_DB" in result.stderr


def test_import_all_from_nowhere_creates_no_database(tmp_path) -> None:
    path = tmp_path / "new.db"
    result = invoke("--db", str(path), "import", "all", str(tmp_path / "nonexistent"))
    assert result.exit_code == 74
    assert not path.exists()


def _newer(tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    assert invoke("--db", str(path), "actor", "add", "Alice").exit_code == 0
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    return path


def test_a_newer_schema_leaves_no_backup_and_status_describes_it(tmp_path) -> None:
    path = _newer(tmp_path)
    for _ in range(3):
        result = invoke("--db", str(path), "actor", "add", "Bob")
        assert result.exit_code == 74 and "newer tracker" in result.stderr
    assert not list(tmp_path.glob("*.bak"))
    result = invoke("--db", str(path), "db", "status", "-f", "json")
    assert result.exit_code == 0
    assert '"revision": "9999"' in result.stdout and "Upgrade tracker" in result.stdout
    assert f'"expected": "{HEAD_REVISION}"' in result.stdout


def test_a_backup_that_cannot_be_written_is_one_line(shared_tmp) -> None:
    folder = shared_tmp / "ro"
    folder.mkdir()
    path = folder / "t.db"
    assert invoke("--db", str(path), "actor", "add", "Alice").exit_code == 0
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("UPDATE alembic_version SET version_num = '0002'")
    conn.commit()
    conn.close()
    os.chmod(path, 0o666)
    os.chmod(folder, 0o555)
    try:
        result = run_tracker("--db", str(path), "actor", "list", as_nobody=True)
    finally:
        os.chmod(folder, 0o755)
    assert result.returncode == 74, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "read-only" in result.stderr
    assert not list(folder.glob("*.bak"))


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder every user can reach (pytest's own is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="tracker-shared-"))
    os.chmod(folder, 0o755)
    yield folder
    for p in folder.rglob("*"):
        if p.is_dir():
            os.chmod(p, 0o755)
    shutil.rmtree(folder)


def _readonly_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "t.db"
    assert (
        invoke("--db", str(path), "claim", "add", "The sky is green", "--by", "Alice").exit_code
        == 0
    )
    for p in folder.iterdir():
        os.chmod(p, 0o644)
    os.chmod(folder, 0o555)
    os.chmod(tmp_path, 0o755)
    return path


def test_a_database_in_a_read_only_folder_can_be_read_not_written(shared_tmp) -> None:
    path = _readonly_copy(shared_tmp)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    try:
        for command in (
            ["claim", "list"],
            ["search", "sky"],
            ["report", "summary"],
            ["export", "claims"],
        ):
            result = run_tracker("--db", str(path), *command, as_nobody=True)
            assert result.returncode == 0, (command, result.stderr)
        assert "Alice" in run_tracker("--db", str(path), "search", "sky", as_nobody=True).stdout
        check = run_tracker("--db", str(path), "db", "check", as_nobody=True)
        assert check.returncode == 0 and check.stdout.strip() == "ok", check
        result = run_tracker("--db", str(path), "actor", "add", "Bob", as_nobody=True)
        assert result.returncode == 74 and "the database is read-only" in result.stderr
    finally:
        os.chmod(path.parent, 0o755)
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before


def test_db_check_reports_a_damaged_file_as_a_failed_check(tmp_path) -> None:
    path = tmp_path / "t.db"
    for i in range(200):
        invoke("--db", str(path), "claim", "add", f"claim number {i} " + "x" * 500, "--by", "A")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for number in range(3, len(data) // page):  # every b-tree page header but the schema's
        data[number * page : number * page + 12] = b"\xff" * 12
    path.write_bytes(bytes(data))
    result = invoke("--db", str(path), "db", "check")
    assert result.exit_code == 1, result.stderr
    assert "integrity" in result.stdout or "damaged" in result.stdout
    result = invoke("--db", str(path), "db", "backup", str(tmp_path / "b.db"))
    assert result.exit_code in (0, 74)
    if result.exit_code == 74:
        assert not (tmp_path / "b.db").exists() and "Traceback" not in result.stderr


def test_db_reindex_rebuilds_the_search_index(tmp_path) -> None:
    path = tmp_path / "t.db"
    assert invoke("--db", str(path), "claim", "add", "The sky is green", "--by", "A").exit_code == 0
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO claim_fts(claim_fts) VALUES ('delete-all')")
    conn.commit()
    conn.close()
    assert invoke("--db", str(path), "db", "check").exit_code == 1
    result = invoke("--db", str(path), "db", "reindex")
    assert result.exit_code == 0 and "rebuilt" in result.stderr
    assert invoke("--db", str(path), "db", "check").exit_code == 0
    assert "sky" in invoke("--db", str(path), "search", "sky").stdout


def test_backup_failures_clean_up_and_can_be_retried(shared_tmp) -> None:
    tmp_path = shared_tmp
    import resource

    path = tmp_path / "t.db"
    for i in range(50):
        invoke("--db", str(path), "claim", "add", f"claim {i} " + "y" * 2000, "--by", "A")
    target = tmp_path / "b.db"

    def small_files() -> None:
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    result = run_tracker("--db", str(path), "db", "backup", str(target), preexec_fn=small_files)
    assert result.returncode == 74, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert not target.exists() and not Path(f"{target}-journal").exists()
    assert invoke("--db", str(path), "db", "backup", str(target)).exit_code == 0
    assert target.exists()
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    os.chmod(path, 0o644)
    result = run_tracker("--db", str(path), "db", "backup", str(folder / "b.db"), as_nobody=True)
    assert result.returncode == 74 and "Traceback" not in result.stderr


# --- secrets ---------------------------------------------------------------------------------


def _urls(
    port: int = 5432, host: str = "127.0.0.1", db: str = "tracker_ci", user: str = "postgres"
) -> list[str]:
    return [
        f"postgresql+psycopg://{user}:{SECRET}@{host}:{port}/{db}",
        f"postgresql+psycopg://{user}@{host}:{port}/{db}?password={SECRET}",
        f"postgresql+psycopg://{user}@{host}:{port}/{db}?sslpassword={SECRET}&application_name=x",
        f"postgresql://{user}@{host}:{port}/{db}?connect_timeout=2&password={SECRET}",
    ]


def test_hide_password_masks_every_position() -> None:
    for url in [*_urls(), "postgresql+psycopg://u:" + SECRET + "@127.0.0.1:abc/x"]:
        assert SECRET not in hide_password(url)


@pytest.mark.parametrize(
    "where",
    ["bad host", "bad port", "bad database", "bad role", "malformed", "success"],
)
def test_secrets_never_printed(where, tmp_path, monkeypatch) -> None:
    if not os.environ.get("TRACKER_TEST_POSTGRES_URL") and where != "malformed":
        pytest.skip("needs the PostgreSQL server of TRACKER_TEST_POSTGRES_URL")
    urls = {
        "bad host": _urls(host="nonexistent.invalid"),
        "bad port": _urls(port=1),
        "bad database": _urls(db="no_such_db_here"),
        "bad role": _urls(user="no_such_role"),
        "malformed": [
            f"postgresql+psycopg://u:{SECRET}@127.0.0.1:abc/x",
            f"postgresql+psycopg://u:{SECRET}@[::1/x",
            f"postgresql+psycopg://u@[::1/x?password={SECRET}",
        ],
        "success": _urls(),
    }[where]
    for url in urls:
        for debug in ("", "1"):
            monkeypatch.setenv("TRACKER_DEBUG", debug)
            for command in (["db", "status"], ["claim", "show", "1"]):
                result = invoke("--db", url, *command)
                out = result.stdout + result.stderr
                assert SECRET not in out, (url, command, out)
                if where != "success":
                    assert result.exit_code == 74, (url, out)
                if not debug:
                    assert "Traceback" not in out


def test_unsupported_backends_and_bad_urls_are_one_line() -> None:
    result = invoke("--db", "mysql://u:p@localhost/x", "db", "status")
    assert result.exit_code == 74 and "unsupported database 'mysql'" in result.stderr
    result = invoke("--db", "postgresql+psycopg://u:p@127.0.0.1:abc/x", "db", "status")
    assert result.exit_code == 74 and "cannot read database URL" in result.stderr


def test_copy_of_database_keeps_working(tmp_path) -> None:
    path = tmp_path / "t.db"
    assert invoke("--db", str(path), "actor", "add", "Alice").exit_code == 0
    shutil.copy(path, tmp_path / "c.db")
    database = open_database(str(tmp_path / "c.db"), write=False)
    assert database.readonly and database.revision == HEAD_REVISION
    database.close()
    assert stat.S_ISREG(os.stat(tmp_path / "c.db").st_mode)
