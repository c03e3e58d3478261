"""tracker export ...: claim reports for colleagues (CSV for spreadsheets) and for programs."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli.common import counted, group, guard_output, output_stream, progress, say, session
from tracker.cli.options import COMBINING, claim_filters

if TYPE_CHECKING:
    from tracker.services.claim_report import ClaimFilter

app = group("Export claim reports (CSV, JSON, JSON Lines).")


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


@app.command(
    "claims",
    help=f"""Export the claim report, one row per claim, with the same filters as `claim list`.

    CSV is UTF-8 with a byte-order mark, so Excel and LibreOffice open it with the right
    characters; cells starting with = + - @ or a tab/CR get a leading ' so no spreadsheet runs
    them as formulas. --raw turns both off.

    {COMBINING}

    Example: tracker export claims -o claims.csv --about China
    """,
)
@claim_filters
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
    flat: Annotated[
        bool,
        typer.Option(
            help="The flat import format instead: one row per (claim, source) appearance, "
            "raw values, ready for `tracker import claims`."
        ),
    ] = False,
    filters: "ClaimFilter" = None,  # type: ignore[assignment]  # given by @claim_filters
) -> None:
    from tracker.services import flat as flat_format
    from tracker.services.claim_report import COLUMNS, claim_rows, count
    from tracker.services.export import write_csv, write_json, write_jsonl

    guard_output(output)
    with session(write=False) as s, output_stream(output) as out:
        if flat:
            # Raw by design: guards or a BOM would change the data on the way back in.
            rows = flat_format.flat_rows(s, filters)
            columns, safe, bom = flat_format.COLUMNS, False, False
            total = None  # a row per appearance: not known before
        else:
            rows = claim_rows(s, filters)
            columns, safe, bom = COLUMNS, not raw, not raw
            total = count(s, filters) if sys.stderr.isatty() else None
        with progress(total, "export") as tick:
            rows = counted(rows, tick)
            if fmt is ExportFormat.csv:
                n = write_csv(rows, out, columns, safe=safe, bom=bom)
            elif fmt is ExportFormat.jsonl:
                n = write_jsonl(rows, out)
            else:
                n = write_json(rows, out)
    if output != "-":
        say(f"exported {n} {'rows' if flat else 'claims'} to {output}")


@app.command("all")
def all_(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A new or empty folder.")],
) -> None:
    """Dump the whole database (every table, ids and history) as JSON Lines files.

    `tracker import all DIR` restores it into an empty database, SQLite or PostgreSQL.

    Example: tracker export all backup-2026-11-26
    """
    from tracker.cli.common import open_db
    from tracker.services.dump import export_all

    guard_output(folder)
    database = open_db(write=False)
    try:
        with database.connect() as conn, progress(None, "dump") as tick:
            counts = export_all(conn, folder, progress=tick)
    finally:
        database.close()
    say(f"exported {sum(counts.values()):,} rows from {len(counts)} tables to {folder}")
