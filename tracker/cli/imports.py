"""tracker import ...: claims in bulk from the flat format, or a whole database dump."""

import shutil
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli.common import (
    closed_streams,
    group,
    guard_output,
    output_stream,
    progress,
    say,
    session,
    transact,
)
from tracker.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = group(
    "Import claims in bulk (CSV, JSON Lines, XLSX), ClaimReview, STIX 2.1, or restore a "
    "database dump."
)


class ImportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    xlsx = "xlsx"


def _format(file: str, given: ImportFormat | None) -> str:
    if given is not None:
        return given.value
    if file.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"
    return "jsonl" if file.lower().endswith((".jsonl", ".ndjson")) else "csv"


def _seekable(stream: IO[bytes]) -> IO[bytes]:
    """A workbook is a zip, read from its end: stdin is copied to a temporary file first."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115  # closed by the caller
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool


@app.command("claims")
def claims(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Flat claim file, or - for stdin.")],
    fmt: Annotated[
        ImportFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="csv, jsonl or xlsx (default: by extension, else csv).",
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="XLSX: the worksheet to read (default: the first)."),
    ] = None,
    ignore_extra: Annotated[
        bool, typer.Option(help="Ignore columns the flat format does not have.")
    ] = False,
    skip_invalid: Annotated[
        str | None,
        typer.Option(
            metavar="FILE", help="Import the good rows; write the bad ones, with a reason, to FILE."
        ),
    ] = None,
    strict_names: Annotated[
        bool,
        typer.Option(
            help="Refuse the whole file if a new name resembles a known one (a typo, another "
            "spelling, a shorter form); by default they are created and listed."
        ),
    ] = False,
    report_names: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="Write every new name that resembles a known one, with its candidates, to FILE "
            "(CSV).",
        ),
    ] = None,
) -> None:
    """Import claims from the flat format: one row per (claim, source) appearance.

    Columns: text, claimant, quote, stated, about, tags, verdict, note, credibility, source,
    source_url, source_publisher, source_date, source_kind (only text and claimant required;
    about and tags separate several values with ;). Rows with the same claimant and text are one
    claim. All or nothing: any bad row imports nothing, unless --skip-invalid. Importing the
    same file again changes nothing. An XLSX workbook (--sheet NAME, else its first sheet) is
    read as its cells display (a date as YYYY-MM-DD), errors naming the sheet's row numbers.

    Example: tracker import claims newsroom-sheet.csv --skip-invalid rejected.csv
    """
    from tracker.services.flat import Reader
    from tracker.services.importer import import_flat
    from tracker.services.xlsx import XlsxReader

    name = "stdin" if file == "-" else file
    if file != "-" and not Path(file).is_file():
        raise typer.BadParameter(f"no such file: {file!r}", param_hint="FILE")
    if file == "-" and (sys.stdin is None or closed_streams.get("stdin")):
        raise StorageError("cannot read standard input: it is closed")
    if skip_invalid:
        guard_output(skip_invalid, inputs=[file])
    if report_names:
        guard_output(report_names, inputs=[file, *([skip_invalid] if skip_invalid else [])])
    kind = _format(file, fmt)
    if sheet is not None and kind != "xlsx":
        raise typer.BadParameter("--sheet applies to XLSX workbooks only", param_hint="'--sheet'")
    total = Path(file).stat().st_size if file != "-" else None

    def work(s: "Session") -> Any:
        # Opened by each run: a run that lost a race to another writer reads the file again.
        stream = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
        try:
            reader: Reader
            if kind == "xlsx":
                if file == "-":
                    stream = _seekable(stream)
                reader = XlsxReader(stream, name, sheet=sheet, ignore_extra=ignore_extra)
            else:
                reader = Reader(stream, name, kind, ignore_extra=ignore_extra)
            with progress(total, "import") as tick:
                if skip_invalid:
                    with output_stream(skip_invalid, inputs=[file]) as rejects:
                        report = import_flat(
                            s,
                            reader,
                            name=name,
                            rejects=rejects,
                            progress=lambda rows: tick(rows, reader.bytes_read),
                            strict_names=strict_names,
                        )
                else:
                    report = import_flat(
                        s,
                        reader,
                        name=name,
                        progress=lambda rows: tick(rows, reader.bytes_read),
                        strict_names=strict_names,
                    )
                if report_names:
                    with output_stream(report_names, inputs=[file]) as out:
                        _write_resemblances(report, out)
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
        return report

    # Standard input cannot be read twice: one attempt.
    report = transact(work, retry=file != "-")
    say(f"imported {name}: {report.summary()}")
    if report.resembling:
        hint = f" (all in {report_names})" if report_names else " (--report-names FILE lists all)"
        say(f"check: {report.names_summary()}{hint}")
    if report.rows_skipped and skip_invalid:
        say(f"{report.rows_skipped:,} rejected rows written to {skip_invalid}")


def _write_resemblances(report: Any, out: Any) -> None:
    import csv

    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "resembles_id", "resembles", "why"])
    for found in report.resembling:
        for similar in found.similar:
            writer.writerow([found.name, similar.ident, similar.label, similar.reason])


@app.command("claimreview")
def claimreview(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="ClaimReview JSON(-LD) or a saved HTML page; - is stdin."
        ),
    ],
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="LABEL=VERDICT",
            help="Map a publisher's rating label to a verdict (repeatable); overrides the table.",
        ),
    ] = None,
) -> None:
    """Import schema.org ClaimReviews: claims, claimants, appearances and verdicts.

    Reads a JSON list of ClaimReviews, one ClaimReview, a DataFeed, an @graph, or HTML pages
    holding <script type="application/ld+json"> (never run). The claim's author is the
    claimant, its appearances the sources, the review's author the reviewer. Rating labels map
    to verdicts by the documented table (docs/formats.md) plus --map; an unmapped label refuses
    the whole import, naming it. The label is kept in the verdict's note: [Pants on Fire] ...
    Importing the same reviews again changes nothing.

    Example: tracker import claimreview politifact.json --map "Full Flop=false"
    """
    from tracker.services.claimreview import import_reviews, parse_maps, parse_reviews, read_reviews

    labels = parse_maps(maps or [])
    name = "stdin" if file == "-" else file
    if file != "-" and not Path(file).is_file():
        raise typer.BadParameter(f"no such file: {file!r}", param_hint="FILE")
    if file == "-" and (sys.stdin is None or closed_streams.get("stdin")):
        raise StorageError("cannot read standard input: it is closed")
    if file == "-":
        nodes = read_reviews(sys.stdin.buffer, name)
    else:
        with open(file, "rb") as stream:
            nodes = read_reviews(stream, name)
    reviews = parse_reviews(nodes, name, labels)
    report = transact(lambda s: import_reviews(s, reviews, name))
    _summary(name, report)


@app.command("stix")
def stix(
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE|DIR|-",
            help="A STIX 2.1 bundle, a folder of object files (MITRE's cti layout), or - for "
            "stdin.",
        ),
    ],
    claimant: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="Who makes the claims of relationships and notes that name no creator "
            "(created_by_ref).",
        ),
    ] = "Unattributed STIX",
) -> None:
    """Import STIX 2.1: actors, incidents, sources, claims with their citations, and blame.

    intrusion-set, threat-actor and identity become actors (groups, people, organizations);
    malware, tool and attack-pattern actors of kind malware, tool and technique, their ATT&CK
    ids (G0016, S0002, T1059) as aliases; campaign and incident become incidents; report a
    source. Every relationship with a description becomes a claim by its creator about both
    ends, its (Citation: X) references the sources it appears in; attributed-to blames the
    target, with STIX confidence as low (0-29), moderate (30-69) or high (70-100); note a
    claim, opinion a verdict. Revoked and deprecated objects are skipped, other types counted
    as not mapped (docs/formats.md has the table). All or nothing; importing the same bundle
    again changes nothing, and a newer version of an object (a later modified) updates what
    it made, with history.

    Example: tracker import stix enterprise-attack.json
    """
    from tracker.services.stix_import import (
        MAX_INPUT,
        StixError,
        import_stix,
        input_files,
        read_paths,
    )

    name = "stdin" if source == "-" else source
    if source == "-":
        if sys.stdin is None or closed_streams.get("stdin"):
            raise StorageError("cannot read standard input: it is closed")
        spool = _spooled(sys.stdin.buffer, MAX_INPUT)
        if spool is None:
            raise StixError(f"stdin: larger than {MAX_INPUT // 1024**3} GiB; split it")
        files = [Path(spool.name)]
    else:
        path = Path(source)
        if not path.exists():
            raise typer.BadParameter(f"no such file or folder: {source!r}", param_hint="FILE|DIR")
        spool = None
        files = input_files(path)
    try:
        size = sum(f.stat().st_size for f in files)
        # Reading fills the first half of the bar, writing the claims the second.
        # The input is a file (stdin spooled), so a run that loses a race to another writer
        # reads it again from the start.
        with progress(2 * size, "import") as tick:
            report = transact(
                lambda s: import_stix(
                    s,
                    read_paths(files, tick, [name] if source == "-" else None),
                    name=name,
                    claimant=claimant,
                    progress=lambda n, share: tick(n, size + int(share * size)),
                )
            )
    finally:
        if spool is not None:
            spool.close()
    _summary(name, report)


def _summary(name: str, report: Any) -> None:
    """The import's summary line, and the new names that resemble known ones."""
    say(f"imported {name}: {report.summary()}")
    if report.resembling:
        listed = "; ".join(str(r) for r in report.resembling[:3])
        more = len(report.resembling) - 3
        say(
            f"check: new names resemble existing ones: {listed}"
            + (f"; and {more:,} more" if more > 0 else "")
        )


