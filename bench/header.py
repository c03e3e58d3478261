"""How long `import claims` takes to refuse a CSV header of N unknown columns (was quadratic:
100k columns took ~4 minutes). Usage: python bench/header.py [N ...]"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "t.db"
        for n in sizes:
            source = Path(folder) / f"wide-{n}.csv"
            source.write_text("text,claimant," + ",".join(f"c{i}" for i in range(n)) + "\nx,y\n")
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "tracker", "--db", str(db), "import", "claims", str(source)],
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - started
            print(
                f"{n:>8,} columns: {elapsed:.2f} s, exit {result.returncode}, "
                f"message {len(result.stderr)} chars"
            )


if __name__ == "__main__":
    main()
