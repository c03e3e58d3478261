"""Writers side by side on PostgreSQL: real processes racing for the same new names, a long
import holding its transaction open, and a deadlock that PostgreSQL breaks."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import empty_postgres
from sqlalchemy import Connection, create_engine, func, select, text

from tracker.db import open_database
from tracker.models import Actor, Appearance, Claim, ClaimIncident, HistoryEntry, Incident, Source

TRACKER = str(Path(sys.executable).parent / "tracker")
WRITERS = 8
CLAIMS_EACH = 4
CLAIMANTS = ["Mandiant", "Kaspersky", "CrowdStrike"]
SOURCES = ["APT1 report", "https://example.org/apt1"]

# One writer: opens the database, waits for the start signal (so that all race from the first
# claim), then adds its claims through the library's retrying transaction.
WRITER = f"""
import sys, time
from pathlib import Path
from tracker.db import open_database
from tracker.services.claims import add_claim

url, writer, start = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
database = open_database(url)
while not start.exists():
    time.sleep(0.005)
for i in range({CLAIMS_EACH}):
    database.transaction(
        lambda s: add_claim(
            s,
            f"Claim {{i}} of writer {{writer}}",
            by={CLAIMANTS!r}[i % 3],
            sources=[{SOURCES!r}[i % 2]],
            about=["PLA Unit 61398"],
            incidents=["APT1 intrusions"],
            tags=["apt"],
            new=writer % 2 == 1,  # half of them skip the resemblance check (--new)
        )
    )
database.close()
"""

# A long import, paused with its transaction open until told to go on (a line on stdin).
IMPORTER = """
import sys
from tracker.db import open_database
from tracker.services.importer import import_flat

url, path = sys.argv[1], sys.argv[2]
database = open_database(url)

def work(session):
    with open(path, "rb") as stream:
        from tracker.services.flat import Reader
        report = import_flat(session, Reader(stream, path, "csv"), name=path)
    print("imported", report.claims_created, flush=True)
    sys.stdin.readline()
    return report

database.transaction(work)
database.close()
"""


@pytest.fixture
def pg(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    empty_postgres(postgres_url)
    monkeypatch.setenv("TRACKER_DB", postgres_url)
    return postgres_url


def _tracker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRACKER, *args], capture_output=True, text=True, timeout=60, env=env or dict(os.environ)
    )


@pytest.mark.slow
def test_eight_writers_keep_every_claim_and_create_every_name_once(pg, tmp_path) -> None:
    start = tmp_path / "start"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, pg, str(w), str(start)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]
    time.sleep(1.0)  # every writer has opened the database
    start.touch()
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    database = open_database(pg)
    with database.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Claim)) == WRITERS * CLAIMS_EACH
        names = s.scalars(select(Actor.name).order_by(Actor.name)).all()
        assert names == sorted([*CLAIMANTS, "PLA Unit 61398"])
        titles = s.scalars(select(Source.title).order_by(Source.title)).all()
        assert titles == sorted(SOURCES)
        assert s.scalars(select(Incident.name)).all() == ["APT1 intrusions"]
        assert s.scalar(select(func.count()).select_from(Appearance)) == WRITERS * CLAIMS_EACH
        assert s.scalar(select(func.count()).select_from(ClaimIncident)) == WRITERS * CLAIMS_EACH
        # One "created" entry per record: no loser's record left a trace in the history.
        created = s.execute(
            select(HistoryEntry.entity, func.count())
            .where(HistoryEntry.action == "created")
            .group_by(HistoryEntry.entity)
        ).all()
        assert dict(created) == {
            "actor": 4,
            "source": 2,
            "incident": 1,
            "claim": WRITERS * CLAIMS_EACH,
        }
    database.close()


def test_a_claim_add_does_not_wait_for_an_open_import(pg, tmp_path) -> None:
    assert _tracker("actor", "add", "Mandiant").returncode == 0
    assert _tracker("source", "add", "APT1 report").returncode == 0
    feed = tmp_path / "feed.csv"
    rows = [f"Mandiant,Imported claim {i},APT1 report,Unit {i % 50}" for i in range(2000)]
    feed.write_text("claimant,text,source,about\n" + "\n".join(rows) + "\n")
    importer = subprocess.Popen(
        [sys.executable, "-c", IMPORTER, pg, str(feed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert importer.stdout is not None and importer.stdin is not None
    assert importer.stdout.readline().split() == ["imported", "2000"]
    # The import holds its transaction open (until told to go on): a claim over the same
    # claimant and source (the import refers to both), about a new name, goes through. Had it
    # waited for the import, it would have given up after the lock timeout (exit 75).
    result = _tracker(
        "claim", "add", "Added during the import", "--by", "Mandiant", "--source", "APT1 report",
        "--about", "Lazarus Group",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert importer.poll() is None
    # A name the import is creating is the one thing a writer waits for, and then shares.
    waiting = subprocess.Popen(
        [TRACKER, "claim", "add", "About a unit the import creates", "--by", "Mandiant",
         "--about", "Unit 7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(1.5)
    assert waiting.poll() is None
    importer.stdin.write("\n")
    importer.stdin.flush()
    assert importer.wait(timeout=60) == 0
    _, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    database = open_database(pg)
    with database.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Claim)) == 2002
        units = s.scalars(select(Actor.name).where(Actor.name.like("Unit %"))).all()
        assert len(units) == len(set(units)) == 50
        # The import's history names its own 2000 claims, not the two added meanwhile.
        imported = s.scalar(
            select(func.count())
            .select_from(HistoryEntry)
            .where(
                HistoryEntry.entity == "claim", HistoryEntry.changes["via"].as_string() == "import"
            )
        )
        assert imported == 2000
    database.close()


@pytest.fixture
def holder(pg: str) -> Iterator[Connection]:
    """A transaction of another client's, for the test to take locks in."""
    engine = create_engine(pg)
    with engine.connect() as conn:
        conn.execute(text("SET deadlock_timeout = '10s'"))  # the writer is the one to break it
        yield conn
        conn.rollback()
    engine.dispose()


