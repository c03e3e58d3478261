"""Run the benchmarks and print their tables; exits 1 if any target is missed.

Usage: python bench/run.py [--only NAME ...] [--claims N] [--runs R] [--warmups W] [...]

A benchmark is a module in bench/ with NAME, DESCRIPTION, add_arguments(parser) for its own
options, and run(args) -> common.Report. Add new ones to BENCHMARKS.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import bulk
import feed
import graph
import names
import pg_writers
import sealing
import startup
import stix
from common import Options, Report, add_common_arguments


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    add_arguments: Callable[[Options], None]
    run: Callable[[argparse.Namespace], Report]


BENCHMARKS = [
    Benchmark(startup.NAME, startup.DESCRIPTION, startup.add_arguments, startup.run),
    Benchmark(bulk.NAME, bulk.DESCRIPTION, bulk.add_arguments, bulk.run),
    Benchmark(names.NAME, names.DESCRIPTION, names.add_arguments, names.run),
    Benchmark(graph.NAME, graph.DESCRIPTION, graph.add_arguments, graph.run),
    Benchmark(stix.NAME, stix.DESCRIPTION, stix.add_arguments, stix.run),
    Benchmark(pg_writers.NAME, pg_writers.DESCRIPTION, pg_writers.add_arguments, pg_writers.run),
    Benchmark(feed.NAME, feed.DESCRIPTION, feed.add_arguments, feed.run),
    Benchmark(sealing.NAME, sealing.DESCRIPTION, sealing.add_arguments, sealing.run),
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the claim-tracker benchmarks.",
        epilog="benchmarks: " + "; ".join(f"{b.name}: {b.description}" for b in BENCHMARKS),
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[b.name for b in BENCHMARKS],
        help="run only this benchmark (repeatable)",
    )
    add_common_arguments(parser)
    for benchmark in BENCHMARKS:
        benchmark.add_arguments(parser.add_argument_group(benchmark.name))
    args = parser.parse_args(argv)

    ok = True
    for benchmark in BENCHMARKS:
        if args.only and benchmark.name not in args.only:
            continue
        started = time.perf_counter()
        report = benchmark.run(args)
        print(report.render())
        print(f"({benchmark.name}: {time.perf_counter() - started:.0f} s)\n", flush=True)
        ok &= report.ok
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
