"""History as people read it: one line per change, for any kind of record (claims, actors,
sources). The wording comes from tracker.services.history.describe, next to the format."""

from collections.abc import Iterable, Mapping
from typing import Any

import typer

from tracker.cli.common import Format, emit_rows

COLUMNS = ["at", "action", "by", "role", "changes"]


def history_lines(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """`  2026-11-26T15:44:32 edited by analyst: tags: +us-policy`, one per entry."""
    from tracker.services.history import entry_line

    return [f"  {entry_line(entry)}" for entry in entries]


def emit_history(entries: list[dict[str, Any]], fmt: Format) -> None:
    """Print history entries: sentences for people, the recorded changes as data for programs."""
    if fmt is Format.table:
        for line in history_lines(entries):
            typer.echo(line)
    else:
        emit_rows(entries, COLUMNS, fmt)
