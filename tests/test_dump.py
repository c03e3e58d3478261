"""Whole-database dumps: a consistent snapshot while others write, a strict restore, a dump that
appears only when complete, and `db check` holding an existing database to the same rules."""

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import reseal_dump, tamper
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tracker.db import open_database
from tracker.models import Base, Claim
from tracker.services.dump import export_all, snapshot

TRACKER = str(Path(sys.executable).parent / "tracker")


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "TRACKER_DB": url}


def _counts(url: str) -> dict[str, int]:
    """Rows per table of the dump format (the history's head travels in the manifest)."""
    database = open_database(url)
    try:
        with database.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables
                if t.name != "history_head"
            }
    finally:
        database.close()


def _wipe(url: str) -> None:
    """Every row deleted, children first: the database is empty again, ready for a restore.
    The history is append-only: only past its triggers."""
    tamper(url, *(f"DELETE FROM {t.name}" for t in reversed(Base.metadata.sorted_tables)))


@pytest.fixture
def fresh_db(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], str]]:
    """New, empty databases on the test's backend: SQLite files, or PostgreSQL databases
    created on the test server and dropped afterwards."""
    made: list[str] = []
    admin = None
    if backend == "postgresql":
        base = request.getfixturevalue("postgres_url")
        admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def make() -> str:
        n = len(made)
        if admin is None:
            url = str(tmp_path / f"fresh-{n}.db")
        else:
            name = f"tracker_dump_{os.getpid()}_{n}"
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(str(admin.url)).set(database=name)
            url = url.render_as_string(hide_password=False)
        made.append(url)
        return url

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for url in made:
                name = make_url(url).database
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# A. Consistent dumps --------------------------------------------------------------------------


WRITER = """
import os, subprocess, sys
w, tracker, stop = sys.argv[1], sys.argv[2], sys.argv[3]
i = 0
while not os.path.exists(stop):
    # A new claimant, source and subject each time: a dump that read the actor table before
    # this commit and the claim table after it would hold a claim by an actor it lacks.
    subprocess.run([tracker, 'claim', 'add', f'Claim {i} from writer {w}',
        '--by', f'Claimant {w}-{i}', '--source', f'Report {w}-{i}', '--about', f'Subject {w}-{i}',
        '--tag', 'soak'], check=True, capture_output=True)
    i += 1
"""


@pytest.mark.slow
def test_dumps_taken_while_three_writers_add_claims_all_restore(
    cli, db_url: str, tmp_path: Path, fresh_db: Callable[[], str]
) -> None:
    # Enough rows that each dump takes a while: writers commit between its tables' reads.
    rows = "".join(
        f"Claim {n} of the backlog,Claimant {n % 500},Report {n % 300}\n" for n in range(3000)
    )
    (tmp_path / "backlog.csv").write_text("text,claimant,source\n" + rows)
    cli("import", "claims", str(tmp_path / "backlog.csv"))
    stop = tmp_path / "stop"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(w), TRACKER, str(stop)], env=_env(db_url)
        )
        for w in range(3)
    ]
    dumps: list[Path] = []
    claims_seen: list[int] = []
    try:
        time.sleep(1.0)  # the writers are running
        for n in range(3):
            folder = tmp_path / f"dump-{n}"
            subprocess.run(
                [TRACKER, "export", "all", str(folder)],
                env=_env(db_url),
                check=True,
                capture_output=True,
            )
            dumps.append(folder)
            claims_seen.append(_counts(db_url)["claim"])
    finally:
        stop.touch()
        codes = [w.wait(timeout=60) for w in writers]
    assert codes == [0, 0, 0]
    manifests = [json.loads((d / "manifest.json").read_text()) for d in dumps]
    # The writers really wrote between and during the dumps.
    assert manifests[0]["tables"]["claim"] < manifests[-1]["tables"]["claim"] <= claims_seen[-1]
    for folder, manifest in zip(dumps, manifests, strict=True):
        url = fresh_db()
        restored = subprocess.run(
            [TRACKER, "import", "all", str(folder)], env=_env(url), capture_output=True, text=True
        )
        assert restored.returncode == 0, (folder, restored.stderr)
        assert _counts(url) == manifest["tables"]
        check = subprocess.run(
            [TRACKER, "db", "check"], env=_env(url), capture_output=True, text=True
        )
        assert (check.returncode, check.stdout.strip()) == (0, "ok"), check.stdout


