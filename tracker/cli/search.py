"""tracker search TEXT: find claims, actors, sources and incidents by the words people type."""

from enum import StrEnum
from typing import Annotated, Any

import typer

from tracker.cli.common import (
    AllOption,
    ColumnsOption,
    Format,
    FormatOption,
    SortOption,
    emit_list,
    emit_rows,
    more_line,
    print_table,
    say,
)

DEFAULT_LIMIT = 20


class Kind(StrEnum):
    claims = "claims"
    actors = "actors"
    sources = "sources"
    incidents = "incidents"
    all = "all"


# What each kind shows in a table, and every field it has.
TABLE = {
    "claims": ["id", "claimant", "match", "verdict"],
    "actors": ["id", "name", "kind", "match"],
    "sources": ["id", "title", "kind", "published", "match"],
    "incidents": ["id", "name", "kind", "match"],
}
FIELDS = {
    "claims": ["id", "claimant", "text", "verdict", "match"],
    "actors": ["id", "name", "kind", "aliases", "match"],
    "sources": ["id", "title", "kind", "publisher", "published", "url", "match"],
    "incidents": ["id", "name", "kind", "aliases", "match"],
}


def search(
    text: Annotated[
        list[str],
        typer.Argument(
            metavar="TEXT",
            help="Words to find: each matches as the start of a word, all must match "
            "(taken literally).",
        ),
    ],
    within: Annotated[
        Kind,
        typer.Option(
            "--in",
            metavar="KIND",
            help="What to search: claims (text, quote, note), actors (name, alias, "
            "description), sources (title, URL, publisher, author), incidents (name, alias, "
            "description), or all of them.",
        ),
    ] = Kind.claims,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            metavar="N",
            help=f"At most N results of each kind (default {DEFAULT_LIMIT}).",
        ),
    ] = None,
    every: AllOption = False,
    rank_all: Annotated[
        bool,
        typer.Option(
            "--rank-all",
            help="Rank every matching claim, not only the newest 1,000 (slower for common words).",
        ),
    ] = False,
    columns: ColumnsOption = None,
    sort: SortOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Search claims (or actors, sources, incidents, all) by the words people type, best first.

    Words match as prefixes: `korea` finds "North Korean". Of claims, the newest 1,000 matches
    are ranked; when more match, a note on stderr says so. With --in all, results are grouped
    by kind.

    Example: tracker search korea --in all
    """
    from tracker.cli.common import session
    from tracker.errors import UsageError
    from tracker.services.search import (
        search_actors,
        search_claims,
        search_incidents,
        search_sources,
    )

    if limit is not None and every:
        raise UsageError("give --limit or --all, not both")
    if within is Kind.all and (columns is not None or sort is not None):
        raise UsageError(
            "--columns and --sort need one kind: --in claims, actors, sources or incidents"
        )
    shown = None if every else (limit if limit is not None else DEFAULT_LIMIT)
    query = " ".join(text)
    kinds = [k.value for k in Kind if k is not Kind.all] if within is Kind.all else [within.value]
    with session(write=False) as s:
        results = {
            "claims": lambda: search_claims(s, query, limit=shown, rank_all=rank_all or every),
            "actors": lambda: search_actors(s, query, limit=shown),
            "sources": lambda: search_sources(s, query, limit=shown),
            "incidents": lambda: search_incidents(s, query, limit=shown),
        }
        found = {kind: results[kind]() for kind in kinds}
    if not any(r.hits for r in found.values()):
        what = "claims, actors, sources or incidents" if within is Kind.all else within.value
        say(f"no {what} match {query!r}")
        if fmt is Format.table:
            return  # for people, the message alone; programs still get an empty document
    if within is not Kind.all:
        result = found[within.value]
        default = TABLE[within.value] if fmt is Format.table else FIELDS[within.value]
        emit_list(
            result.hits,
            fmt,
            default=default,
            available=FIELDS[within.value],
            columns=columns,
            sort=sort,
            total=None if result.more else result.matched,
        )
        _note_window(result)
        return
    _emit_all(found, fmt)


def _note_window(result: Any) -> None:
    if result.more:
        say(
            f"note: more than {result.window:,} claims match; these are the best of the newest "
            f"{result.window:,}. Add words to narrow the search, or --rank-all to rank them all."
        )


def _left(result: Any) -> str | None:
    left = result.matched - len(result.hits)
    return more_line(left) if left > 0 and not result.more else None


def _emit_all(found: dict[str, Any], fmt: Format) -> None:
    if fmt is Format.json:
        import json

        typer.echo(json.dumps({k: r.hits for k, r in found.items()}, ensure_ascii=False, indent=2))
    elif fmt is Format.table:
        first = True
        for kind, result in found.items():
            if not result.hits:
                continue
            if not first:
                typer.echo("")
            first = False
            title = f"{kind.capitalize()} ({result.matched:,}{'+' if result.more else ''})"
            print_table(result.hits, TABLE[kind], title=title, more=_left(result))
    else:
        # One flat record a result: which kind, its id, what it is called, and what matched.
        label = {"claims": "text", "actors": "name", "sources": "title", "incidents": "name"}
        rows = [
            {"type": kind[:-1], "id": h["id"], "label": h[label[kind]], "match": h["match"]}
            for kind, result in found.items()
            for h in result.hits
        ]
        emit_rows(rows, ["type", "id", "label", "match"], fmt)
    for result in found.values():
        _note_window(result)
