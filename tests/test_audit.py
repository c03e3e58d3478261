"""Who did what, beyond doubt: the history is append-only and hash-chained on both backends, and
on PostgreSQL written by the database role, with privileges from `tracker db grant`."""

import itertools
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Run, run_tracker, tamper
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tracker.chain import head, verify
from tracker.db import HEAD_REVISION, downgrade, open_database
from tracker.errors import TrackerError
from tracker.models import HistoryEntry

# --- helpers ------------------------------------------------------------------------------------


def entries(url: str) -> list[HistoryEntry]:
    database = open_database(url)
    with database.session(write=False) as s:
        found = list(s.scalars(select(HistoryEntry).order_by(HistoryEntry.id)))
    database.close()
    return found


def check_lines(cli: Run) -> list[str]:
    result = cli("db", "check", ok=False)
    assert result.exit_code == 1, result.stdout
    lines: list[str] = result.stdout.splitlines()
    return lines


# --- the chain ----------------------------------------------------------------------------------


def test_every_write_path_is_sealed_in_one_chain(cli, db_url, tmp_path) -> None:
    cli("actor", "add", "Mandiant", "--kind", "company")  # Core: the directory of names
    cli("claim", "add", "APT1 is PLA Unit 61398", "--by", "Mandiant")  # ORM
    feed = tmp_path / "feed.csv"
    feed.write_text("text,claimant\nFirst imported claim,Kaspersky\nSecond one,Kaspersky\n")
    cli("import", "claims", str(feed))  # bulk INSERT ... SELECT
    found = entries(db_url)
    assert len(found) >= 5
    assert sorted(e.seq for e in found) == list(range(1, len(found) + 1))
    by_seq = sorted(found, key=lambda e: e.seq or 0)
    assert by_seq[0].prev_hash is None
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(by_seq))
    database = open_database(db_url)
    with database.connect() as conn:
        assert verify(conn) == []
        last = head(conn)
    database.close()
    assert (last.seq, last.hash) == (by_seq[-1].seq, by_seq[-1].hash)
    assert cli("db", "check").stdout.strip() == "ok"
    status = json.loads(cli("db", "status", "-f", "json").stdout)
    assert status["chain_head"] == f"seq {last.seq} {last.hash}"


def test_history_cannot_be_changed_or_deleted(cli, db_url) -> None:
    cli("actor", "add", "Mandiant", "--kind", "company")
    database = open_database(db_url)
    for statement in (
        "UPDATE history SET by = 'someone else' WHERE id = 1",
        "UPDATE history SET seq = 7 WHERE id = 1",
        "DELETE FROM history WHERE id = 1",
        "UPDATE history_head SET seq = 0",
        "DELETE FROM history_head",
    ):
        with (
            pytest.raises(TrackerError, match=r"history|head"),
            database.connect(write=True) as conn,
        ):
            conn.execute(text(statement))
    database.close()
    assert [(e.id, e.by, e.seq) for e in entries(db_url)] == [(1, "tester", 1)]