def _spooled(stream: IO[bytes], limit: int) -> Any:
    """stdin in a named temporary file (a STIX input is read as a file); None past `limit`."""
    spool = tempfile.NamedTemporaryFile(suffix=".json")  # noqa: SIM115  # closed by the caller
    copied = 0
    while chunk := stream.read(1 << 20):
        copied += len(chunk)
        if copied > limit:
            spool.close()
            return None
        spool.write(chunk)
    spool.flush()
    return spool


@app.command("all")
def all_(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="A folder written by `export all`.")
    ],
) -> None:
    """Restore a whole-database dump into an empty database, keeping every id.

    Every row is held to the rules the other commands apply, derived values (hashes, name keys)
    must match, and unknown columns or files are refused: the first problem is named by file,
    line and column, and nothing is imported. This is also how a database moves between SQLite
    and PostgreSQL.

    Example: TRACKER_DB=postgresql+psycopg://tracker@dbhost/newsroom tracker import all backup
    """
    from tracker.services.dump import import_all

    # Before opening: a new database must not be created only to refuse the folder.
    if not folder.is_dir():
        raise StorageError(f"cannot read {str(folder)!r}: no such folder")
    with progress(_dump_rows(folder), "restore") as tick, session() as s:
        counts = import_all(s.connection(), folder, progress=tick)
    say(f"restored {sum(counts.values()):,} rows into {len(counts)} tables from {folder}")


def _dump_rows(folder: Path) -> int | None:
    """How many rows a dump's manifest says it holds (None when it cannot tell: import_all
    then refuses the folder with the reason)."""
    import json

    try:
        tables = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["tables"]
        return sum(int(n) for n in tables.values())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
