"""tracker export ...: claim reports for colleagues (CSV for spreadsheets) and for programs."""

from enum import StrEnum
from typing import Annotated

import typer

from tracker.cli.claim import (
    About,
    By,
    Since,
    Sources,
    StatusFilter,
    Tags,
    Until,
    VerdictFilter,
    _filters,
)
from tracker.cli.common import group, output_stream, say, session

app = group("Export claim reports (CSV, JSON, JSON Lines).")


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


@app.command("claims")
def claims(
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="File to write, or - for stdout.")
    ] = "-",
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", metavar="FORMAT", help="csv, json or jsonl.")
    ] = ExportFormat.csv,
    raw: Annotated[
        bool,
        typer.Option(help="For programs: no byte-order mark and no formula guards in CSV cells."),
    ] = False,
    by: By = None,
    about: About = None,
    source: Sources = None,
    tag: Tags = None,
    verdict: VerdictFilter = None,
    status: StatusFilter = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Export the claim report, one row per claim, with the same filters as `claim list`.

    CSV is UTF-8 with a byte-order mark, so Excel and LibreOffice open it with the right
    characters; cells starting with = + - @ or a tab/CR get a leading ' so no spreadsheet runs
    them as formulas. --raw turns both off.

    Example: tracker export claims -o claims.csv --about China
    """
    from tracker.services.claim_report import COLUMNS, claim_rows
    from tracker.services.export import write_csv, write_json, write_jsonl

    filters = _filters(
        by=by,
        about=about,
        source=source,
        tag=tag,
        verdict=verdict,
        status=status,
        since=since,
        until=until,
        limit=None,
    )
    with session(write=False) as s, output_stream(output) as out:
        rows = claim_rows(s, filters)
        if fmt is ExportFormat.csv:
            n = write_csv(rows, out, COLUMNS, safe=not raw, bom=not raw)
        elif fmt is ExportFormat.jsonl:
            n = write_jsonl(rows, out)
        else:
            n = write_json(rows, out)
    if output != "-":
        say(f"exported {n} claims to {output}")