def test_a_dump_sees_the_database_as_it_was_when_it_began(cli, db_url: str, tmp_path: Path) -> None:
    cli("claim", "add", "Before the dump", "--by", "Mandiant")
    database = open_database(db_url)
    try:
        with snapshot(database) as conn:
            assert conn.execute(select(func.count()).select_from(Claim)).scalar_one() == 1
            # Another writer commits a new claimant and claim mid-dump.
            cli("claim", "add", "During the dump", "--by", "Kaspersky", "--source", "Blog")
            counts = export_all(conn, tmp_path / "dump")
    finally:
        database.close()
    assert counts["claim"] == 1 and counts["actor"] == 1 and counts["source"] == 0
    assert len(_counts(db_url)) and _counts(db_url)["claim"] == 2


# C. A failed dump leaves nothing; the retry works ----------------------------------------------


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:
        # Writes past `limit` bytes fail with EFBIG, as on a full disk (Python ignores SIGXFSZ).
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_dump_that_fails_midway_leaves_nothing_and_the_retry_succeeds(
    cli, db_url: str, tmp_path: Path
) -> None:
    for n in range(6):
        cli("claim", "add", f"Long claim {n} " + "x" * 9_000, "--by", "Mandiant")
    target = tmp_path / "backup"
    target.mkdir()  # an empty folder given as the target may be replaced
    failed = subprocess.run(
        [TRACKER, "export", "all", str(target)],
        env=_env(db_url),
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size(40_000),
    )
    assert failed.returncode == 74, failed.stderr
    assert (
        failed.stderr.startswith("Error: cannot read or write") and failed.stderr.count("\n") == 1
    )
    assert "File too large" in failed.stderr
    assert list(target.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == ["backup"]
    cli("export", "all", str(target))
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["tables"]["claim"] == 6
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == ["backup"]


def test_export_all_refuses_a_non_empty_folder_or_a_file(cli, db_url: str, tmp_path: Path) -> None:
    cli("claim", "add", "A claim", "--by", "Mandiant")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    result = cli("export", "all", str(busy), ok=False)
    assert result.exit_code == 65 and "is not empty" in result.stderr
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    afile = tmp_path / "afile"
    afile.write_text("mine")
    result = cli("export", "all", str(afile), ok=False)
    assert result.exit_code == 65 and "not a folder" in result.stderr
    assert afile.read_text() == "mine"


# B. import all is strict ----------------------------------------------------------------------


@pytest.fixture
def good_dump(seeded: dict[str, int], cli, db_url: str, tmp_path: Path) -> Path:
    """The seed story dumped, and the database emptied, ready to restore into."""
    cli("claim", "rate", str(seeded["denial"]), "false", "--note", "why")
    folder = tmp_path / "good"
    cli("export", "all", str(folder))
    _wipe(db_url)
    return folder


def _lines(folder: Path, table: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / f"{table}.jsonl").read_text().splitlines()]


def _rewrite(folder: Path, table: str, rows: list[dict[str, Any]]) -> None:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    (folder / f"{table}.jsonl").write_text(body, encoding="utf-8")


def _set(folder: Path, table: str, column: str, value: Any, line: int = 1) -> None:
    rows = _lines(folder, table)
    if value is _DROP:
        del rows[line - 1][column]
    else:
        rows[line - 1][column] = value
    _rewrite(folder, table, rows)


_DROP = object()