def _wait_for_lock(conn: Connection, application: str) -> None:
    deadline = time.monotonic() + 60  # a loaded machine starts a process slowly
    while time.monotonic() < deadline:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = :app AND wait_event_type = 'Lock'"
            ),
            {"app": application},
        ).scalar()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError(f"{application} never waited for a lock")


@pytest.mark.parametrize("attempts", ["1", "5"])
def test_a_deadlock_is_retried_then_refused_as_busy(pg, holder, attempts) -> None:
    assert _tracker("actor", "add", "Mandiant").returncode == 0
    # The holder locks Mandiant; the writer creates NewCo, then waits for Mandiant; the holder
    # then creates NewCo too, waiting for the writer: a deadlock, which PostgreSQL breaks by
    # aborting the writer.
    holder.execute(text("SELECT id FROM actor WHERE name = 'Mandiant' FOR UPDATE"))
    env = {**os.environ, "TRACKER_WRITE_ATTEMPTS": attempts, "PGAPPNAME": "racing-writer"}
    writer = subprocess.Popen(
        [TRACKER, "claim", "add", "NewCo names Mandiant", "--by", "NewCo", "--about", "Mandiant"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    # Autocommit: pg_stat_activity is read once per transaction.
    with create_engine(pg, isolation_level="AUTOCOMMIT").connect() as watcher:
        _wait_for_lock(watcher, "racing-writer")
    holder.execute(
        text(
            "WITH a AS (INSERT INTO actor (uid, name, kind, created_at, updated_at)"
            " VALUES ('holder', 'NewCo', 'other', now(), now()) RETURNING id)"
            " INSERT INTO actor_name (actor_id, name, key, is_primary)"
            " SELECT id, 'NewCo', 'newco', true FROM a"
        )
    )
    holder.rollback()  # the holder gives way; a writer that tries again now succeeds
    out, err = writer.communicate(timeout=60)
    database = open_database(pg)
    with database.session(write=False) as s:
        claims = s.scalars(select(Claim.id)).all()
        actors = s.scalars(select(Actor.name).order_by(Actor.name)).all()
    database.close()
    if attempts == "1":
        assert writer.returncode == 75, err
        assert err.startswith("Error: the database is busy") and "deadlock" in err
        assert len(err.strip().splitlines()) == 1
        assert (claims, actors) == ([], ["Mandiant"])  # nothing half-written
    else:
        assert writer.returncode == 0, err
        # The aborted attempt used an id (sequences do not roll back): the claim has the next.
        assert (claims, actors) == ([int(out)], ["Mandiant", "NewCo"])
