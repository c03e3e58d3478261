"""STIX 2.1 import at ATT&CK scale: `tracker import stix` against a standard-library reference
loader (bench/stix_reference.py: json + sqlite3 into the same, freshly migrated schema), on a
bundle the size of MITRE ATT&CK Enterprise generated from the checked-in sample
(bench/stix_generate.py). Targets: at most 2x the reference's wall time, and a peak resident
memory under 4x the bundle's size. A second import of the same bundle (nothing to change) is
timed too.

Usage: python bench/run.py --only stix [--stix-scale 1.0] [--stix-runs 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import DATA_DIR, Options, Report, run_child, tracker_executable
from stix_generate import write_bundle

NAME = "stix"
DESCRIPTION = "import stix of an ATT&CK-sized bundle vs a json+sqlite3 reference"
TIME_TARGET = 2.0
MEMORY_TARGET = 4.0
REFERENCE = Path(__file__).resolve().parent / "stix_reference.py"


def add_arguments(parser: Options) -> None:
    parser.add_argument(
        "--stix-scale", type=float, default=1.0, help="bundle size, 1.0 = ATT&CK Enterprise"
    )
    parser.add_argument("--stix-runs", type=int, default=1, help="timed imports of each loader")


def _empty_database(path: Path) -> None:
    from tracker.db import open_database

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    open_database(str(path)).close()  # the schema, migrated as a user's first command does


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def run(args: argparse.Namespace) -> Report:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    bundle = DATA_DIR / f"stix-{args.stix_scale:g}-{args.seed}.json"
    if not bundle.exists():
        print(f"stix: generating {bundle.name} ...", flush=True)
        write_bundle(bundle, args.stix_scale, args.seed)
    size = bundle.stat().st_size
    env = {**os.environ, "TRACKER_USER": "bench"}
    env.pop("TRACKER_DEBUG", None)
    tracker, reference, again = [], [], []
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="stix-") as folder:
        db = Path(folder) / "tracker.db"
        for _ in range(args.stix_runs):
            _empty_database(db)
            reference.append(run_child([sys.executable, REFERENCE, bundle, db], env=env))
            _empty_database(db)
            command = [tracker_executable(), "--db", db, "import", "stix", bundle]
            tracker.append(run_child(command, env=env))
            again.append(run_child(command, env=env))
    summary = tracker[-1].stderr.splitlines()[-1] if tracker[-1].stderr else ""
    t_time = statistics.median(r.seconds for r in tracker)
    r_time = statistics.median(r.seconds for r in reference)
    t_rss = max(r.max_rss for r in tracker)
    ratio, memory = t_time / r_time, t_rss / size
    report = Report(
        f"STIX import of an ATT&CK-sized bundle ({_mb(size)}, median of {args.stix_runs})",
        ["loader", "wall time", "peak RSS", "target", "result"],
    )
    report.rows.append(
        [
            "reference (json + sqlite3)",
            f"{r_time:.1f} s",
            _mb(max(r.max_rss for r in reference)),
            "",
            "",
        ]
    )
    report.rows.append(["tracker import stix", f"{t_time:.1f} s", _mb(t_rss), "", ""])
    report.rows.append(
        [
            "re-import (nothing new)",
            f"{statistics.median(r.seconds for r in again):.1f} s",
            _mb(max(r.max_rss for r in again)),
            "",
            "",
        ]
    )
    time_ok, memory_ok = ratio <= TIME_TARGET, memory < MEMORY_TARGET
    report.rows.append(
        [
            "time / reference",
            f"{ratio:.2f}x",
            "",
            f"<= {TIME_TARGET:g}x",
            "pass" if time_ok else "FAIL",
        ]
    )
    report.rows.append(
        [
            "peak RSS / bundle",
            f"{memory:.2f}x",
            "",
            f"< {MEMORY_TARGET:g}x",
            "pass" if memory_ok else "FAIL",
        ]
    )
    report.ok = time_ok and memory_ok
    report.notes.append(summary.removeprefix(f"imported {bundle}: "))
    return report