BAD_VALUES = [
    ("claim", "text", "Stolen \x07 data", "control character"),
    ("claim", "status", "bogus", "status 'bogus' is not one of"),
    ("claim", "verdict", "nonsense", "verdict 'nonsense' is not one of"),
    ("claim", "stated", "not a date", "date stated 'not a date' is not a date"),
    ("claim", "text_hash", "0" * 64, "text_hash does not match its text"),
    ("claim", "text", "  padded text  ", "not in its cleaned form"),
    ("claim", "credibility", "3", "credibility must be a whole number, not text"),
    ("claim", "credibility", 9, "credibility 9 is not a grade"),
    ("claim", "claimant_id", 0, "claimant_id must be between 1 and"),
    ("claim", "id", 2**64, "id must be between 1 and"),
    ("claim", "id", -3, "id must be between 1 and"),
    ("claim", "id", 1.5, "id must be a whole number, not a number"),
    ("claim", "uid", "not-a-uid", "is not a UUID"),
    ("claim", "created_at", "2013-02-19T10:00:00", "carries no time zone"),
    ("claim", "created_at", "yesterday", "not an ISO 8601 timestamp"),
    ("claim", "updated_at", None, "updated_at is missing (null)"),
    ("claim", "note", "", "note is empty"),
    ("actor", "name", 123, "name must be text, not a number"),
    ("actor", "name", "N" * 5000, "5000 characters long"),
    ("actor", "kind", "alien", "actor kind 'alien' is not one of"),
    ("actor", "reliability", "Z", "reliability 'Z' is not a grade"),
    ("actor_name", "key", "wrong", "key does not match its name"),
    ("actor_name", "is_primary", "yes", "is_primary must be true or false, not text"),
    ("source", "url", "ftp://example.org/x", "must start with http"),
    ("source", "title_key", "other", "title_key does not match its title"),
    ("source", "authors", "Ann", "authors must be a list of names"),
    ("source", "published", "2013-02-30", "has no day 30"),
    ("claim_tag", "tag", "Has Space", "not in its cleaned form"),
    ("link", "relation", "likes", "relation 'likes' is not one of"),
    ("verdict", "verdict", "meh", "verdict 'meh' is not one of"),
    ("history", "changes", [1, 2], "changes must be a JSON object, not a list"),
    ("history", "changes", "text", "changes must be a JSON object, not text"),
    ("history", "entity", "claim\nx", "control character"),
    ("appearance", "position", -1, "position must not be negative"),
    ("claim", "extra", 1, "table claim has no such column"),
    ("claim", "quote", _DROP, "column 'quote': missing"),
]


@pytest.mark.parametrize(("table", "column", "value", "reason"), BAD_VALUES)
def test_import_all_refuses_a_bad_value_naming_file_line_and_column(
    good_dump: Path, cli, db_url: str, table: str, column: str, value: Any, reason: str
) -> None:
    line = len(_lines(good_dump, table))  # the last row: later rows are checked too
    _set(good_dump, table, column, value, line)
    result = cli("import", "all", str(good_dump), ok=False)
    assert result.exit_code == 65, result.stderr
    message = result.stderr
    assert message.startswith("Error: ") and message.count("\n") == 1, message
    assert f"{table}.jsonl, line {line}, column '{column}': " in message, message
    assert reason in message, message
    assert set(_counts(db_url).values()) == {0}


def test_history_changes_of_any_object_shape_restore(good_dump: Path, cli, db_url: str) -> None:
    _set(good_dump, "history", "changes", {"future": {"shape": [1, None]}})
    reseal_dump(good_dump)  # as a tracker that wrote such an entry would have sealed it
    cli("import", "all", str(good_dump))
    assert _counts(db_url)["history"] == len(_lines(good_dump, "history"))
    assert cli("db", "check").stdout.strip() == "ok"


MANIFEST_CASES = [
    ("tables", "many", "'tables' must be an object"),
    ("tables", {"claim": "many"}, "'tables' of 'claim' must be a whole number"),
    ("tables", {"claim": -1}, "'tables' of 'claim' must be a whole number"),
    ("next_ids", {"claim": 10**30}, "'next_ids' of 'claim' must be a whole number from 1"),
    ("next_ids", {"claim": True}, "'next_ids' of 'claim' must be a whole number"),
    ("next_ids", {"claim": "4"}, "'next_ids' of 'claim' must be a whole number"),
    ("next_ids", {"widget": 4}, "'next_ids' names 'widget'"),
    ("next_ids", None, "'next_ids' must be an object"),
]


