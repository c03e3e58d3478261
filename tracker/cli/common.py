"""What every command shares: the database option, sessions, output formats and messages.

Kept light on purpose: SQLAlchemy, Alembic and rich are imported only inside the functions that
use them, so `tracker --help` and shell completion start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO, TypeVar

import typer
from typer.core import TyperGroup, TyperOption

from tracker.errors import StorageError, UsageError

T = TypeVar("T")

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.orm import Session

    from tracker.db import Database
    from tracker.render.document import Document, Figure


DB_HELP = "Database file path or SQLAlchemy URL."


def _db_after_command(ctx: Any, param: Any, value: str | None) -> None:
    # Parsed after `tracker --db`/TRACKER_DB has been applied, so the later one wins.
    if value is not None:
        set_db(value)


class CommandGroup(TyperGroup):
    """A group whose every command also takes `--db`, so it may follow the command as well as
    precede it (`tracker claim list --db x.db`): one option added here, not in each command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            _accept_db(command)

    def add_command(self, cmd: Any, name: str | None = None) -> None:
        super().add_command(cmd, name)
        _accept_db(cmd)


def _accept_db(command: Any) -> None:
    if isinstance(command, TyperGroup) or any("--db" in p.opts for p in command.params):
        return
    command.params.append(
        TyperOption(
            param_decls=["--db"],
            type=str,
            metavar="PATH|URL",
            expose_value=False,
            callback=_db_after_command,
            help=f"{DB_HELP[:-1]}; also accepted before the command, or from TRACKER_DB.",
        )
    )


def group(help: str) -> typer.Typer:
    """A command group. Plain Click help and errors: rich stays unloaded unless a table needs it."""
    return typer.Typer(cls=CommandGroup, no_args_is_help=True, rich_markup_mode=None, help=help)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="table for people; csv, json or jsonl for programs.",
    ),
]


class DossierFormat(StrEnum):
    """What `show` and `report` commands write: the list formats, and documents to hand over."""

    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"
    html = "html"


DossierFormatOption = Annotated[
    DossierFormat | None,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="table for people, markdown or html to hand over, csv, json or jsonl for "
        "programs (default: by the -o file's extension, else table).",
    ),
]
OutputOption = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to FILE (complete or not at all) instead of standard output.",
    ),
]

F = TypeVar("F", bound=StrEnum)

# The format a file's extension implies (`-o dossier.html`); a command takes the ones it has.
SUFFIXES = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".svg": "svg",
    ".png": "png",
}


def inferred_format(output: str, given: F | None, default: F) -> F:
    """--format if given, else what the output file's extension says (when the command has
    that format), else `default`."""
    if given is not None:
        return given
    suffix = Path(output).suffix.lower() if output != "-" else ""
    kind = type(default)
    named = SUFFIXES.get(suffix)
    return kind(named) if named in {m.value for m in kind} else default


def emit_dossier(
    fmt: DossierFormat | None,
    output: str,
    data: Callable[[Format], object],
    document: Callable[[], Document],
    figures: Callable[[], list[Figure]] | None = None,
) -> None:
    """Write a `show` or `report` result: `document()` as Markdown or HTML, or `data(fmt)` (the
    command's own printing, for the other formats) to standard output or the -o file, which is
    written aside and renamed into place when complete. HTML embeds `figures()` too."""
    from contextlib import redirect_stdout

    chosen = inferred_format(output, fmt, DossierFormat.table)
    guard_output(output)
    if chosen in (DossierFormat.markdown, DossierFormat.html):
        from dataclasses import replace
        from datetime import UTC, datetime

        from tracker.render.html import to_html
        from tracker.render.markdown import to_markdown

        made = f"tracker, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        doc = replace(document(), byline=made)
        if figures is not None and chosen is DossierFormat.html:
            doc = replace(doc, figures=[*doc.figures, *figures()])
        text = to_markdown(doc) if chosen is DossierFormat.markdown else to_html(doc)
        with output_stream(output) as out:
            out.write(text)
    else:
        with output_stream(output) as out, redirect_stdout(out):
            data(Format(chosen.value))
    if output != "-":
        say(f"wrote {output}")


