"""Pictures benchmark: `tracker graph` and `report timeline --format svg` on the benchmark
database, each as a ratio to `tracker claim show` (one dossier, whose evidence walk the graph
reuses) measured in the same run.

Targets: reading the graph around a claim within 1.5x of `claim show`; around the busiest
actor and over the whole database (both capped at 300 nodes) within 3x; the capped whole
database laid out by Graphviz (`--format svg`) within 10x (the layout is Graphviz's time).

Usage: python bench/graph.py [--claims N] [--runs R] [--warmups W]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from common import (
    DATA_DIR,
    Options,
    Report,
    cached_database,
    standalone,
    tracker_executable,
    working_copy,
)
from startup import Command, measure

NAME = "graph"
DESCRIPTION = "tracker graph and the timeline picture against claim show"
FLOOR = "tracker claim show ID"


def add_arguments(parser: Options) -> None:
    """No options of its own: --claims, --runs, --warmups and --seed are shared."""


def _fixtures(database: Path, n_claims: int) -> tuple[int, str, str]:
    """A linked claim in the middle, the actor with the most claims, and the commonest tag."""
    conn = sqlite3.connect(database)
    try:
        (claim,) = conn.execute(
            "SELECT from_id FROM link WHERE from_id >= ? ORDER BY from_id LIMIT 1",
            (n_claims // 2,),
        ).fetchone()
        (actor,) = conn.execute(
            "SELECT a.name FROM claim c JOIN actor a ON a.id = c.claimant_id "
            "GROUP BY a.id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        (tag,) = conn.execute(
            "SELECT tag FROM claim_tag GROUP BY tag ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return claim, actor, tag


def _commands(claim: int, actor: str, tag: str) -> list[Command]:
    tracker = str(tracker_executable())

    def fixed(*argv: str) -> Callable[[int], list[str]]:
        return lambda _: [tracker, *argv]

    return [
        Command(FLOOR, fixed("claim", "show", str(claim))),
        Command(f"graph --claim {claim}", fixed("graph", "--claim", str(claim)), FLOOR, 1.5),
        Command(f"graph --actor {actor!r}", fixed("graph", "--actor", actor), FLOOR, 3.0),
        Command("graph (whole database, capped)", fixed("graph"), FLOOR, 3.0),
        Command("graph --format svg (capped)", fixed("graph", "--format", "svg"), FLOOR, 10.0),
        Command(
            f"report timeline --tag {tag} --format svg",
            fixed("report", "timeline", "--tag", tag, "--format", "svg"),
            FLOOR,
            10.0,
        ),
    ]


def run(args: argparse.Namespace) -> Report:
    cached, build_seconds = cached_database(args.claims, args.seed)
    with (
        tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="run-") as folder,
        working_copy(cached, Path(folder)) as database,
    ):
        claim, actor, tag = _fixtures(database, args.claims)
        commands = _commands(claim, actor, tag)
        env = {**os.environ, "TRACKER_DB": str(database), "TRACKER_USER": "bench"}
        env.pop("TRACKER_DEBUG", None)
        times = measure(commands, env, args.runs, args.warmups, args.seed)
    medians = {label: statistics.median(values) for label, values in times.items()}
    report = Report(
        title=(
            f"Pictures, {args.claims:,} claims: median of {args.runs} runs after "
            f"{args.warmups} warm-up(s)"
        ),
        columns=["command", "median ms", "floor ms", "ratio", "target", "result"],
    )
    floor = medians[FLOOR]
    for command in commands:
        median = medians[command.label]
        if command.target is None:
            report.rows.append([command.label, f"{median * 1000:.1f}", "", "", "", "(floor)"])
            continue
        ratio = median / floor
        passed = ratio <= command.target
        report.ok &= passed
        report.rows.append(
            [
                command.label,
                f"{median * 1000:.1f}",
                f"{floor * 1000:.1f}",
                f"{ratio:.2f}x",
                f"{command.target:.1f}x",
                "pass" if passed else "FAIL",
            ]
        )
    built = f"built in {build_seconds:.1f} s" if build_seconds is not None else "cached"
    report.notes = [f"database: {cached.name} ({built}); commands ran on a copy"]
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return standalone(DESCRIPTION, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
