"""tracker search TEXT: ranked full-text search over claim text, quotes and notes."""

from typing import Annotated

import typer

from tracker.cli.common import Format, FormatOption, emit_rows, session


def search(
    text: Annotated[
        list[str],
        typer.Argument(metavar="TEXT", help="Words to find (all must match; taken literally)."),
    ],
    limit: Annotated[int, typer.Option(help="At most this many results, best first.")] = 20,
    fmt: FormatOption = Format.table,
) -> None:
    """Search claims by words in their text, quote or note; best matches first.

    Example: tracker search terabytes
    """
    from tracker.services.search import search_claims

    with session(write=False) as s:
        rows = search_claims(s, " ".join(text), limit=limit)
    columns = (
        ["id", "claimant", "match", "verdict"]
        if fmt is Format.table
        else ["id", "claimant", "text", "verdict", "match"]
    )
    emit_rows(rows, columns, fmt)
