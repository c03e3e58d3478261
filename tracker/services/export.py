"""Writing claim reports as CSV, JSON or JSON Lines, streamed row by row.

CSV is UTF-8 with a byte-order mark (so Excel detects the encoding; LibreOffice and Python's
`utf-8-sig` read it too) and CRLF line ends (RFC 4180). Text cells that a spreadsheet would run
as a formula (starting with = + - @, tab or CR) get a leading apostrophe, as OWASP's CSV
Injection guidance advises; `safe=False` writes values untouched for programs.
"""

import csv
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

LIST_SEPARATOR = "; "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM = "\ufeff"


def neutralize(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def cell(value: Any, *, safe: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, dict | list) for v in value)
    ):
        return json.dumps(value, ensure_ascii=False)  # nested data stays exact, as JSON
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return neutralize(text) if safe else text


def write_csv(
    rows: Iterable[dict[str, Any]],
    out: TextIO,
    columns: Sequence[str],
    *,
    safe: bool = True,
    bom: bool = False,
) -> int:
    if bom:
        out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([cell(row.get(c), safe=safe) for c in columns])
        n += 1
    return n


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_json(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """A JSON array, written element by element so a large export never sits in memory."""
    n = 0
    out.write("[")
    for row in rows:
        out.write(("\n  " if n == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n
