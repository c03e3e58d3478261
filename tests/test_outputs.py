"""An output never overwrites the database, its side files or the input being read (exit 74,
nothing changed), whichever way the same file is named."""

import os
from pathlib import Path

import pytest
from helpers import snapshot

from tracker.cli.common import guard_output, set_db
from tracker.errors import OutputRefused

CSV = "text,claimant\nThe sky is green,Alice\n,Nobody\n"


def _variants(db: Path, tmp_path: Path) -> list[str]:
    link = tmp_path / "link.db"
    link.symlink_to(db)
    hard = tmp_path / "hard.db"
    os.link(db, hard)
    rel = os.path.relpath(db)
    return [
        str(db),
        rel,
        f"./{rel}",
        str(link),
        str(hard),
        f"{db}-wal",
        f"{db}-shm",
        f"{db}-journal",
    ]


def test_export_claims_never_writes_over_the_database(cli, db_path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    cli("claim", "add", "The sky is green", "--by", "Alice")
    before = db_path.read_bytes()
    for target in _variants(db_path, tmp_path):
        result = cli("export", "claims", "-o", target, ok=False)
        assert result.exit_code == 74, (target, result.stderr)
        assert "it is the database" in result.stderr, target
        assert result.stderr.count("\n") == 1
    assert db_path.read_bytes() == before
    assert not Path(f"{db_path}-journal").exists()


def test_skip_invalid_refuses_the_database_and_the_input(cli, db_url, backend, tmp_path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(CSV)
    before = snapshot(db_url)
    targets = [str(source), str(tmp_path / "in-link.csv")]
    (tmp_path / "in-link.csv").symlink_to(source)
    if backend == "sqlite":
        targets += [db_url, f"{db_url}-wal"]
    for target in targets:
        result = cli("import", "claims", str(source), "--skip-invalid", target, ok=False)
        assert result.exit_code == 74, (target, result.stderr)
        assert "cannot write" in result.stderr
    assert source.read_text() == CSV
    assert snapshot(db_url) == before


def test_stdout_and_fresh_files_are_allowed(cli, db_url, tmp_path) -> None:
    cli("claim", "add", "The sky is green", "--by", "Alice")
    assert "The sky is green" in cli("export", "claims", "-o", "-").stdout
    out = tmp_path / "out.csv"
    cli("export", "claims", "-o", str(out))
    assert "The sky is green" in out.read_text(encoding="utf-8-sig")


def test_postgres_only_the_input_matters(cli, db_url, backend, tmp_path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(CSV)
    rejects = tmp_path / "tracker.db"  # a name that would be the database on SQLite
    if backend == "sqlite":
        pytest.skip("the PostgreSQL side: no database file to protect")
    result = cli("import", "claims", str(source), "--skip-invalid", str(rejects))
    assert result.exit_code == 0
    assert "3,,Nobody," in rejects.read_text(encoding="utf-8-sig")


def test_export_all_and_backup_are_guarded(cli, db_path, tmp_path) -> None:
    before = db_path.read_bytes()
    assert cli("export", "all", str(db_path), ok=False).exit_code == 74
    result = cli("db", "backup", f"{db_path}-wal", ok=False)
    assert result.exit_code == 74 and "write-ahead log" in result.stderr
    assert not Path(f"{db_path}-wal").exists() or db_path.read_bytes() == before
    assert db_path.read_bytes() == before


def test_guard_output_is_callable_for_new_outputs(db_path, tmp_path) -> None:
    set_db(None)  # the database TRACKER_DB names
    names = tmp_path / "names.csv"
    names.write_text("x")
    with pytest.raises(OutputRefused, match="input file"):
        guard_output(names, inputs=[str(names)])
    with pytest.raises(OutputRefused, match="the database"):
        guard_output(db_path)
    guard_output(tmp_path / "fresh.csv", inputs=[str(names)])
    guard_output("-", inputs=["-"])