def web_of(
    title: str, *, claim: str | None = None, actor: str | None = None, incident: str | None = None
) -> Callable[[], list[Figure]]:
    """The web around a record (`tracker graph --claim ID` and so on) as a figure for an HTML
    dossier. Without Graphviz the dossier is written without it, and stderr says why."""

    def draw() -> list[Figure]:
        from tracker.errors import ToolMissing
        from tracker.render.document import Figure
        from tracker.render.svg import render_svg
        from tracker.services.graph import build_graph

        with session(write=False) as s:
            graph = build_graph(s, claim=claim, actor=actor, incident=incident)
        try:
            return [Figure(title, render_svg(graph))]
        except ToolMissing as exc:
            say(f"note: written without the picture: {exc}")
            return []

    return draw


NewOption = Annotated[
    bool,
    typer.Option(
        "--new",
        help="Names nobody has are new records even if they resemble known ones "
        "(otherwise refused with the candidates).",
    ),
]

_db_option: dict[str, str | None] = {"db": None}
# Standard streams that were closed when the program started (main() puts /dev/null in their
# place so no file the program opens can take their descriptor): name -> True.
closed_streams: dict[str, bool] = {}


def set_db(value: str | None) -> None:
    _db_option["db"] = value


def open_db(*, write: bool = True, migrate: bool = True) -> Database:
    """The selected database. Commands that only read pass write=False: a missing database is
    then an error rather than created, and a SQLite file is opened read-only."""
    from tracker.db import open_database

    return open_database(_db_option["db"], write=write, migrate=migrate, notify=say)


def database_url() -> URL:
    """The selected database's URL, without opening it."""
    from tracker.db import ENV_VAR, resolve_url

    db = _db_option["db"]
    return resolve_url(db if db is not None else os.environ.get(ENV_VAR))


def guard_output(
    path: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = ()
) -> None:
    """Refuse (exit 74, nothing written) an output that is the selected database, one of the
    files SQLite keeps beside it, or one of `inputs`; `-` is stdout and always allowed. Every
    command that writes a file calls this before it opens anything."""
    from tracker.outputs import refuse_overwrite

    refuse_overwrite(path, database=database_url(), inputs=inputs)


YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Make the change without asking (needed off a terminal)."),
]


def confirm(preview: Sequence[str], question: str, yes: bool) -> None:
    """Show what a change will do; on a terminal ask, elsewhere go on only with --yes."""
    for line in preview:
        say(line)
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise typer.BadParameter(
            "this change needs confirming: give --yes (nothing was changed)", param_hint="'--yes'"
        )
    if not typer.confirm(question, default=False, err=True):
        say("nothing changed")
        raise typer.Exit(1)


def say(message: str) -> None:
    """A message for the person at the terminal: stderr, so stdout stays data."""
    typer.echo(message, err=True)


@contextmanager
def session(*, write: bool = True) -> Iterator[Session]:
    """One transaction on the selected database; queued notes are printed once it commits."""
    database = open_db(write=write)
    try:
        with database.session(write=write) as s:
            yield s
            notes = list(s.info.get("notes", []))
    finally:
        database.close()
    for note in notes:
        say(note)


def transact(work: Callable[[Session], T], *, retry: bool = True) -> T:
    """`work` in one write transaction on the selected database, run again from the start if it
    loses a race to another writer (Database.transaction); the notes it queued are printed once
    it commits. Print nothing inside `work`: it may run more than once."""
    database = open_db()
    notes: list[str] = []

    def run(s: Session) -> T:
        result = work(s)
        notes[:] = s.info.get("notes", [])
        return result

    try:
        result = database.transaction(run, retry=retry)
    finally:
        database.close()
    for note in notes:
        say(note)
    return result


@contextmanager
def output_stream(output: str, *, inputs: Iterable[str] = ()) -> Iterator[TextIO]:
    """stdout for `-`; otherwise the named file, written aside and renamed into place only when
    complete, so a failed export never leaves half a file (devices and pipes are written as-is).
    The file is never the database or one of `inputs` (guard_output).
    """
    if output == "-":
        if sys.stdout is None or closed_streams.get("stdout"):
            raise StorageError("cannot write to standard output: it is closed")
        yield sys.stdout
        sys.stdout.flush()
        return
    with _written(output, inputs) as target, open(target, "w", encoding="utf-8", newline="") as out:
        yield out