@pytest.mark.parametrize(("key", "value", "reason"), MANIFEST_CASES)
def test_import_all_refuses_a_manifest_of_the_wrong_shape(
    good_dump: Path, cli, db_url: str, key: str, value: Any, reason: str
) -> None:
    path = good_dump / "manifest.json"
    manifest = json.loads(path.read_text())
    if isinstance(value, dict) and key == "tables":
        manifest[key].update(value)
    else:
        manifest[key] = value
    path.write_text(json.dumps(manifest))
    result = cli("import", "all", str(good_dump), ok=False)
    assert result.exit_code == 65 and reason in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "manifest.json" in result.stderr
    assert set(_counts(db_url).values()) == {0}


def _append_raw(folder: Path, table: str, raw: bytes) -> int:
    path = folder / f"{table}.jsonl"
    data = path.read_bytes()
    path.write_bytes(data + raw)
    return data.count(b"\n") + 1


FILE_CASES = [
    (b'{"id": 99, "text": "caf\xe9"}\n', "not UTF-8 (byte 0xe9"),
    (b"{not json}\n", "not valid JSON"),
    (b"[1, 2]\n", "not a JSON object"),
    (b"\n", "not valid JSON"),
    (b'{"id": 1, "id": 2}\n', "key 'id' appears twice"),
    (b'{"credibility": NaN}\n', "NaN is not a number JSON allows"),
]


@pytest.mark.parametrize(("raw", "reason"), FILE_CASES)
def test_import_all_refuses_an_unreadable_line_naming_it(
    good_dump: Path, cli, db_url: str, raw: bytes, reason: str
) -> None:
    line = _append_raw(good_dump, "claim", raw)
    result = cli("import", "all", str(good_dump), ok=False)
    assert result.exit_code == 65, result.stderr
    assert f"claim.jsonl, line {line}: " in result.stderr and reason in result.stderr
    assert result.stderr.count("\n") == 1
    assert set(_counts(db_url).values()) == {0}


def test_import_all_refuses_an_unlisted_table_file(good_dump: Path, cli, db_url: str) -> None:
    (good_dump / "widget.jsonl").write_text('{"id": 1}\n')
    result = cli("import", "all", str(good_dump), ok=False)
    assert result.exit_code == 65 and "widget.jsonl" in result.stderr, result.stderr
    assert "no table of this schema" in result.stderr
    assert set(_counts(db_url).values()) == {0}


def test_import_all_names_the_file_when_the_database_refuses_a_row(
    good_dump: Path, cli, db_url: str
) -> None:
    _set(good_dump, "claim", "claimant_id", 999)
    result = cli("import", "all", str(good_dump), ok=False)
    assert result.exit_code == 65, result.stderr
    assert "claim.jsonl, lines 1-" in result.stderr and "refuses a row" in result.stderr
    assert set(_counts(db_url).values()) == {0}


def test_a_wrong_text_hash_would_have_broken_duplicate_detection(
    good_dump: Path, cli, db_url: str
) -> None:
    # Why the hash is recomputed: with a wrong one restored, the same claim could be added again.
    _set(good_dump, "claim", "text_hash", "f" * 64)
    assert cli("import", "all", str(good_dump), ok=False).exit_code == 65
    _set(good_dump, "claim", "text_hash", _lines(good_dump, "claim")[1]["text_hash"])
    assert cli("import", "all", str(good_dump), ok=False).exit_code == 65
    assert set(_counts(db_url).values()) == {0}


# B. db check finds the same problems in an existing database ----------------------------------


def _sql(url: str, *statements: str) -> None:
    database = open_database(url)
    with database.connect(write=True) as conn:
        for statement in statements:
            conn.execute(text(statement))
    database.close()


