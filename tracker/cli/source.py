"""tracker source ...: the reports, articles and statements claims appear in."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli import records
from tracker.cli.common import (
    AllOption,
    ColumnsOption,
    DossierFormatOption,
    Format,
    FormatOption,
    LimitOption,
    NewOption,
    OutputOption,
    SortOption,
    YesOption,
    emit_dossier,
    emit_list,
    emit_record,
    group,
    list_limit,
    say,
    session,
    transact,
)
from tracker.cli.complete import actor_names, source_titles
from tracker.vocab import SourceKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = group("Record and look up sources (where claims appear).")

SourceRef = Annotated[
    str,
    typer.Argument(metavar="SOURCE", help="Source id, URL or title.", autocompletion=source_titles),
]
Publisher = Annotated[
    str | None,
    typer.Option(help="Publishing actor (created if new).", autocompletion=actor_names),
]
Authors = Annotated[
    list[str] | None, typer.Option("--author", metavar="NAME", help="An author (repeatable).")
]
Url = Annotated[str | None, typer.Option(help="http(s) URL of the source.")]
Published = Annotated[
    str | None,
    typer.Option("--date", metavar="DATE", help="Publication date: YYYY, YYYY-MM or YYYY-MM-DD."),
]
Retrieved = Annotated[str | None, typer.Option(help="When it was retrieved (a date).")]
Reliability = Annotated[
    str | None,
    typer.Option(help="Admiralty grade: A reliable .. E unreliable, F cannot be judged."),
]

COLUMNS = ["id", "title", "kind", "publisher", "published", "reliability", "url", "claims"]


@app.command("add")
def add(
    title: Annotated[str, typer.Argument(metavar="TITLE", help="The source's title.")],
    publisher: Publisher = None,
    author: Authors = None,
    url: Url = None,
    date: Published = None,
    retrieved: Retrieved = None,
    kind: Annotated[SourceKind, typer.Option(help="What sort of source.")] = SourceKind.other,
    reliability: Reliability = None,
    cites: Annotated[
        list[str] | None,
        typer.Option(
            help="A source this one reports or rests on (repeatable).", autocompletion=source_titles
        ),
    ] = None,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="Add it even if a source has this title or one like it (a different source); "
            "also lets a new --publisher resemble a known actor.",
        ),
    ] = False,
) -> None:
    """Add a source; prints its id.

    A title that a source already has needs a --url of its own, or --new.

    Example: tracker source add "APT1: Exposing One of China's Cyber Espionage Units"
    --publisher Mandiant --kind report --date 2013-02-19 --reliability B
    """
    from tracker.services.sources import add_source

    source = transact(
        lambda s: add_source(
            s,
            title,
            kind=kind,
            publisher=publisher,
            authors=author or [],
            url=url,
            published=date,
            retrieved=retrieved,
            reliability=reliability,
            cites=cites or [],
            new=new,
        )
    )
    say(f"added source {source.title!r} (#{source.id})")
    typer.echo(source.id)


@app.command("list")
def list_(
    columns: ColumnsOption = None,
    sort: SortOption = None,
    limit: LimitOption = None,
    every: AllOption = False,
    fmt: FormatOption = Format.table,
) -> None:
    """List sources, oldest first, with how many claims appear in each.

    Example: tracker source list --format json
    """
    from tracker.services.sources import list_sources

    shown = list_limit(fmt, limit, every)
    with session(write=False) as s:
        rows = list_sources(s)
    emit_list(
        rows, fmt, default=COLUMNS, available=COLUMNS, columns=columns, sort=sort, limit=shown
    )


def source_lines(record: dict[str, Any]) -> list[str]:
    lines = [f"#{record['id']} {record['title']}"]
    for key in ("kind", "publisher", "authors", "url", "published", "retrieved"):
        if record.get(key):
            value = record[key]
            lines.append(f"  {key}: {', '.join(value) if isinstance(value, list) else value}")
    if record.get("reliability"):
        lines.append(f"  reliability: {record['reliability']} ({record['reliability_meaning']})")
    for cited in record["cites"]:
        lines.append(f"  {'  ' * (cited['depth'] - 1)}rests on #{cited['id']} {cited['title']}")
    for citing in record["cited_by"]:
        lines.append(f"  cited by #{citing['id']} {citing['title']}")
    lines.append(f"  claims: {record['claims']}")
    return lines


@app.command("show")
def show(source: SourceRef, fmt: DossierFormatOption = None, output: OutputOption = "-") -> None:
    """Show one source with the chain of sources it rests on (--format markdown or html: a
    document to hand over).

    Example: tracker source show 2
    """
    from tracker.render.dossiers import source_document
    from tracker.services.sources import resolve_source, source_record

    with session(write=False) as s:
        record = source_record(s, resolve_source(s, source))
    emit_dossier(
        fmt,
        output,
        lambda f: emit_record(record, f, source_lines(record)),
        lambda: source_document(record),
    )


@app.command("edit")
def edit(
    source: SourceRef,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    publisher: Publisher = None,
    author: Authors = None,
    url: Url = None,
    date: Published = None,
    retrieved: Retrieved = None,
    kind: Annotated[SourceKind | None, typer.Option(help="What sort of source.")] = None,
    reliability: Reliability = None,
    cites: Annotated[
        list[str] | None, typer.Option(help="Add a cited source (repeatable).")
    ] = None,
    uncites: Annotated[
        list[str] | None, typer.Option(help="Remove a cited source (repeatable).")
    ] = None,
    new: NewOption = False,
) -> None:
    """Change a source's details ('' clears an optional field).

    Example: tracker source edit 2 --cites "APT1 report" --reliability B
    """
    from tracker.services.identity import allow_new
    from tracker.services.sources import edit_source

    def work(s: "Session") -> tuple[Any, Any]:
        allow_new(s, new)
        return edit_source(
            s,
            source,
            fields={
                "title": title,
                "kind": kind,
                "publisher": publisher,
                "authors": author,
                "url": url,
                "published": date,
                "retrieved": retrieved,
                "reliability": reliability,
            },
            add={"cites": cites or []},
            remove={"cites": uncites or []},
        )

    found, changes = transact(work)
    if not changes:
        say(f"source #{found.id}: nothing to change")
        return
    say(f"updated source {found.title!r} (#{found.id})")


@app.command("merge")
def merge(
    keep: Annotated[
        str,
        typer.Argument(metavar="KEEP", help="Source that stays.", autocompletion=source_titles),
    ],
    other: Annotated[
        str,
        typer.Argument(
            metavar="OTHER",
            help="Source folded into KEEP, then removed.",
            autocompletion=source_titles,
        ),
    ],
    yes: YesOption = False,
) -> None:
    """Fold OTHER into KEEP: its appearances and citations move over.

    Shows what will change and asks first (off a terminal, give --yes);
    'tracker source unmerge OTHER-ID' undoes it.

    Example: tracker source merge 2 5 --yes
    """
    records.merge("source", keep, other, yes)


@app.command("unmerge")
def unmerge(
    source: Annotated[
        str, typer.Argument(metavar="ID", help="Id the merged source had (see 'source history').")
    ],
) -> None:
    """Undo a merge: the merged source comes back with its id, uid, appearances and citations.

    Example: tracker source unmerge 5
    """
    records.unmerge("source", source)


@app.command("delete")
def delete(source: SourceRef, yes: YesOption = False) -> None:
    """Delete a source that no claim or source refers to (else refused: merge it instead).

    Example: tracker source delete 5 --yes
    """
    records.delete("source", source, yes)


@app.command("history")
def history(source: SourceRef, fmt: FormatOption = Format.table) -> None:
    """Show every change to a source, oldest first (merged and deleted sources too, by id).

    Example: tracker source history 2
    """
    records.history("source", source, fmt)
