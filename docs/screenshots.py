"""Regenerate docs/dossier-seed.png: the seed story's first claim as its HTML dossier, seen in
headless Chromium (Debian's `chromium`) through the tests' browser helper.

    .venv/bin/python docs/screenshots.py

The story is recorded into a temporary database as the README's quick start does
(tests/helpers.record_seed); nothing of the user's is read or written.
"""

import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))

from browser import available, render  # noqa: E402
from helpers import Run, record_seed  # noqa: E402

from tracker.db import open_database  # noqa: E402

WIDTH = 1000


def main() -> int:
    reason = available()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="tracker-screenshots-") as folder:
        db = str(Path(folder) / "seed.db")
        os.environ["TRACKER_DB"] = db
        os.environ.setdefault("TRACKER_USER", "analyst")
        open_database(db).close()
        cli = Run()
        ids = record_seed(cli)
        page = Path(folder) / "claim.html"
        cli("claim", "show", str(ids["mandiant"]), "-o", str(page))
        target = DOCS / "dossier-seed.png"
        seen = render(page, width=WIDTH, height=900, screenshot=target)
        if seen.requests or seen.dialogs:
            print(f"the page asked for {seen.requests} / opened {seen.dialogs}", file=sys.stderr)
            return 1
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