def test_db_check_names_each_bad_row(seeded: dict[str, int], cli, db_url: str) -> None:
    mandiant, denial = seeded["mandiant"], seeded["denial"]
    _sql(
        db_url,
        f"UPDATE claim SET verdict = 'nonsense' WHERE id = {mandiant}",
        f"UPDATE claim SET text_hash = 'x' WHERE id = {denial}",
        "UPDATE actor_name SET key = 'wrong' WHERE id = 3",
        f"UPDATE claim SET status = 'bogus', stated = 'not a date' WHERE id = {seeded['donilon']}",
    )
    tamper(db_url, "UPDATE history SET changes = '[1, 2]' WHERE id = 1")
    result = cli("db", "check", ok=False)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        f"claim #{mandiant}: verdict 'nonsense' is not one of: true, mostly-true, mixed, "
        "misleading, exaggerated, false, unverifiable, not-a-claim" in lines
    )
    assert f"claim #{denial}: text_hash does not match its text" in lines
    assert "actor_name #3: key does not match its name" in lines
    assert (
        f"claim #{seeded['donilon']}: status 'bogus' is not one of: unreviewed, "
        "in-progress, reviewed" in lines
    )
    assert any(line.startswith(f"claim #{seeded['donilon']}: date stated") for line in lines)
    assert "history #1: changes must be a JSON object, not a list" in lines
    assert "history entry #1 (seq 1): hash does not match its content — altered" in lines
    assert len(lines) == 7, lines


def test_db_check_on_sqlite_sees_what_postgresql_would_refuse(
    seeded: dict[str, int], cli, db_path: Path
) -> None:
    _sql(
        str(db_path),
        "UPDATE actor SET name = '" + "N" * 5000 + "' WHERE id = 1",
        "UPDATE appearance SET position = 'first' WHERE claim_id = 1 AND position = 0",
        "UPDATE claim SET text = 'Bell' || char(7) WHERE id = 2",
    )
    lines = cli("db", "check", ok=False).stdout.splitlines()
    assert "actor #1: name is 5000 characters long; the column holds 300" in lines
    assert (
        "appearance (claim_id=1, source_id=1): position must be a whole number, not text" in lines
    )
    assert any(
        line.startswith("claim #2: claim text contains a control character") for line in lines
    )


def test_db_check_lists_the_first_fifty_problems_and_counts_the_rest(
    cli, db_url: str, tmp_path: Path
) -> None:
    rows = "".join(f"Claim number {n},Mandiant\n" for n in range(60))
    (tmp_path / "claims.csv").write_text("text,claimant\n" + rows)
    cli("import", "claims", str(tmp_path / "claims.csv"))
    _sql(db_url, "UPDATE claim SET status = 'bogus'")
    result = cli("db", "check", ok=False)
    lines = result.stdout.splitlines()
    assert len(lines) == 51, lines[-3:]
    assert lines[0].startswith("claim #1: status 'bogus'")
    assert lines[-1] == "... and 10 more problems (60 in all)"


def test_db_check_passes_on_the_seed_story(seeded: dict[str, int], cli) -> None:
    cli("claim", "rate", str(seeded["denial"]), "false", "--note", "why")
    cli("claim", "edit", str(seeded["mandiant"]), "--note", "checked")
    assert cli("db", "check").stdout.strip() == "ok"


def test_export_all_removes_what_a_killed_dump_left_behind(
    cli, db_url: str, tmp_path: Path
) -> None:
    cli("claim", "add", "A claim", "--by", "Mandiant")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / f".backup.{int(gone.stdout)}.partial"
    stale.mkdir()
    (stale / "claim.jsonl").write_text("half")
    running = tmp_path / f".backup.{os.getppid()}.partial"  # a live process's dump in progress
    running.mkdir()
    cli("export", "all", str(tmp_path / "backup"))
    assert not stale.exists() and running.is_dir()
    assert json.loads((tmp_path / "backup" / "manifest.json").read_text())["tables"]["claim"] == 1
