"""tracker report ...: summaries for people; --format json for programs."""

from dataclasses import replace
from enum import StrEnum
from typing import Annotated, Any

import typer

from tracker.cli.common import (
    DossierFormat,
    DossierFormatOption,
    Format,
    OutputOption,
    emit_dossier,
    emit_record,
    emit_rows,
    group,
    heading,
    inferred_format,
    output_bytes,
    output_stream,
    print_table,
    session,
    web_of,
)
from tracker.cli.complete import actor_names, source_titles
from tracker.render.dossiers import CLAIM_COLUMNS

app = group(
    "Summaries: overall, per actor, per source, disputes; as tables, data, Markdown or HTML."
)


def _sections(fmt: Format, report: dict[str, Any], tables: dict[str, list[str]]) -> None:
    if fmt is not Format.table:
        emit_record(report, fmt)
        return
    for key, columns in tables.items():
        print_table(report[key], columns, title=heading(key.replace("_", " ").capitalize()))
        typer.echo("")


@app.command("summary")
def summary(
    top: Annotated[int, typer.Option(help="How many claimants, sources and claims to rank.")] = 10,
    fmt: DossierFormatOption = None,
    output: OutputOption = "-",
) -> None:
    """Counts by verdict, status, claimant and source; the most disputed claims.

    Example: tracker report summary --format json
    """
    from tracker.render.dossiers import SUMMARY_TABLES, summary_document
    from tracker.services.reports import summary as build

    with session(write=False) as s:
        report = build(s, top)

    def data(fmt: Format) -> None:
        if fmt is Format.table:
            totals = report["totals"]
            typer.echo(", ".join(f"{n} {what}" for what, n in totals.items()))
            typer.echo("")
        _sections(fmt, report, SUMMARY_TABLES)

    emit_dossier(fmt, output, data, lambda: summary_document(report))


@app.command("actor")
def actor(
    name: Annotated[
        str,
        typer.Argument(
            metavar="ACTOR", help="Actor id, name or alias.", autocompletion=actor_names
        ),
    ],
    fmt: DossierFormatOption = None,
    output: OutputOption = "-",
) -> None:
    """Claims made by and about an actor, with verdicts and disputes.

    Example: tracker report actor China -o china.md
    """
    from tracker.render.dossiers import actor_report_document
    from tracker.services.reports import actor_report

    with session(write=False) as s:
        report = actor_report(s, name)

    def data(fmt: Format) -> None:
        if fmt is Format.table:
            who = report["actor"]
            aliases = f" (also: {', '.join(who['aliases'])})" if who["aliases"] else ""
            typer.echo(heading(f"{who['name']}{aliases}, {who['kind']}"))
            typer.echo("")
        _sections(fmt, report, {"claims_by": CLAIM_COLUMNS, "claims_about": CLAIM_COLUMNS})

    emit_dossier(
        fmt,
        output,
        data,
        lambda: actor_report_document(report),
        web_of("Claims by and about this actor", actor=str(report["actor"]["id"])),
    )


@app.command("source")
def source(
    name: Annotated[
        str,
        typer.Argument(
            metavar="SOURCE", help="Source id, URL or title.", autocompletion=source_titles
        ),
    ],
    fmt: DossierFormatOption = None,
    output: OutputOption = "-",
) -> None:
    """A source, what it rests on, and the claims that appear in it.

    Example: tracker report source "APT1 report"
    """
    from tracker.cli.source import source_lines
    from tracker.render.dossiers import source_report_document
    from tracker.services.reports import source_report

    with session(write=False) as s:
        report = source_report(s, name)

    def data(fmt: Format) -> None:
        if fmt is Format.table:
            for line in source_lines(report["source"]):
                typer.echo(line)
            typer.echo("")
        _sections(fmt, report, {"claims": CLAIM_COLUMNS})

    emit_dossier(fmt, output, data, lambda: source_report_document(report))


@app.command("disputed")
def disputed(fmt: DossierFormatOption = None, output: OutputOption = "-") -> None:
    """Each disputed claim with both sides: the claim, and who disputes or refutes it.

    Example: tracker report disputed -o disputed.html
    """
    from tracker.render.dossiers import disputed_document
    from tracker.services.reports import disputed_report

    with session(write=False) as s:
        report = disputed_report(s)
    emit_dossier(fmt, output, lambda f: _disputed(report, f), lambda: disputed_document(report))


