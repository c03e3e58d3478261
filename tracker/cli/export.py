"""tracker export ...: claim reports for colleagues (CSV for spreadsheets) and for programs."""

import shutil
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from tracker.cli.common import (
    counted,
    group,
    guard_output,
    inferred_format,
    output_stream,
    progress,
    say,
    session,
)
from tracker.cli.options import COMBINING, claim_filters
from tracker.errors import UsageError

if TYPE_CHECKING:
    from tracker.services.claim_report import ClaimFilter

app = group("Export claim reports (CSV, JSON, JSON Lines, XLSX), ClaimReview and STIX 2.1.")


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    xlsx = "xlsx"


@app.command(
    "claims",
    help=f"""Export the claim report, one row per claim, with the same filters as `claim list`.

    CSV is UTF-8 with a byte-order mark, so Excel and LibreOffice open it with the right
    characters; cells starting with = + - @ or a tab/CR get a leading ' so no spreadsheet runs
    them as formulas. --raw turns both off. XLSX (--format xlsx, or -o FILE.xlsx) is a real
    workbook: every text cell stays text, shown as typed and never run.

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
        ExportFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="csv, json, jsonl or xlsx (default: by the -o file's extension, else csv).",
        ),
    ] = None,
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

    fmt = inferred_format(output, fmt, ExportFormat.csv)
    guard_output(output)
    to_terminal = output == "-" and sys.stdout is not None and sys.stdout.isatty()
    if fmt is ExportFormat.xlsx and to_terminal:
        raise UsageError("an XLSX workbook is binary: give -o FILE.xlsx, or redirect stdout")
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
            if fmt is ExportFormat.xlsx:
                # Spreadsheet cells are typed: no formula guard is needed, none is added.
                n = _xlsx(rows, out, columns, "claims" if flat else "report")
            elif fmt is ExportFormat.csv:
                n = write_csv(rows, out, columns, safe=safe, bom=bom)
            elif fmt is ExportFormat.jsonl:
                n = write_jsonl(rows, out)
            else:
                n = write_json(rows, out)
    if output != "-":
        say(f"exported {n} {'rows' if flat else 'claims'} to {output}")


@app.command(
    "claimreview",
    help="""Export each rated claim as a schema.org ClaimReview (JSON-LD), as search engines read.

    The claim's claimant is the Claim's author (Person or Organization by the actor's kind), its
    sources the appearances (the first is firstAppearance); the verdict is the reviewRating:
    alternateName is its label (a publisher's label kept on import, else the verdict), and
    ratingValue runs from 1 (false) to 5 (true) — unverifiable and not-a-claim have no value.
    Each review needs its own url: --url-template with {id} or {uid}, else the publisher's
    URL with #claim-UID. Takes the same filters as `claim list`.

    Example: tracker export claimreview --publisher "Desk A" --url-template
    'https://desk.example/checks/{id}' -o reviews.json
    """,
)
@claim_filters
def claimreview(
    publisher: Annotated[
        str,
        typer.Option(metavar="NAME", help="Who publishes the reviews (the ClaimReview author)."),
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="File to write, or - for stdout.")
    ] = "-",
    publisher_url: Annotated[
        str | None, typer.Option(metavar="URL", help="The publisher's web address.")
    ] = None,
    url_template: Annotated[
        str | None,
        typer.Option(
            metavar="T",
            help="Each review's URL, with {id} or {uid} for the claim's, e.g. "
            "https://desk.example/checks/{id}.",
        ),
    ] = None,
    filters: "ClaimFilter" = None,  # type: ignore[assignment]  # given by @claim_filters
) -> None:
    from tracker.services.claimreview import check_export_options, claim_reviews, write_reviews

    check_export_options(publisher, publisher_url, url_template)
    guard_output(output)
    with session(write=False) as s, output_stream(output) as out:
        reviews = claim_reviews(
            s, filters, publisher=publisher, publisher_url=publisher_url, url_template=url_template
        )
        n = write_reviews(reviews, out)
    if output != "-":
        say(f"exported {n} claim reviews to {output}")


@app.command(
    "stix",
    help=f"""Export claims as a STIX 2.1 bundle, with the actors, sources and incidents they need.

    Claimants and other actors are identities (groups intrusion sets; malware, tools and
    techniques as themselves), sources reports, incidents campaigns, each claim a note by its
    claimant; blame is an attributed-to relationship with the stated confidence, denials and
    verdicts are opinions. Ids derive from the records' own, so exporting again gives the same
    bundle. docs/formats.md has the whole mapping. Takes the same filters as `claim list`.

    {COMBINING}

    Example: tracker export stix --about "PLA Unit 61398" -o apt1.json
    """,
)
@claim_filters
def stix(
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="File to write, or - for stdout.")
    ] = "-",
    filters: "ClaimFilter" = None,  # type: ignore[assignment]  # given by @claim_filters
) -> None:
    from tracker.services.stix_export import stix_bundle, write_bundle

    guard_output(output)
    with session(write=False) as s:
        # Filters are resolved, and the bundle built, before the output file is opened.
        bundle = stix_bundle(s, filters)
    with output_stream(output) as out:
        n = write_bundle(bundle, out)
    if output != "-":
        say(f"exported {n} STIX objects to {output}")


def _xlsx(rows: Any, out: TextIO, columns: list[str], sheet: str) -> int:
    """Build the workbook in a temporary file, then copy it into `out` (itself written aside
    and renamed by output_stream): a failed export leaves no file behind."""
    from tracker.services.xlsx import write_xlsx

    with tempfile.TemporaryDirectory(prefix="tracker-xlsx-") as folder:
        path = Path(folder) / "report.xlsx"
        n = write_xlsx(rows, path, columns, sheet=sheet)
        out.flush()
        with open(path, "rb") as built:
            shutil.copyfileobj(built, out.buffer)
        out.buffer.flush()
    return n


@app.command("all")
def all_(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A new or empty folder.")],
) -> None:
    """Dump the whole database (every table, ids and history) as JSON Lines files.

    The dump is one consistent snapshot, safe to take while others write; it appears in DIR
    only once complete. `tracker import all DIR` restores it into an empty database, SQLite or
    PostgreSQL.

    Example: tracker export all backup-2026-11-26
    """
    from tracker.cli.common import open_db
    from tracker.services.dump import export_all, snapshot

    guard_output(folder)
    database = open_db(write=False)
    try:
        # One snapshot: tables read while others write must still fit together on restore.
        with snapshot(database) as conn, progress(None, "dump") as tick:
            counts = export_all(conn, folder, progress=tick)
    finally:
        database.close()
    say(f"exported {sum(counts.values()):,} rows from {len(counts)} tables to {folder}")