def output_bytes(output: str, data: bytes, *, inputs: Iterable[str] = ()) -> None:
    """`data` (a picture) to stdout for `-`, else to the file as output_stream writes one;
    never to a terminal, where it would show as garbage."""
    if output == "-":
        if sys.stdout is None or closed_streams.get("stdout"):
            raise StorageError("cannot write to standard output: it is closed")
        if sys.stdout.isatty():
            raise UsageError("binary output is not for a terminal: give -o FILE or pipe it")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    with _written(output, inputs) as target, open(target, "wb") as out:
        out.write(data)


@contextmanager
def _written(output: str, inputs: Iterable[str]) -> Iterator[Path]:
    """The path to write for `output`: a file beside it, renamed into place once the block
    ends well (a device or pipe is written directly)."""
    guard_output(output, inputs=inputs)
    target = Path(output).expanduser()
    if not target.parent.is_dir():
        raise StorageError(f"cannot write {output!r}: folder {str(target.parent)!r} does not exist")
    try:
        if target.exists() and not target.is_file():
            yield target
            return
        partial = target.with_name(f".{target.name}.partial")
        try:
            yield partial
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        # Name the file the user gave (a full disk reports no file name of its own).
        raise OSError(exc.errno, exc.strerror, output) from None


def _plain(value: Any) -> str:
    from tracker.render.document import plain

    return plain(value)


def color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


# Columns of free text: on a terminal only these wrap (at most TEXT_LINES lines, then `…`), so
# that ids, dates, grades, names and headers keep their width and are never broken.
WRAPPING = frozenset(
    {"text", "match", "quote", "note", "title", "description", "aliases", "sources", "about"}
    | {"about_as", "authors", "url", "first_source_url", "tags", "supported_by", "disputed_by"}
    | {"opposed_by", "summary", "change", "details", "label"}
)
TEXT_LINES = 3
GAP = "  "
# Columns are left out (the last first) rather than squeeze text columns below this width.
MIN_TEXT = 24
# Names are shown whole up to this width (a longer one is cut with `…`); ids, uids, dates,
# timestamps and grades always whole.
MAX_FIXED = 32
NAMES = frozenset({"claimant", "name", "publisher", "reviewer", "by"})


def terminal_width() -> int:
    import shutil

    return max(20, shutil.get_terminal_size((100, 24)).columns)