TAMPERING = {
    "altered": (
        ['UPDATE history SET changes = \'{"name": "forged"}\' WHERE id = 3'],
        "history entry #3 (seq 3): hash does not match its content — altered",
    ),
    "deleted": (
        ["DELETE FROM history WHERE id = 5"],
        "history: seq 5 missing (deleted): history entry #6 (seq 6) follows",
    ),
    "cut off": (
        ["DELETE FROM history WHERE id >= 9"],
        "history: chain head is seq {last} but the entries end at seq 8: seq 9 to {last} "
        "missing (cut off)",
    ),
    "reordered": (
        [
            "UPDATE history SET seq = -1 WHERE id = 2",
            "UPDATE history SET seq = 2 WHERE id = 3",
            "UPDATE history SET seq = 3 WHERE id = 2",
        ],
        "history entry #3 (seq 2): does not follow the entry before it (prev_hash differs) — "
        "moved or replaced",
    ),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_db_check_names_the_first_tampered_entry(how, seeded, cli, db_url) -> None:
    assert cli("db", "check").stdout.strip() == "ok"
    last = len(entries(db_url))
    statements, first = TAMPERING[how]
    tamper(db_url, *statements)
    lines = check_lines(cli)
    assert lines[0] == first.format(last=last)
    as_json = json.loads(cli("db", "check", "-f", "json", ok=False).stdout)
    assert as_json["ok"] is False and as_json["problems"][0] == lines[0]


def test_a_rewritten_head_is_caught(seeded, cli, db_url) -> None:
    tamper(db_url, f"UPDATE history_head SET hash = '{'0' * 64}'")
    last = len(entries(db_url))
    assert check_lines(cli) == [f"history: chain head (seq {last}) does not match its entry's hash"]


def test_entries_written_around_tracker_are_sealed_by_the_next_change(cli, db_url) -> None:
    cli("actor", "add", "Mandiant", "--kind", "company")
    tamper(  # straight in SQL, as psql would
        db_url,
        "INSERT INTO history (uid, entity, entity_id, action, changes, by, at) VALUES "
        "('7e1f4c1e-0000-4000-8000-000000000001', 'actor', 1, 'edited', '{}', 'x', "
        "CURRENT_TIMESTAMP)",
    )
    checked = cli("db", "check").stdout.splitlines()
    assert checked == [
        "ok",
        "warning: history entries #2 are not sealed yet: written around tracker",
    ]
    cli("actor", "add", "Kaspersky", "--kind", "company")
    assert [e.seq for e in entries(db_url)] == [1, 2, 3]
    assert cli("db", "check").stdout.strip() == "ok"


# --- dumps --------------------------------------------------------------------------------------


def _restore(tmp_path: Path, dump: Path, backend: str, db_url: str) -> object:
    """`import all` into a new, empty database of the same backend."""
    if backend == "sqlite":
        target = str(tmp_path / "restored.db")
    else:
        from helpers import empty_postgres

        empty_postgres(db_url)
        target = db_url
    return run_tracker("--db", target, "import", "all", str(dump))


def test_export_all_carries_the_chain_and_import_all_verifies_it(
    seeded, cli, db_url, backend, tmp_path
) -> None:
    dump = tmp_path / "dump"
    cli("export", "all", str(dump))
    manifest = json.loads((dump / "manifest.json").read_text())
    rows = [json.loads(line) for line in (dump / "history.jsonl").read_text().splitlines()]
    assert manifest["chain"] == {"seq": len(rows), "hash": rows[-1]["hash"]}
    assert {"seq", "prev_hash", "hash", "role"} <= rows[0].keys()
    assert not (dump / "history_head.jsonl").exists()

    rows[2]["changes"] = {"name": "forged"}
    altered = tmp_path / "altered"
    altered.mkdir()
    for path in dump.iterdir():
        (altered / path.name).write_bytes(path.read_bytes())
    (altered / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = _restore(tmp_path, altered, backend, db_url)
    assert result.returncode == 65  # type: ignore[attr-defined]
    assert result.stderr.splitlines() == [  # type: ignore[attr-defined]
        f"Error: {altered / 'history.jsonl'}: the history's hash chain is broken: history entry "
        "#3 (seq 3): hash does not match its content — altered; nothing was restored"
    ]

    cut = tmp_path / "cut"
    cut.mkdir()
    for path in dump.iterdir():
        (cut / path.name).write_bytes(path.read_bytes())
    lines = (dump / "history.jsonl").read_text().splitlines(keepends=True)
    (cut / "history.jsonl").write_text("".join(lines[:-1]))
    manifest["tables"]["history"] -= 1
    (cut / "manifest.json").write_text(json.dumps(manifest))
    result = _restore(tmp_path, cut, backend, db_url)
    assert result.returncode == 65  # type: ignore[attr-defined]
    assert "missing (cut off); nothing was restored" in result.stderr  # type: ignore[attr-defined]

    result = _restore(tmp_path, dump, backend, db_url)
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]


def test_upgrading_seals_the_history_already_there(tmp_path) -> None:
    path = str(tmp_path / "old.db")
    Run()("--db", path, "actor", "add", "Mandiant", "--kind", "company")
    Run()("--db", path, "actor", "add", "Kaspersky", "--kind", "company")
    database = open_database(path)
    downgrade(database, "0006")
    database.close()
    assert "seq" not in {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(history)")}
    assert [(e.id, e.seq) for e in entries(path)] == [(1, 1), (2, 2)]
    assert Run()("--db", path, "db", "check").stdout.strip() == "ok"


# --- parallel writers ---------------------------------------------------------------------------

WRITER = """
import sys
from typer.testing import CliRunner
from tracker.cli import app
runner = CliRunner()
for i in range(int(sys.argv[2])):
    result = runner.invoke(app, ["claim", "add", f"Claim {i} of writer {sys.argv[1]}",
                                 "--by", "Mandiant"])
    assert result.exit_code == 0, result.output
"""


def test_parallel_writers_make_one_valid_chain(cli, db_url) -> None:
    cli("actor", "add", "Mandiant", "--kind", "company")
    env = {**os.environ, "TRACKER_DB": db_url}
    env.pop("PYTHONPATH", None)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(w), "6"], env=env) for w in range(3)
    ]
    assert all(w.wait(timeout=120) == 0 for w in writers)
    found = entries(db_url)
    assert len(found) == 1 + 3 * 6
    assert sorted(e.seq for e in found) == list(range(1, len(found) + 1))
    assert cli("db", "check").stdout.strip() == "ok"


