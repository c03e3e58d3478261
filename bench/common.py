"""What the benchmarks share: options, the cached benchmark database, and result tables."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"  # git-ignored
DEFAULT_CLAIMS = 100_000
DEFAULT_SEED = 1


class Options(Protocol):
    """Where a benchmark adds its options: a parser or an argument group."""

    def add_argument(self, *args: Any, **kwargs: Any) -> Any: ...


def add_common_arguments(parser: Options) -> None:
    parser.add_argument(
        "--claims",
        type=int,
        default=DEFAULT_CLAIMS,
        help=f"claims in the benchmark database (default {DEFAULT_CLAIMS:,})",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="data generator seed (default 1)"
    )
    parser.add_argument(
        "--runs", type=int, default=15, help="timed runs of each command (default 15)"
    )
    parser.add_argument(
        "--warmups", type=int, default=2, help="untimed runs before timing (default 2)"
    )


def tracker_executable() -> Path:
    """The installed `tracker` entry point of the interpreter running the benchmarks."""
    path = Path(sys.executable).parent / "tracker"
    if not path.exists():
        raise SystemExit(f"no tracker entry point at {path}: pip install -e . in this interpreter")
    return path


@dataclass(frozen=True)
class ChildRun:
    """A finished subprocess: wall time, its own peak resident memory, and what it said."""

    seconds: float
    max_rss: int  # bytes
    stderr: str


# Runs a command for run_child and writes its wall time and peak RSS to a file. A child's
# ru_maxrss starts from the memory of the process it was forked from, and with vfork from that
# process's peak. A child of the benchmark would therefore report at least the benchmark's own
# peak, which is hundreds of MB after generating a large CSV. This fresh, bare interpreter
# (about 10 MB) forks instead, so the command's figure is its own, like /usr/bin/time's.
_LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as out:
    out.write(f"{seconds!r} {usage.ru_maxrss}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_child(
    argv: Sequence[str | Path], env: dict[str, str] | None = None, stdout: Any = None
) -> ChildRun:
    """Run a command to completion and measure its wall time and peak RSS (see _LAUNCHER);
    exits the benchmark if the command fails. stdout is discarded unless given."""
    command = [str(a) for a in argv]
    with contextlib.ExitStack() as stack:
        out = stdout if stdout is not None else stack.enter_context(open(os.devnull, "wb"))
        err = stack.enter_context(tempfile.TemporaryFile())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-run-")))
        report = folder / "measured"
        done = subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, str(report), *command],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        err.seek(0)
        said = err.read().decode(errors="replace").strip()
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {said}")
        seconds, max_rss = report.read_text().split()
    return ChildRun(float(seconds), int(max_rss) * 1024, said)  # ru_maxrss is in KiB on Linux


def cached_database(n_claims: int, seed: int) -> tuple[Path, float | None]:
    """The benchmark database for these settings, built on first use; returns its path and the
    seconds spent building it (None when it came from the cache). Never run commands on it
    directly: take a `working_copy`, so the cache stays as generated."""
    from generate import GENERATOR_VERSION, build_database

    name = f"claims-{n_claims}-seed{seed}-gen{GENERATOR_VERSION}-schema{schema_fingerprint()}.db"
    path = DATA_DIR / name
    if path.exists():
        return path, None
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{name}.partial")
    _remove_database(partial)
    print(f"building {path.relative_to(BENCH_DIR.parent)} ({n_claims:,} claims) ...", flush=True)
    try:
        stats = build_database(partial, n_claims, seed)
        partial.replace(path)
    finally:
        _remove_database(partial)
    return path, stats.seconds


def cached_flat_csv(
    n_rows: int, seed: int, *, after: int = 0, profile: str = "default"
) -> tuple[Path, float | None]:
    """The flat claim CSV for these settings (`generate.write_flat_csv`), written on first use;
    returns its path and the seconds spent writing it (None when it came from the cache).

    With `after`, the file continues the one of `after` rows and holds `n_rows` new claims (not
    rows): what tops a database up to a given number of claims."""
    from generate import GENERATOR_VERSION, write_flat_csv

    # The default profile's names are unchanged, so cached files stay valid.
    kind = "" if profile == "default" else f"{profile}-"
    name = f"flat-{kind}{n_rows}-seed{seed}-gen{GENERATOR_VERSION}.csv"
    if after:
        name = f"flat-{kind}after{after}-{n_rows}claims-seed{seed}-gen{GENERATOR_VERSION}.csv"
    path = DATA_DIR / name
    if path.exists():
        return path, None
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    what = f"{n_rows:,} claims after row {after:,}" if after else f"{n_rows:,} rows"
    print(f"writing {path.relative_to(BENCH_DIR.parent)} ({what}) ...", flush=True)
    started = time.perf_counter()
    try:
        if after:
            write_flat_csv(partial, 0, seed, skip_rows=after, n_claims=n_rows, profile=profile)
        else:
            write_flat_csv(partial, n_rows, seed, profile=profile)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path, time.perf_counter() - started


def schema_fingerprint() -> str:
    """A digest of the migrations: any schema change gives cached databases a new name."""
    spec = importlib.util.find_spec("tracker.migrations")
    if spec is None or spec.origin is None:
        raise SystemExit("cannot find tracker.migrations: pip install -e . in this interpreter")
    versions = Path(spec.origin).parent / "versions"
    digest = hashlib.sha256()
    for migration in sorted(versions.glob("*.py")):
        digest.update(migration.name.encode() + b"\0" + migration.read_bytes())
    return digest.hexdigest()[:10]


@contextlib.contextmanager
def working_copy(database: Path, folder: Path) -> Iterator[Path]:
    """A private copy of a database, for benchmarks that write to it."""
    copy = folder / "bench.db"
    shutil.copyfile(database, copy)
    try:
        yield copy
    finally:
        _remove_database(copy)


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


@dataclass
class Report:
    """One benchmark's results: a table, whether every target was met, and notes to print."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ok: bool = True
    # Further tables printed after this one's notes (e.g. the bulk benchmark's PostgreSQL
    # figures); their own `ok` does not count: give them no targets.
    more: list[Report] = field(default_factory=list)

    def render(self) -> str:
        widths = [
            max(len(column), *(len(row[i]) for row in self.rows))
            for i, column in enumerate(self.columns)
        ]
        # Numbers and ratios right-aligned, text left-aligned.
        numeric = [
            all(_looks_numeric(row[i]) for row in self.rows) for i in range(len(self.columns))
        ]

        def line(cells: Sequence[str]) -> str:
            parts = [
                cell.rjust(width) if right else cell.ljust(width)
                for cell, width, right in zip(cells, widths, numeric, strict=True)
            ]
            return "  ".join(parts).rstrip()

        rule = "  ".join("-" * width for width in widths)
        out = [self.title, "", line(self.columns), rule, *(line(row) for row in self.rows)]
        if self.notes:
            out += ["", *self.notes]
        for table in self.more:
            out += ["", "", table.render()]
        return "\n".join(out)


# A number, maybe with a unit: "12.5", "1,024", "1.23x", "81.2 s", "3.1 ms", "212 MB".
_NUMBER = re.compile(r"-?[\d,]+(\.\d+)?( ?(x|s|ms|MB|%))?")


def _looks_numeric(cell: str) -> bool:
    return cell in ("", "-") or _NUMBER.fullmatch(cell) is not None


def standalone(
    description: str,
    add_arguments: Callable[[Options], None],
    run: Callable[[argparse.Namespace], Report],
    argv: Sequence[str] | None = None,
) -> int:
    """One benchmark run on its own (`python bench/X.py`): its options and the common ones, its
    table printed; exit 1 if it missed a target."""
    parser = argparse.ArgumentParser(description=description)
    add_common_arguments(parser)
    add_arguments(parser)
    report = run(parser.parse_args(argv))
    print(report.render())
    return 0 if report.ok else 1