def _disputed(report: list[dict[str, Any]], fmt: Format) -> None:
    if fmt is Format.table:
        if not report:
            typer.echo("No disputed claims.")
        for entry in report:
            typer.echo(heading(f"#{entry['id']} {entry['claimant']}: {entry['text']}"))
            typer.echo(f"  verdict: {entry['verdict'] or 'none'}")
            for other in entry["opposed_by"]:
                typer.echo(
                    f"  {other['relation']} by #{other['id']} {other['claimant']}: {other['text']}"
                )
            if entry["supported_by"]:
                typer.echo("  supported by " + ", ".join(f"#{i}" for i in entry["supported_by"]))
            typer.echo("")
        return
    if fmt is Format.json:
        emit_record({"disputed": report}, fmt)
    else:
        emit_rows(report, ["id", "claimant", "text", "verdict", "opposed_by", "supported_by"], fmt)


Rollup = Annotated[
    bool,
    typer.Option(
        "--rollup",
        help="Count blame of an actor's parts as blame of the actor (a unit -> its state).",
    ),
]


@app.command("attribution")
def attribution(
    incident: Annotated[
        str | None,
        typer.Argument(metavar="INCIDENT", help="Incident id, name or alias."),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            metavar="ACTOR",
            help="Every incident this actor is blamed for, instead.",
            autocompletion=actor_names,
        ),
    ] = None,
    rollup: Rollup = False,
    fold_same_as: Annotated[
        bool,
        typer.Option(
            "--fold-same-as",
            help="Treat actors that 'same-as' claims equate as one (the report lists which).",
        ),
    ] = False,
    undisputed: Annotated[
        bool,
        typer.Option(
            "--undisputed", help="With --fold-same-as: only equivalences nobody disputes."
        ),
    ] = False,
    min_origins: Annotated[
        int,
        typer.Option(
            "--min-origins",
            metavar="N",
            help="With --fold-same-as: only equivalences on at least N independent origins.",
        ),
    ] = 0,
    fmt: DossierFormatOption = None,
    output: OutputOption = "-",
) -> None:
    """Who is blamed for an incident, by whom, with what confidence, on how many independent
    origins, and who denies it; strongest first. With --actor: every incident an actor is
    blamed for. Vendors' names for one group are folded only on request (--fold-same-as).

    Example: tracker report attribution "APT1 intrusions" --rollup
    """
    from tracker.errors import UsageError
    from tracker.render.dossiers import attribution_document, who
    from tracker.services.attribution import Fold, actor_attribution, incident_attribution

    if (incident is None) == (actor is None):
        raise UsageError("give an INCIDENT or --actor ACTOR, one of the two")
    if (undisputed or min_origins) and not fold_same_as:
        raise UsageError("--undisputed and --min-origins go with --fold-same-as")
    fold = Fold(undisputed=undisputed, min_origins=min_origins) if fold_same_as else None
    with session(write=False) as s:
        if actor is not None:
            report = actor_attribution(s, actor, rollup=rollup, fold=fold)
        else:
            assert incident is not None
            report = incident_attribution(s, incident, rollup=rollup, fold=fold)
    rows = [
        {
            **row,
            "incident": row["incident"] or "(none named)",
            "blamed_by": who(row["blamed_by"], "claim_of_responsibility", "claims it"),
            "cleared_by": who(row["cleared_by"], "denial", "denial"),
            "actors": ", ".join(a["name"] for a in row.get("actors", [])),
        }
        for row in report["rows"]
    ]
    if actor is not None:
        columns = [
            "incident",
            "actors",
            "blamed_by",
            "cleared_by",
            "independent_origins",
            "first_stated",
            "verdicts",
        ]
        title = f"Attribution of incidents to {report['actor']['name']}"
    else:
        columns = [
            "actor",
            "blamed_by",
            "cleared_by",
            "claimed_responsibility",
            "independent_origins",
            "first_stated",
            "verdicts",
        ]
        title = f"Attribution of {report['incident']['name']}"
    if fold_same_as and actor is None:
        columns.append("folded")
    title += " (parts rolled up)" if rollup else ""

    def data(fmt: Format) -> None:
        if fmt is Format.json:
            emit_record(report, fmt)
        elif fmt is Format.table:
            _attribution_table(report, rows, columns, title)
        else:
            # CSV and JSON Lines: one flat row per actor, the claims as readable cells (`-f json`
            # keeps them as objects).
            emit_rows(rows, columns, fmt)

    picture = (
        web_of("Who blames whom", actor=str(report["actor"]["id"]))
        if actor is not None
        else web_of("Who blames whom", incident=str(report["incident"]["id"]))
    )
    emit_dossier(
        fmt, output, data, lambda: attribution_document(report, rows, columns, title), picture
    )