def _cut(value: str, width: int) -> str:
    """`value` in at most `width` cells: whole, or cut with `…`."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(value) <= width:
        return value
    if width < 1:
        return ""
    return set_cell_size(value, width - 1).rstrip() + "…"


def _wrap(value: str, width: int, lines: int = TEXT_LINES) -> list[str]:
    """`value` wrapped at spaces into at most `lines` lines of `width` cells; a word wider than
    the column, or text beyond the last line, is cut with `…` (never split across lines)."""
    from rich.cells import cell_len

    out: list[str] = []
    line = ""
    words = value.split()
    for i, word in enumerate(words):
        joined = f"{line} {word}" if line else word
        if cell_len(joined) <= width:
            line = joined
            continue
        if line:
            out.append(line)
        line = word if cell_len(word) <= width else _cut(word, width)
        if len(out) == lines - 1 and i + 1 < len(words):
            # The last line: what remains is cut.
            rest = " ".join(words[i:])
            if cell_len(rest) <= width:
                out.append(rest)
                return out
            line = _cut(rest, width)
            # Cut at a space where possible, so that no word is shown in part.
            if " " in line[:-1]:
                line = line[:-1].rsplit(" ", 1)[0] + " …"
            out.append(line)
            return out
    if line or not out:
        out.append(line)
    return out


def _layout(columns: Sequence[str], cells: list[list[str]], width: int) -> dict[int, int]:
    """Which columns fit `width`, and how wide: {index: width}. Other columns take their widest
    value (at most MAX_FIXED), text columns share what is left. While the text would get less
    than MIN_TEXT, columns are left out: further text columns first, then the last ones; the
    first text column stays."""
    from rich.cells import cell_len

    natural = [max([cell_len(c), *(cell_len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    header = [cell_len(c) for c in columns]
    wrapping = [i for i, c in enumerate(columns) if c in WRAPPING]
    keep = list(range(len(columns)))
    fixed = {
        i: min(natural[i], max(header[i], MAX_FIXED)) if columns[i] in NAMES else natural[i]
        for i in keep
        if i not in wrapping
    }

    def room() -> int:
        return width - len(GAP) * (len(keep) - 1) - sum(fixed[i] for i in keep if i in fixed)

    def text_share() -> int:
        texts = [i for i in keep if i in wrapping]
        return room() // len(texts) if texts else room()

    def short() -> bool:
        texts = [i for i in keep if i in wrapping]
        if not texts:
            return room() < 0
        return text_share() < min(MIN_TEXT, max(natural[i] for i in texts))

    while len(keep) > 1 and short():
        later_texts = [i for i in keep if i in wrapping][1:]
        droppable = later_texts or [i for i in keep if i not in wrapping[:1]]
        keep.remove(droppable[-1])
    widths = {i: fixed[i] for i in keep if i in fixed}
    texts = [i for i in keep if i in wrapping]
    # Shared fairly: a column that needs less than its share takes only what it needs.
    left = max(room(), 0)
    for n, i in enumerate(sorted(texts, key=lambda i: natural[i])):
        share = left // (len(texts) - n)
        widths[i] = max(header[i], min(natural[i], share))
        left -= widths[i]
    return widths


def _escape(value: str) -> str:
    """One tab-separated field: backslashes, tabs and line breaks written as escapes."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def print_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    title: str | None = None,
    *,
    more: str | None = None,
) -> None:
    """Records for people. On a terminal: aligned columns that fit its width, no box drawing;
    long text wraps or is cut with `…` (`show`, `--format` and exports keep it whole). Piped:
    one tab-separated line a record, unpadded, with escaped tabs and line breaks (as `gh`).
    `more` is a last line saying what was left out."""
    if not sys.stdout.isatty():
        if title:
            typer.echo(title)
        typer.echo("\t".join(columns))
        for row in rows:
            typer.echo("\t".join(_escape(_plain(row.get(c))) for c in columns))
        if more:
            say(more)
        return
    from rich.cells import cell_len

    width = terminal_width()
    cells = [[" ".join(_plain(row.get(c)).split()) for c in columns] for row in rows]
    widths = _layout(columns, cells, width)
    kept = sorted(widths)
    if len(kept) < len(columns):
        left_out = [c for i, c in enumerate(columns) if i not in widths]
        import textwrap

        note = f"note: {', '.join(left_out)} left out to fit {width} columns (--columns chooses)"
        for part in textwrap.wrap(note, width):
            say(part)
        columns = [columns[i] for i in kept]
        cells = [[r[i] for i in kept] for r in cells]
    sizes = [widths[i] for i in kept]

    def line(parts: Sequence[str]) -> str:
        padded = [p + " " * (w - cell_len(p)) for p, w in zip(parts, sizes, strict=True)]
        return GAP.join(padded).rstrip()

    if title:
        typer.echo(title)
    head = line(list(columns))
    typer.echo(typer.style(head, bold=True) if color() else head)
    for r in cells:
        stacked = [
            _wrap(v, w) if c in WRAPPING else [_cut(v, w)]
            for c, v, w in zip(columns, r, sizes, strict=True)
        ]
        for n in range(max(len(s) for s in stacked)):
            typer.echo(line([s[n] if n < len(s) else "" for s in stacked]))
    if more:
        typer.echo(more)


def emit_rows(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    fmt: Format,
    *,
    title: str | None = None,
) -> int:
    """Print records in the chosen format; returns how many."""
    from tracker.services import export

    out = sys.stdout
    if fmt is Format.csv:
        return export.write_csv(rows, out, columns, safe=False)
    if fmt is Format.jsonl:
        return export.write_jsonl(rows, out)
    if fmt is Format.json:
        return export.write_json(rows, out)
    rows = list(rows)
    print_table(rows, columns, title)
    return len(rows)


DEFAULT_LIMIT = 50

ColumnsOption = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="A,B,C",
        help="Only these columns, in this order (the field names of --format json).",
    ),
]
SortOption = Annotated[
    str | None,
    typer.Option(
        "--sort", metavar="FIELD", help="Order by FIELD (-FIELD: descending); empty values last."
    ),
]
LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        metavar="N",
        help=f"At most N records (on a terminal {DEFAULT_LIMIT} unless --all).",
    ),
]
AllOption = Annotated[bool, typer.Option("--all", help="Every record, even on a terminal.")]


