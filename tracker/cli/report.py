"""tracker report ...: summaries for people; --format json for programs."""

from typing import Annotated, Any

import typer

from tracker.cli.common import (
    Format,
    FormatOption,
    emit_record,
    emit_rows,
    group,
    heading,
    print_table,
    session,
)
from tracker.cli.complete import actor_names, source_titles

app = group("Summaries: overall, per actor, per source, disputes.")

CLAIM_COLUMNS = ["id", "claimant", "text", "stated", "verdict", "disputes"]


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
    fmt: FormatOption = Format.table,
) -> None:
    """Counts by verdict, status, claimant and source; the most disputed claims.

    Example: tracker report summary --format json
    """
    from tracker.services.reports import summary as build

    with session(write=False) as s:
        report = build(s, top)
    if fmt is Format.table:
        totals = report["totals"]
        typer.echo(", ".join(f"{n} {what}" for what, n in totals.items()))
        typer.echo("")
    _sections(
        fmt,
        report,
        {
            "by_verdict": ["verdict", "claims"],
            "by_status": ["status", "claims"],
            "by_claimant": ["id", "claimant", "claims"],
            "by_source": ["id", "source", "claims"],
            "most_disputed": ["id", "claimant", "text", "verdict", "disputes"],
        },
    )


@app.command("actor")
def actor(
    name: Annotated[
        str,
        typer.Argument(
            metavar="ACTOR", help="Actor id, name or alias.", autocompletion=actor_names
        ),
    ],
    fmt: FormatOption = Format.table,
) -> None:
    """Claims made by and about an actor, with verdicts and disputes.

    Example: tracker report actor China
    """
    from tracker.services.reports import actor_report

    with session(write=False) as s:
        report = actor_report(s, name)
    if fmt is Format.table:
        who = report["actor"]
        aliases = f" (also: {', '.join(who['aliases'])})" if who["aliases"] else ""
        typer.echo(heading(f"{who['name']}{aliases}, {who['kind']}"))
        typer.echo("")
    _sections(fmt, report, {"claims_by": CLAIM_COLUMNS, "claims_about": CLAIM_COLUMNS})


@app.command("source")
def source(
    name: Annotated[
        str,
        typer.Argument(
            metavar="SOURCE", help="Source id, URL or title.", autocompletion=source_titles
        ),
    ],
    fmt: FormatOption = Format.table,
) -> None:
    """A source, what it rests on, and the claims that appear in it.

    Example: tracker report source "APT1 report"
    """
    from tracker.cli.source import source_lines
    from tracker.services.reports import source_report

    with session(write=False) as s:
        report = source_report(s, name)
    if fmt is Format.table:
        for line in source_lines(report["source"]):
            typer.echo(line)
        typer.echo("")
    _sections(fmt, report, {"claims": CLAIM_COLUMNS})


@app.command("disputed")
def disputed(fmt: FormatOption = Format.table) -> None:
    """Each disputed claim with both sides: the claim, and who disputes or refutes it.

    Example: tracker report disputed
    """
    from tracker.services.reports import disputed_report

    with session(write=False) as s:
        report = disputed_report(s)
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
