"""Several analysts at once: real processes writing the same database."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

TRACKER = str(Path(sys.executable).parent / "tracker")
WORKERS = 4
CLAIMS_EACH = 8


def _env(db_path: Path) -> dict[str, str]:
    return {**os.environ, "TRACKER_DB": str(db_path)}


def test_parallel_writers_keep_every_claim_and_create_each_name_once(db_path) -> None:
    # Each worker adds claims by the same new claimants, citing the same new sources, about the
    # same new subjects: a look-up-then-insert race would duplicate them or fail.
    script = (
        "import subprocess, sys\n"
        "worker = sys.argv[1]\n"
        f"for i in range({CLAIMS_EACH}):\n"
        "    subprocess.run([sys.argv[2], 'claim', 'add', f'Claim {i} from worker {worker}',\n"
        "        '--by', f'Shared actor {i % 3}', '--source', f'Shared source {i % 2}',\n"
        "        '--about', 'Shared subject'], check=True, capture_output=True)\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(w), TRACKER], env=_env(db_path))
        for w in range(WORKERS)
    ]
    assert all(w.wait(timeout=120) == 0 for w in workers)
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM claim").fetchone()[0] == WORKERS * CLAIMS_EACH
    names = [r[0] for r in conn.execute("SELECT name FROM actor ORDER BY name")]
    assert names == ["Shared actor 0", "Shared actor 1", "Shared actor 2", "Shared subject"]
    titles = [r[0] for r in conn.execute("SELECT title FROM source ORDER BY title")]
    assert titles == ["Shared source 0", "Shared source 1"]
    assert conn.execute("SELECT count(*) FROM appearance").fetchone()[0] == WORKERS * CLAIMS_EACH
    conn.close()


def _hold_write_lock(db_path: Path) -> sqlite3.Connection:
    subprocess.run([TRACKER, "db", "status"], env=_env(db_path), check=True, capture_output=True)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO claim_tag (claim_id, tag) SELECT 0, 'x' WHERE 0")
    return holder


def test_a_blocked_writer_waits_then_succeeds(db_path) -> None:
    holder = _hold_write_lock(db_path)
    child = subprocess.Popen(
        [TRACKER, "claim", "add", "Patient claim", "--by", "Mandiant"],
        env=_env(db_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    assert child.poll() is None  # still waiting for the lock
    holder.execute("COMMIT")
    holder.close()
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert out.strip() == "1"


def test_a_writer_blocked_past_the_timeout_fails_cleanly(db_path) -> None:
    holder = _hold_write_lock(db_path)
    started = time.monotonic()
    result = subprocess.run(
        [TRACKER, "claim", "add", "Impatient claim", "--by", "Mandiant"],
        env=_env(db_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    waited = time.monotonic() - started
    holder.execute("ROLLBACK")
    holder.close()
    assert result.returncode == 75
    assert result.stderr.startswith("Error: the database is busy")
    assert len(result.stderr.strip().splitlines()) == 1
    assert waited >= 5
    status = subprocess.run(
        [TRACKER, "db", "status", "-f", "json"], env=_env(db_path), capture_output=True, text=True
    )
    counts = json.loads(status.stdout)
    assert counts["claims"] == 0 and counts["actors"] == 0