def _attribution_table(
    report: dict[str, Any], rows: list[dict[str, Any]], columns: list[str], title: str
) -> None:
    from tracker.render.dossiers import folded_line

    if not rows:
        typer.echo(f"{title}: nobody is blamed or cleared.")
    else:
        print_table(rows, columns, title=heading(title))
    for same in report["folded"]:
        typer.echo(f"folded: {folded_line(same)}")


@app.command("contested")
def contested(fmt: DossierFormatOption = None, output: OutputOption = "-") -> None:
    """Blame met by a denial from the accused (or one of its parts, or what it is part of):
    accusation and denial side by side, with their origins and verdicts.

    Example: tracker report contested
    """
    from tracker.render.dossiers import contested_document
    from tracker.services.attribution import contested as build

    with session(write=False) as s:
        report = build(s)
    emit_dossier(fmt, output, lambda f: _contested(report, f), lambda: contested_document(report))


def _contested(report: list[dict[str, Any]], fmt: Format) -> None:
    if fmt is Format.json:
        emit_record({"contested": report}, fmt)
        return
    if fmt is not Format.table:
        flat = [
            {
                "accused": pair["accused"]["name"],
                "incidents": pair["incidents"],
                **{
                    f"{side}_{key}": pair[side][key]
                    for side in ("accusation", "denial")
                    for key in ("claim_id", "claimant", "stated", "verdict", "independent_origins")
                },
            }
            for pair in report
        ]
        emit_rows(flat, list(flat[0]) if flat else ["accused", "incidents"], fmt)
        return
    if not report:
        typer.echo("No contested attributions.")
    for pair in report:
        where = f" ({', '.join(pair['incidents'])})" if pair["incidents"] else ""
        typer.echo(heading(f"{pair['accused']['name']}{where}"))
        for side in ("accusation", "denial"):
            c = pair[side]
            facts = ", ".join(
                x
                for x in (
                    c["stated"],
                    c["confidence"] and f"{c['confidence']} confidence",
                    f"{c['independent_origins']} origin(s)",
                    f"verdict: {c['verdict'] or 'none'}",
                )
                if x
            )
            typer.echo(f"  {side}: #{c['claim_id']} {c['claimant']}: {c['text']} ({facts})")
        typer.echo("")


class TimelineFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"
    html = "html"
    svg = "svg"
    png = "png"


@app.command("timeline")
def timeline(
    incident: Annotated[
        str | None, typer.Option(metavar="INCIDENT", help="Only claims about this incident.")
    ] = None,
    about: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ACTOR",
            help="Only claims about this actor (repeatable: all).",
            autocompletion=actor_names,
        ),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(metavar="TAG", help="Only claims with this tag.")
    ] = None,
    fmt: Annotated[
        TimelineFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="table for people; markdown or html to hand over (html with the picture); "
            "csv, json or jsonl for programs; svg or png for the picture alone: claims, "
            "appearances, denials and verdicts on a date axis (default: by the -o file's "
            "extension, else table).",
        ),
    ] = None,
    output: OutputOption = "-",
) -> None:
    """Every claim, appearance and verdict in date order, partial dates where they belong:
    how an attribution spread and when it was denied.

    Example: tracker report timeline --incident "APT1 intrusions"
    """
    from tracker.render.document import Figure
    from tracker.render.dossiers import timeline_document
    from tracker.render.timeline_svg import render_timeline_svg
    from tracker.services.attribution import stance_marks
    from tracker.services.attribution import timeline as build

    with session(write=False) as s:
        events = build(s, incident=incident, about=about or [], tags=tag or [])
        marks = stance_marks(s, {e["claim_id"] for e in events})
    focus = [incident, *(about or []), *(f"tag {t}" for t in tag or [])]
    title = "Timeline" + (f": {', '.join(f for f in focus if f)}" if any(focus) else "")
    chosen = inferred_format(output, fmt, TimelineFormat.table)
    if chosen in (TimelineFormat.svg, TimelineFormat.png):
        svg = render_timeline_svg(events, marks, title)
        if chosen is TimelineFormat.png:
            from tracker.render.svg import svg_to_png

            output_bytes(output, svg_to_png(svg))
            return
        with output_stream(output) as out:
            out.write(svg)
        return
    emit_dossier(
        DossierFormat(chosen.value),
        output,
        lambda f: emit_rows(events, ["date", "event", "claim_id", "who", "what"], f),
        lambda: replace(
            timeline_document(events),
            figures=[Figure(title, render_timeline_svg(events, marks, title))] if events else [],
        ),
    )
