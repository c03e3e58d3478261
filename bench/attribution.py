"""Attribution benchmark: `report attribution INCIDENT` and `claim show` (with its evidence) on
1,000,000 claims must stay within 2x of their time on 1,000 claims, with citation chains 50
deep.

Each database is built straight with sqlite3 on the tracker's own schema (fast, untimed): a
thousand actors, incidents of ten claims each, sources in citation chains of 50, every claim
appearing in a source at the end of a chain, blaming or clearing an actor, and a few claims
supporting others. The incident measured and the claim shown are the same at both sizes (20
claims, each resting on a 50-deep chain), so only the size of the database around them
changes. Timed in process (the service calls behind the commands, a fresh session each run;
median of --runs), and as the real `tracker` command (wall time, start-up included).

Usage: python bench/attribution.py [--small N] [--big N] [--runs R] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tracker.db import open_database

CHAIN = 50
ACTORS = 1000
PER_INCIDENT = 10
TARGET_CLAIMS = 20
NOW = "2026-01-01 00:00:00.000000"


def build(path: Path, claims: int) -> None:
    """A database of `claims` claims; claim 1..20 concern incident 1 ("Target incident")."""
    open_database(str(path)).close()  # the schema, by the tracker's own migrations
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = MEMORY")
    cur = conn.cursor()
    cur.executemany(
        "INSERT INTO actor (id, uid, name, kind, created_at, updated_at) "
        "VALUES (?, ?, ?, 'group', ?, ?)",
        ((i, str(uuid.uuid4()), f"Actor {i}", NOW, NOW) for i in range(1, ACTORS + 1)),
    )
    cur.executemany(
        "INSERT INTO actor_name (actor_id, name, key, is_primary) VALUES (?, ?, ?, 1)",
        ((i, f"Actor {i}", f"actor {i}") for i in range(1, ACTORS + 1)),
    )
    # Units part of agencies part of states: 900 units -> 90 agencies -> 10 states.
    cur.executemany(
        "INSERT INTO actor_part (part_id, whole_id) VALUES (?, ?)",
        [(i, 901 + (i - 1) % 90) for i in range(1, 901)]
        + [(i, 991 + (i - 901) % 10) for i in range(901, 991)],
    )
    incidents = max(1, claims // PER_INCIDENT)
    cur.executemany(
        "INSERT INTO incident (id, uid, name, kind, created_at, updated_at) "
        "VALUES (?, ?, ?, 'intrusion', ?, ?)",
        (
            (i, str(uuid.uuid4()), "Target incident" if i == 1 else f"Incident {i}", NOW, NOW)
            for i in range(1, incidents + 1)
        ),
    )
    cur.executemany(
        "INSERT INTO incident_name (incident_id, name, key, is_primary) VALUES (?, ?, ?, 1)",
        (
            (i, n, n.lower())
            for i in range(1, incidents + 1)
            for n in ["Target incident" if i == 1 else f"Incident {i}"]
        ),
    )
    sources = max(CHAIN * 4, claims // 10 // CHAIN * CHAIN)
    cur.executemany(
        "INSERT INTO source (id, uid, title, title_key, kind, publisher_id, authors, published, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, 'article', ?, '[]', ?, ?, ?)",
        (
            (
                i,
                str(uuid.uuid4()),
                f"Source {i}",
                f"source {i}",
                1 + i % ACTORS,
                f"{2000 + (i - 1) % CHAIN // 5:04d}",
                NOW,
                NOW,
            )
            for i in range(1, sources + 1)
        ),
    )
    # Chains of 50: each source cites the one before it in its block.
    cur.executemany(
        "INSERT INTO source_citation (source_id, cited_id) VALUES (?, ?)",
        ((i, i - 1) for i in range(1, sources + 1) if (i - 1) % CHAIN),
    )
    tops = [b * CHAIN + CHAIN for b in range(sources // CHAIN)]  # the ends of the chains

    def claim_rows() -> object:
        for i in range(1, claims + 1):
            text = f"Claim {i}: an actor did it"
            yield (
                i,
                str(uuid.uuid4()),
                text,
                hashlib.sha256(text.encode()).hexdigest(),
                1 + (i * 7) % ACTORS,
                f"{2000 + i % 25:04d}-{1 + i % 12:02d}",
                "unreviewed",
                ("low", "moderate", "high")[i % 3],
                NOW,
                NOW,
            )

    cur.executemany(
        "INSERT INTO claim (id, uid, text, text_hash, claimant_id, stated, status, confidence, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        claim_rows(),
    )
    cur.executemany(
        "INSERT INTO appearance (claim_id, source_id, position) VALUES (?, ?, 0)",
        ((i, tops[i % len(tops)]) for i in range(1, claims + 1)),
    )

    def blamed(i: int) -> int:
        return 1 + (i % 5 if i <= TARGET_CLAIMS else (i * 13) % 900)

    cur.executemany(
        "INSERT INTO claim_subject (claim_id, actor_id) VALUES (?, ?)",
        ((i, blamed(i)) for i in range(1, claims + 1)),
    )
    cur.executemany(
        "INSERT INTO claim_stance (claim_id, actor_id, stance) VALUES (?, ?, ?)",
        ((i, blamed(i), "clears" if i % 4 == 0 else "blames") for i in range(1, claims + 1)),
    )
    cur.executemany(
        "INSERT INTO claim_incident (claim_id, incident_id) VALUES (?, ?)",
        (
            (i, 1 if i <= TARGET_CLAIMS else 2 + (i - TARGET_CLAIMS) % max(1, incidents - 1))
            for i in range(1, claims + 1)
        ),
    )
    # Every claim is supported by the next one, in pairs.
    cur.executemany(
        "INSERT INTO link (uid, from_id, relation, to_id, created_at) "
        "VALUES (?, ?, 'supports', ?, ?)",
        ((str(uuid.uuid4()), i + 1, i, NOW) for i in range(1, claims, 2)),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def in_process(path: Path, runs: int) -> dict[str, float]:
    from tracker.services.attribution import incident_attribution
    from tracker.services.claims import claim_dossier

    database = open_database(str(path), write=False)
    timings: dict[str, list[float]] = {"report attribution": [], "claim show": []}
    try:
        for _ in range(runs):
            for name, call in (
                ("report attribution", lambda s: incident_attribution(s, "Target incident")),
                ("claim show", lambda s: claim_dossier(s, "1")),
            ):
                with database.session(write=False) as session:
                    started = time.perf_counter()
                    result = call(session)
                    timings[name].append(time.perf_counter() - started)
                assert result
    finally:
        database.close()
    return {k: statistics.median(v) for k, v in timings.items()}


def command(path: Path, runs: int) -> dict[str, float]:
    tracker = Path(sys.executable).parent / "tracker"
    env = {**os.environ, "TRACKER_DB": str(path)}
    found: dict[str, list[float]] = {"report attribution": [], "claim show": []}
    for _ in range(runs):
        for name, args in (
            ("report attribution", ["report", "attribution", "Target incident", "-f", "json"]),
            ("claim show", ["claim", "show", "1", "-f", "json"]),
        ):
            started = time.perf_counter()
            subprocess.run([str(tracker), *args], env=env, check=True, capture_output=True)
            found[name].append(time.perf_counter() - started)
    return {k: statistics.median(v) for k, v in found.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tracker-attribution-"))
    results = {}
    try:
        for size in (args.small, args.big):
            path = folder / f"{size}.db"
            started = time.perf_counter()
            build(path, size)
            print(f"built {size:,} claims in {time.perf_counter() - started:.1f} s", flush=True)
            in_process(path, 2)  # warm the page cache
            results[size] = (in_process(path, args.runs), command(path, max(3, args.runs // 3)))
    finally:
        if not args.keep:
            shutil.rmtree(folder)
        else:
            print(f"databases kept in {folder}")
    failed = False
    print(f"{'':22}{'in process':>34}{'command (wall)':>34}")
    print(f"{'':22}{'small':>10}{'big':>10}{'ratio':>8}    {'small':>10}{'big':>10}{'ratio':>8}")
    for name in ("report attribution", "claim show"):
        small, big = results[args.small], results[args.big]
        ratio = big[0][name] / small[0][name]
        wall = big[1][name] / small[1][name]
        failed |= ratio > 2 or wall > 2
        print(
            f"{name:22}{small[0][name] * 1000:8.2f}ms{big[0][name] * 1000:8.2f}ms{ratio:7.2f}x"
            f"    {small[1][name] * 1000:8.1f}ms{big[1][name] * 1000:8.1f}ms{wall:7.2f}x"
        )
    print("target: big within 2x of small;", "MISSED" if failed else "met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
