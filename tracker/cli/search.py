"""tracker search TEXT: ranked full-text search over claim text, quotes and notes."""

from typing import Annotated

import typer

from tracker.cli.common import Format, FormatOption, emit_rows, say, session


def search(
    text: Annotated[
        list[str],
        typer.Argument(metavar="TEXT", help="Words to find (all must match; taken literally)."),
    ],
    limit: Annotated[int, typer.Option(help="At most this many results, best first.")] = 20,
    rank_all: Annotated[
        bool,
        typer.Option(
            "--rank-all",
            help="Rank every matching claim, not only the newest 1,000 (slower for common words).",
        ),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Search claims by words in their text, quote or note; best matches first.

    The newest 1,000 matching claims are ranked; when more match, a note on stderr says so.

    Example: tracker search terabytes
    """
    from tracker.services.search import search_claims

    with session(write=False) as s:
        result = search_claims(s, " ".join(text), limit=limit, rank_all=rank_all)
    columns = (
        ["id", "claimant", "match", "verdict"]
        if fmt is Format.table
        else ["id", "claimant", "text", "verdict", "match"]
    )
    emit_rows(result.hits, columns, fmt)
    if result.more:
        say(
            f"note: more than {result.window:,} claims match; these are the best of the newest "
            f"{result.window:,}. Add words to narrow the search, or --rank-all to rank them all."
        )
