"""Several analysts at once: real processes writing the same database, on each backend."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from tracker.db import open_database
from tracker.models import Actor, Appearance, Claim, Source

TRACKER = str(Path(sys.executable).parent / "tracker")
WORKERS = 4
CLAIMS_EACH = 8


def _env(db_url: str) -> dict[str, str]:
    return {**os.environ, "TRACKER_DB": db_url}


@pytest.mark.slow
def test_parallel_writers_keep_every_claim_and_create_each_name_once(db_url) -> None:
    # Each worker adds claims by the same new claimants, citing the same new sources, about the
    # same new subject: a look-up-then-insert race would duplicate them or fail.
    script = (
        "import subprocess, sys\n"
        "names = ['Mandiant', 'Kaspersky', 'CrowdStrike']\n"
        "sources = ['APT1 report', 'Globe article']\n"
        f"for i in range({CLAIMS_EACH}):\n"
        "    subprocess.run([sys.argv[2], 'claim', 'add', f'Claim {i} from worker {sys.argv[1]}',\n"
        "        '--by', names[i % 3], '--source', sources[i % 2], '--about', 'PLA Unit 61398'],\n"
        "        check=True, capture_output=True)\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(w), TRACKER], env=_env(db_url))
        for w in range(WORKERS)
    ]
    assert all(w.wait(timeout=120) == 0 for w in workers)
    database = open_database(db_url)
    with database.session(write=False) as s:
        assert len(s.scalars(select(Claim.id)).all()) == WORKERS * CLAIMS_EACH
        names = s.scalars(select(Actor.name).order_by(Actor.name)).all()
        assert names == ["CrowdStrike", "Kaspersky", "Mandiant", "PLA Unit 61398"]
        titles = s.scalars(select(Source.title).order_by(Source.title)).all()
        assert titles == ["APT1 report", "Globe article"]
        assert len(s.scalars(select(Appearance.claim_id)).all()) == WORKERS * CLAIMS_EACH
    database.close()


def _hold_write_lock(backend: str, db_url: str) -> Callable[[], None]:
    """Take, from outside, the lock a `claim add --by Mandiant` needs; returns the release. On
    SQLite that is the file's write lock; PostgreSQL has no such lock, so another transaction
    is left creating the actor Mandiant, which the writer must wait for."""
    subprocess.run([TRACKER, "db", "status"], env=_env(db_url), check=True, capture_output=True)
    if backend == "sqlite":
        holder = sqlite3.connect(db_url, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")

        def release() -> None:
            holder.execute("ROLLBACK")
            holder.close()

        return release
    engine = create_engine(db_url)
    conn = engine.connect()
    conn.execute(
        text(
            "WITH a AS (INSERT INTO actor (uid, name, kind, created_at, updated_at)"
            " VALUES ('holder', 'Mandiant', 'other', now(), now()) RETURNING id)"
            " INSERT INTO actor_name (actor_id, name, key, is_primary)"
            " SELECT id, 'Mandiant', 'mandiant', true FROM a"
        )
    )

    def release_pg() -> None:
        conn.rollback()
        conn.close()
        engine.dispose()

    return release_pg


def test_a_blocked_writer_waits_then_succeeds(backend, db_url) -> None:
    release = _hold_write_lock(backend, db_url)
    child = subprocess.Popen(
        [TRACKER, "claim", "add", "Patient claim", "--by", "Mandiant"],
        env=_env(db_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    assert child.poll() is None  # still waiting for the lock
    release()
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert out.strip() == "1"


@pytest.mark.slow
def test_a_writer_blocked_past_the_timeout_fails_cleanly(backend, db_url) -> None:
    release = _hold_write_lock(backend, db_url)
    started = time.monotonic()
    result = subprocess.run(
        [TRACKER, "claim", "add", "Impatient claim", "--by", "Mandiant"],
        env=_env(db_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    waited = time.monotonic() - started
    release()
    assert result.returncode == 75, result.stderr
    assert result.stderr.startswith("Error: the database is busy")
    assert len(result.stderr.strip().splitlines()) == 1
    assert waited >= 5
    status = subprocess.run(
        [TRACKER, "db", "status", "-f", "json"], env=_env(db_url), capture_output=True, text=True
    )
    counts = json.loads(status.stdout)
    assert counts["claims"] == 0 and counts["actors"] == 0
