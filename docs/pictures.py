"""Regenerate the README's pictures of the seed story: docs/graph-seed.png and
docs/timeline-seed.png.

Records the quick start (docs/quickstart.sh) in a new database in a temporary folder, then
draws it with the installed `tracker` (Graphviz's dot and rsvg-convert must be installed):

    .venv/bin/python docs/pictures.py
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def main() -> None:
    bin_dir = str(Path(sys.executable).parent)
    with tempfile.TemporaryDirectory() as work:
        env = {
            **os.environ,
            "TRACKER_DB": str(Path(work) / "seed.db"),
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        }
        subprocess.run(
            ["bash", str(DOCS / "quickstart.sh")],
            cwd=work,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

        def tracker(*args: str) -> None:
            subprocess.run([sys.executable, "-m", "tracker", *args], env=env, check=True)

        tracker("graph", "--format", "png", "-o", str(DOCS / "graph-seed.png"))
        tracker(
            "report",
            "timeline",
            "--incident",
            "APT1 intrusions",
            "--format",
            "png",
            "-o",
            str(DOCS / "timeline-seed.png"),
        )
    print(f"wrote {DOCS / 'graph-seed.png'} and {DOCS / 'timeline-seed.png'}")


if __name__ == "__main__":
    main()