def list_limit(fmt: Format, limit: int | None, every: bool) -> int | None:
    """How many records a list shows: --limit N, all with --all or off a terminal, else
    DEFAULT_LIMIT (a table on a terminal is for reading, not for 300,000 rows)."""
    from tracker.errors import UsageError

    if limit is not None and every:
        raise UsageError("give --limit or --all, not both")
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, not {limit}")
    if limit is not None:
        return limit
    if every or fmt is not Format.table or not sys.stdout.isatty():
        return None
    return DEFAULT_LIMIT


def more_line(left: int, *, at_least: bool = False) -> str:
    return f"… {'over ' if at_least else ''}{left:,} more: --limit N or --all"


def emit_list(
    rows: Iterable[dict[str, Any]],
    fmt: Format,
    *,
    default: Sequence[str],
    available: Sequence[str],
    columns: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
    total: int | None = None,
) -> int:
    """Print a list of records: `columns` chosen (else `default`), sorted by `sort`, at most
    `limit` of them, with a last line saying how many were left out. `total` is how many
    records there are when `rows` already stops at `limit` (else `rows` are counted)."""
    from itertools import islice

    from tracker.services.listing import columns as choose
    from tracker.services.listing import sort_rows

    chosen = choose(columns, default, available)
    if sort is not None:
        rows = sort_rows(rows, sort, available)
    iterator = iter(rows)
    shown = list(islice(iterator, limit)) if limit is not None else list(iterator)
    if total is None:
        total = len(shown) + sum(1 for _ in iterator)
    left = total - len(shown)
    if fmt is not Format.table and columns is not None:
        shown = [{c: row.get(c) for c in chosen} for row in shown]
    if fmt is Format.table:
        print_table(shown, chosen, more=more_line(left) if left > 0 else None)
    else:
        # Programs chose their limit: the data alone, no note.
        emit_rows(shown, chosen, fmt)
    return len(shown)


def emit_record(record: dict[str, Any], fmt: Format, text: Iterable[str] | None = None) -> None:
    """Print one record: as JSON for programs, else as readable lines (`text`, or key: value)."""
    import json

    if fmt in (Format.json, Format.jsonl):
        indent = 2 if fmt is Format.json else None
        typer.echo(json.dumps(record, ensure_ascii=False, indent=indent))
        return
    if fmt is Format.csv:
        emit_rows([record], list(record), fmt)
        return
    lines = text if text is not None else (f"{k}: {_plain(v)}" for k, v in record.items())
    for line in lines:
        typer.echo(line)


def heading(title: str) -> str:
    return typer.style(title, bold=True) if color() else title


class progress:
    """A progress bar on stderr (rows, rate, time left) while a long command runs, when stderr is
    a terminal; nothing when it is not (a pipe, a log, a cron mail). Entering gives a
    `tick(rows, done=None)` to call as work is done: `done` counts in the unit of `total` (bytes
    of a file, say), rows when not given; with no total, the bar pulses."""

    def __init__(self, total: int | None, label: str = "", *, rows: bool = True) -> None:
        self.total = total
        self.label = label
        self.rows = rows  # False: work not counted in rows (one long statement), just a bar
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            return lambda rows, done=None: None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        counts = (
            [TextColumn("{task.fields[rows]:>12,} rows")],
            [TextColumn("{task.fields[rate]:>8,.0f} rows/s"), TimeRemainingColumn()],
        )
        self.bar = Progress(
            TextColumn(self.label),
            *(counts[0] if self.rows else []),
            BarColumn(),
            *(counts[1] if self.rows else []),
            console=Console(stderr=True),
            transient=True,
        )
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total, rows=0, rate=0.0)

        def tick(rows: int, done: int | None = None) -> None:
            elapsed = self.bar.tasks[0].elapsed or 1e-9
            completed = rows if done is None else done
            self.bar.update(task, completed=completed, rows=rows, rate=rows / elapsed)

        return tick

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def counted(
    rows: Iterable[dict[str, Any]], tick: Any, every: int = 1000
) -> Iterator[dict[str, Any]]:
    """`rows` as they are, calling tick(n) every `every` rows and at the end."""
    n = 0
    for n, row in enumerate(rows, 1):
        if n % every == 0:
            tick(n)
        yield row
    tick(n)
