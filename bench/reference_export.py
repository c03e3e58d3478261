"""The reference exporter for the bulk benchmark: the claim report (one row per claim) written as
CSV with nothing but the standard library, a sqlite3 cursor streamed into csv.writer.

One query computes every column, the lists with group_concat over ordered subqueries, in the
order and format of `tracker export claims` (tracker/services/claim_report.py): subjects by actor
id, sources by position, the first source URL, tags by name, supporting and disputing (disputes,
refutes) claim ids ascending, timestamps in ISO 8601 with their UTC offset. The file has the
byte-order mark and CRLF line ends of the tracker's CSV, so on data with no cell a spreadsheet
would take for a formula the two files are byte for byte the same. Unlike the tracker, it does
not guard such cells.

Usage: python bench/reference_export.py DB OUT.csv
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

COLUMNS = [
    "id",
    "text",
    "quote",
    "claimant",
    "about",
    "stated",
    "sources",
    "first_source_url",
    "verdict",
    "status",
    "credibility",
    "tags",
    "supported_by",
    "disputed_by",
    "note",
    "uid",
    "created_at",
    "updated_at",
]

QUERY = """
SELECT
    c.id,
    c.text,
    c.quote,
    a.name,
    (SELECT group_concat(name, '; ') FROM (
        SELECT s.name FROM claim_subject cs JOIN actor s ON s.id = cs.actor_id
        WHERE cs.claim_id = c.id ORDER BY s.id)),
    c.stated,
    (SELECT group_concat(title, '; ') FROM (
        SELECT so.title FROM appearance p JOIN source so ON so.id = p.source_id
        WHERE p.claim_id = c.id ORDER BY p.position)),
    (SELECT so.url FROM appearance p JOIN source so ON so.id = p.source_id
        WHERE p.claim_id = c.id AND so.url IS NOT NULL ORDER BY p.position LIMIT 1),
    c.verdict,
    c.status,
    c.credibility,
    (SELECT group_concat(tag, '; ') FROM (
        SELECT tag FROM claim_tag WHERE claim_id = c.id ORDER BY tag)),
    (SELECT group_concat(from_id, '; ') FROM (
        SELECT from_id FROM link WHERE to_id = c.id AND relation = 'supports'
        ORDER BY from_id)),
    (SELECT group_concat(from_id, '; ') FROM (
        SELECT from_id FROM link WHERE to_id = c.id AND relation IN ('disputes', 'refutes')
        ORDER BY from_id)),
    c.note,
    c.uid,
    replace(c.created_at, ' ', 'T') || '+00:00',
    replace(c.updated_at, ' ', 'T') || '+00:00'
FROM claim c JOIN actor a ON a.id = c.claimant_id
ORDER BY c.id
"""


def export(db: Path, out: Path) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        with open(out, "w", encoding="utf-8", newline="") as stream:
            stream.write("\ufeff")
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(COLUMNS)
            writer.writerows(conn.execute(QUERY))
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export the claim report with sqlite3 alone.")
    parser.add_argument("db", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    export(args.db, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
