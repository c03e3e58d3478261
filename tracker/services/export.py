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

from tracker.text import join_list

LIST_SEPARATOR = "; "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM = "\ufeff"


_FORMULA_FIRST = frozenset(FORMULA_START)


def cell(value: Any, *, safe: bool) -> str:
    """One CSV cell. Called for every cell of an export: the common types are tested first."""
    kind = value.__class__
    if kind is str:
        text: str = value
        return "'" + text if safe and text[:1] in _FORMULA_FIRST else text
    if value is None:
        return ""
    if kind is int:
        return str(value)
    if kind is list:
        if not value:
            return ""
        if value[0].__class__ in (dict, list):  # lists hold one kind of value
            return json.dumps(value, ensure_ascii=False)  # nested data stays exact, as JSON
        return cell(join_list(map(str, value)), safe=safe)
    if kind is dict:
        return json.dumps(value, ensure_ascii=False)
    if kind is bool:
        return "true" if value else "false"
    return cell(str(value), safe=safe)


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
    write = writer.writerow
    first = _FORMULA_FIRST if safe else frozenset()
    in_order: bool | None = None  # rows of one report share their keys: check the first
    for row in rows:
        values: Iterable[Any]
        if in_order is None:
            in_order = list(row) == list(columns)
        values = row.values() if in_order else [row.get(c) for c in columns]
        # The hot loop of every export: str, int, None and lists of names need no call (csv
        # writes None as an empty cell); the rest goes through cell().
        cells = []
        for value in values:
            kind = value.__class__
            if kind is str:
                cells.append("'" + value if value[:1] in first else value)
            elif value is None or kind is int:
                cells.append(value)
            elif kind is list and (not value or value[0].__class__ is str):
                joined = LIST_SEPARATOR.join(value)
                if "\\" in joined or joined.count(";") >= len(value):
                    joined = join_list(value)  # a value holds `;` or `\`: escape it
                cells.append("'" + joined if joined[:1] in first else joined)
            else:
                cells.append(cell(value, safe=safe))
        write(cells)
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
