"""What the benchmarks share: options, the cached benchmark database, and result tables."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import shutil
import sys
from collections.abc import Iterator, Sequence
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
        return "\n".join(out)


def _looks_numeric(cell: str) -> bool:
    text = cell.rstrip("x")
    return text in ("", "-") or text.replace(".", "", 1).replace(",", "").isdigit()
