"""History as people read it: one line per change, for any kind of record (claims, actors,
sources). The wording comes from tracker.services.history.describe, next to the format."""

from collections.abc import Iterable, Mapping
from typing import Any

import typer

from tracker.cli.common import Format, emit_rows

COLUMNS = ["at", "action", "by", "role", "changes"]


def history_lines(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """`  2026-11-26T15:44:32 edited by analyst: tags: +us-policy`, one per entry; on
    PostgreSQL `by alice (stated by: Desk A)` when the role and the stated name differ."""
    from tracker.services.history import author, describe

    lines = []
    for entry in entries:
        name = author(entry)
        who = f" by {name}" if name else ""
        detail = describe(entry["action"], entry["changes"])
        line = f"  {entry['at'][:19]} {entry['action']}{who}"
        lines.append(f"{line}: {detail}" if detail else line)
    return lines


def emit_history(entries: list[dict[str, Any]], fmt: Format) -> None:
    """Print history entries: sentences for people, the recorded changes as data for programs."""
    if fmt is Format.table:
        for line in history_lines(entries):
            typer.echo(line)
    else:
        emit_rows(entries, COLUMNS, fmt)
