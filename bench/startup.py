"""CLI start-up benchmark: wall time of everyday commands on a 100,000-claim database, each as a
ratio to the floor its dependencies impose, measured in the same run.

Targets (from the issue):
- `tracker --help` within 2.5x of `python -c "import typer"`;
- `tracker claim add`, `claim show`, `search` and `report summary` within 1.5x of
  `python -c "import sqlalchemy.orm"`.

Every command runs as a subprocess of the installed `tracker` entry point, stdout discarded.
Runs are interleaved (one of each command per round, in a shuffled order) so that drift in the
machine's speed hits floors and commands alike; the median of the timed rounds is reported.

Usage: python bench/startup.py [--claims N] [--runs R] [--warmups W] [--search-word WORD]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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

NAME = "startup"
DESCRIPTION = "CLI start-up: everyday commands against their import floors"
TYPER_FLOOR = 'python -c "import typer"'
ORM_FLOOR = 'python -c "import sqlalchemy.orm"'
# Not a target, for reading the results: tracker.cli.main skips the collector's sweep at exit
# (atexit gc.freeze); the plain floor pays it, which flatters every ratio against that floor.
ORM_FLOOR_NO_SWEEP = "same, exiting like tracker (gc.freeze)"
HELP_TARGET = 2.5
COMMAND_TARGET = 1.5
DEFAULT_SEARCH_WORD = "espionage"  # in about 3% of the generated claims


@dataclass(frozen=True)
class Command:
    label: str
    argv: Callable[[int], list[str]]  # the n-th invocation's arguments
    floor: str | None = None  # label of the floor it is measured against
    target: float | None = None


def add_arguments(parser: Options) -> None:
    parser.add_argument(
        "--search-word",
        default=DEFAULT_SEARCH_WORD,
        help=f"word for `tracker search` (default {DEFAULT_SEARCH_WORD!r})",
    )


@dataclass(frozen=True)
class Fixtures:
    """What the commands refer to, read from the database itself."""

    show_id: int
    claimant: str
    source_id: int
    search_matches: int


def _fixtures(database: Path, n_claims: int, word: str) -> Fixtures:
    conn = sqlite3.connect(database)
    try:
        show_id = max(1, n_claims // 2)
        claimant, source_id = conn.execute(
            "SELECT a.name, p.source_id FROM claim c JOIN actor a ON a.id = c.claimant_id"
            " JOIN appearance p ON p.claim_id = c.id WHERE c.id = ? ORDER BY p.position LIMIT 1",
            (show_id,),
        ).fetchone()
        (matches,) = conn.execute(
            "SELECT count(*) FROM claim_fts WHERE claim_fts MATCH ?",
            ('"' + word.replace('"', '""') + '"',),
        ).fetchone()
    finally:
        conn.close()
    return Fixtures(show_id, claimant, source_id, matches)


def _commands(fixtures: Fixtures, word: str) -> list[Command]:
    python, tracker = sys.executable, str(tracker_executable())

    def fixed(*argv: str) -> Callable[[int], list[str]]:
        return lambda _: list(argv)

    def add(n: int) -> list[str]:
        return [
            tracker,
            "claim",
            "add",
            f"Bench claim {n}",
            "--by",
            fixtures.claimant,
            "--source",
            str(fixtures.source_id),
        ]

    return [
        Command(TYPER_FLOOR, fixed(python, "-c", "import typer")),
        Command(ORM_FLOOR, fixed(python, "-c", "import sqlalchemy.orm")),
        Command(
            ORM_FLOOR_NO_SWEEP,
            fixed(
                python, "-c", "import atexit, gc; atexit.register(gc.freeze); import sqlalchemy.orm"
            ),
        ),
        Command("tracker --help", fixed(tracker, "--help"), TYPER_FLOOR, HELP_TARGET),
        Command("tracker claim add TEXT --by NAME --source ID", add, ORM_FLOOR, COMMAND_TARGET),
        Command(
            f"tracker claim show {fixtures.show_id}",
            fixed(tracker, "claim", "show", str(fixtures.show_id)),
            ORM_FLOOR,
            COMMAND_TARGET,
        ),
        Command(
            f"tracker search {word}", fixed(tracker, "search", word), ORM_FLOOR, COMMAND_TARGET
        ),
        Command(
            "tracker report summary",
            fixed(tracker, "report", "summary"),
            ORM_FLOOR,
            COMMAND_TARGET,
        ),
    ]


def _time(argv: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip()
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {error}")
    return elapsed


def measure(
    commands: Sequence[Command], env: dict[str, str], runs: int, warmups: int, seed: int
) -> dict[str, list[float]]:
    """Seconds per timed run of each command; one run of every command per round."""
    order = random.Random(seed)
    times: dict[str, list[float]] = {c.label: [] for c in commands}
    invocation = 0
    for round_ in range(warmups + runs):
        shuffled = list(commands)
        order.shuffle(shuffled)
        for command in shuffled:
            invocation += 1
            elapsed = _time(command.argv(invocation), env)
            if round_ >= warmups:
                times[command.label].append(elapsed)
    return times


def run(args: argparse.Namespace) -> Report:
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    cached, build_seconds = cached_database(args.claims, args.seed)
    with (
        tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="run-") as folder,
        working_copy(cached, Path(folder)) as database,
    ):
        fixtures = _fixtures(database, args.claims, args.search_word)
        commands = _commands(fixtures, args.search_word)
        env = {**os.environ, "TRACKER_DB": str(database), "TRACKER_USER": "bench"}
        env.pop("TRACKER_DEBUG", None)
        times = measure(commands, env, args.runs, args.warmups, args.seed)

    medians = {label: statistics.median(values) for label, values in times.items()}
    report = Report(
        title=(
            f"CLI start-up, {args.claims:,} claims: median of {args.runs} runs after "
            f"{args.warmups} warm-up(s), Python {sys.version.split()[0]}"
        ),
        columns=[
            "command",
            "median ms",
            "min ms",
            "floor",
            "floor ms",
            "ratio",
            "target",
            "result",
        ],
    )
    for command in commands:
        median = medians[command.label]
        cells = [command.label, f"{median * 1000:.1f}", f"{min(times[command.label]) * 1000:.1f}"]
        if command.floor is None or command.target is None:
            role = "(reference)" if command.label == ORM_FLOOR_NO_SWEEP else "(floor)"
            report.rows.append([*cells, "-", "", "", "", role])
            continue
        floor = medians[command.floor]
        ratio = median / floor
        passed = ratio <= command.target
        report.ok &= passed
        report.rows.append(
            [
                *cells,
                command.floor,
                f"{floor * 1000:.1f}",
                f"{ratio:.2f}x",
                f"{command.target:.1f}x",
                "pass" if passed else "FAIL",
            ]
        )
    strict = medians[ORM_FLOOR_NO_SWEEP]
    versus = ", ".join(
        f"{' '.join(c.label.split()[1:3])} {medians[c.label] / strict:.2f}x"
        for c in commands
        if c.floor == ORM_FLOOR
    )
    built = f"built in {build_seconds:.1f} s" if build_seconds is not None else "cached"
    report.notes = [
        f"database: {cached.relative_to(DATA_DIR.parent.parent)} ({built}); commands ran on a copy",
        f"claim add: --by {fixtures.claimant!r} --source {fixtures.source_id}, a new text each run",
        f"search {args.search_word!r} matches {fixtures.search_matches:,} claims"
        f" ({fixtures.search_matches / max(args.claims, 1):.1%})",
        f"for reference, against the sqlalchemy.orm floor without its exit-time GC sweep"
        f" ({strict * 1000:.1f} ms): {versus}",
    ]
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return standalone(DESCRIPTION, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