def test_grant_is_for_postgresql(backend, cli) -> None:
    if backend != "sqlite":
        pytest.skip("the SQLite answer")
    result = cli("db", "grant", "alice", "--editor", ok=False)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: db grant is for PostgreSQL: a SQLite file is guarded by its file permissions"
    ]


# --- roles on PostgreSQL ------------------------------------------------------------------------


@pytest.fixture
def roles(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A reader, an editor and an admin of the test database, as real roles that log in (trust
    on 127.0.0.1); every role and privilege dropped at the end."""
    from helpers import empty_postgres

    empty_postgres(postgres_url)
    monkeypatch.setenv("TRACKER_DB", postgres_url)
    pid = os.getpid()
    names = {level: f"tracker_test_{level}_{pid}" for level in ("reader", "editor", "admin")}
    for level, name in names.items():
        Run()("db", "grant", name, f"--{level}")
    base = make_url(postgres_url)
    urls = {
        level: base.set(username=name).render_as_string(hide_password=False)
        for level, name in names.items()
    }
    yield {**{f"{k}_role": v for k, v in names.items()}, **urls}
    database = make_url(postgres_url).database
    groups = [f"{database}_{level}" for level in ("reader", "editor", "admin")]
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'REASSIGN OWNED BY "{groups[2]}" TO CURRENT_USER'))
        for role in [*names.values(), *groups]:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
    engine.dispose()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_reader_cannot_write(roles) -> None:
    result = Run()(
        "--db", roles["reader"], "actor", "add", "Mandiant", "--kind", "company", ok=False
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: permission denied: role '{roles['reader_role']}' may only read; "
        "nothing was changed"
    ]
    assert Run()("--db", roles["reader"], "actor", "list", "-f", "json").stdout.strip() == "[]"


def test_the_author_is_the_role_whatever_tracker_user_says(roles, monkeypatch) -> None:
    import psycopg

    monkeypatch.setenv("TRACKER_USER", "Desk A")
    cli = Run()
    cli("--db", roles["editor"], "actor", "add", "Mandiant", "--kind", "company")
    editor = roles["editor_role"]
    (line,) = cli("actor", "history", "Mandiant").stdout.splitlines()
    assert line.endswith(f"created by {editor} (stated by: Desk A): Mandiant")
    (entry,) = json.loads(cli("actor", "history", "Mandiant", "-f", "json").stdout)
    assert (entry["role"], entry["by"]) == (editor, "Desk A")
    with psycopg.connect(_libpq(roles["editor"])) as conn:  # a role given by the client
        conn.execute(
            "INSERT INTO history (uid, entity, entity_id, action, changes, by, role, at, seq) "
            "VALUES (gen_random_uuid(), 'actor', 1, 'edited', '{}', 'x', 'somebody', now(), 99)"
        )
        role, seq = conn.execute("SELECT role, seq FROM history WHERE by = 'x'").fetchone()
    assert (role, seq) == (editor, None)


def test_an_editor_cannot_alter_or_delete_history(roles) -> None:
    import psycopg

    Run()("--db", roles["editor"], "actor", "add", "Mandiant", "--kind", "company")
    for statement in (
        "UPDATE history SET by = 'me'",
        "UPDATE history SET seq = 5",
        "DELETE FROM history",
        "TRUNCATE history",
        "UPDATE history_head SET seq = 0",
    ):
        with (
            psycopg.connect(_libpq(roles["editor"])) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(statement)
    # The owner has every privilege: the trigger still says no.
    with (
        psycopg.connect(_libpq(roles["admin"])) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute("DELETE FROM history")
    assert [e.seq for e in entries(roles["admin"])] == [1]


def test_only_admins_migrate(roles, postgres_url) -> None:
    database = open_database(postgres_url)
    downgrade(database, "0006")
    database.close()
    result = Run()("--db", roles["editor"], "db", "upgrade", ok=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: permission denied: role '{roles['editor_role']}' may not upgrade the schema: "
        "only admins migrate (tracker db grant ROLE --admin); nothing was changed"
    ]
    assert Run()("--db", roles["admin"], "db", "upgrade").stderr.strip() == (
        f"schema is at revision {HEAD_REVISION}"
    )
    # The tables the upgrade made (history_head) are granted as the others are.
    Run()("--db", roles["editor"], "actor", "add", "Mandiant", "--kind", "company")
    assert Run()("--db", roles["reader"], "db", "check").stdout.strip() == "ok"


def test_grant_changes_the_level_and_revokes(roles) -> None:
    cli = Run()
    reader = roles["reader_role"]
    assert cli("db", "grant", reader, "--editor").stderr.strip() == (
        f"'{reader}' is now editor (member of '{make_url(roles['reader']).database}_editor')"
    )
    cli("--db", roles["reader"], "actor", "add", "Mandiant", "--kind", "company")
    cli("db", "grant", reader, "--revoke")
    result = cli("--db", roles["reader"], "actor", "list", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: permission denied: role '{reader}'")
