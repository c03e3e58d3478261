"""Excel workbooks (XLSX): the claim report out, the flat claim format in.

Writing goes through XlsxWriter in constant-memory mode: each row is flushed to disk as it is
written, so a report of any length needs the memory of one row. Every text value is written as
a string cell, never guessed at: a verdict `true` stays the text "true", `2013-02` stays text,
and a value starting with `=` is a string a spreadsheet shows as typed and never runs (so,
unlike CSV, no apostrophe guard is needed).

Reading goes through openpyxl in read-only mode (rows streamed, XML parsed by defusedxml when
installed, which it is: a dependency). The workbook is untrusted: its zip directory is checked
for bombs before any XML is parsed, and a formula cell is read as its text, never evaluated.
Cells come back as they display: a date as `YYYY-MM-DD`, a whole number without `.0`.
"""

import datetime as dt
import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from tracker.errors import TrackerError
from tracker.services.flat import FileError, Reader
from tracker.text import join_list

# Excel's own limits (specifications and limits of Excel 2007 and later).
MAX_ROWS = 1_048_576
MAX_CELL = 32_767
# Column widths in characters; long text wraps within them.
WIDTHS = {
    "id": 7,
    "text": 60,
    "quote": 50,
    "note": 40,
    "sources": 40,
    "source": 40,
    "first_source_url": 30,
    "source_url": 30,
    "claimant": 20,
    "claimant_as": 18,
    "about": 24,
    "about_as": 24,
    "tags": 18,
    "uid": 37,
    "created_at": 26,
    "updated_at": 26,
}
WRAPPED = frozenset({"text", "quote", "note", "sources", "source", "about", "about_as"})
DEFAULT_WIDTH = 14

# A zip whose members inflate beyond these is refused before parsing (a zip bomb): a real
# workbook compresses its XML by about 5-20x.
MAX_UNPACKED = 2 * 1024**3
MAX_RATIO = 200
RATIO_FLOOR = 10 * 1024**2  # small members may compress by any ratio


class SheetLimit(TrackerError):
    """The report does not fit a worksheet (too many rows, a cell too long): nothing written."""


def _cell_text(value: Any) -> str | None:
    kind = value.__class__
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return None
    if kind is list:
        if value and value[0].__class__ in (dict, list):
            return json.dumps(value, ensure_ascii=False)
        return join_list(map(str, value)) if value else None
    if kind is dict:
        return json.dumps(value, ensure_ascii=False)
    if kind is bool:
        return "true" if value else "false"
    return str(value)


def write_xlsx(
    rows: Iterable[dict[str, Any]], path: str | Path, columns: Sequence[str], *, sheet: str
) -> int:
    """Write `rows` to a new workbook at `path`; the number of rows written.

    Raises SheetLimit (leaving a partial file the caller discards) when a row would fall past
    Excel's last row or a cell exceeds its 32,767 characters: a truncated report would pass for
    a complete one.
    """
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            # Never guess: text stays text, whatever it looks like.
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    try:
        ws = book.add_worksheet(sheet)
        header = book.add_format({"bold": True, "bottom": 1})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        top = book.add_format({"valign": "top"})
        formats = [wrap if c in WRAPPED else top for c in columns]
        for i, column in enumerate(columns):
            ws.set_column(i, i, WIDTHS.get(column, DEFAULT_WIDTH), formats[i])
        for i, column in enumerate(columns):
            ws.write_string(0, i, column, header)
        ws.freeze_panes(1, 0)
        n = 0
        in_order: bool | None = None
        for row in rows:
            if n + 1 >= MAX_ROWS:
                raise SheetLimit(
                    f"the report has more than {MAX_ROWS - 1:,} rows, the most an Excel sheet "
                    "holds; narrow it with filters or export CSV"
                )
            n += 1
            if in_order is None:
                in_order = list(row) == list(columns)
            values = row.values() if in_order else [row.get(c) for c in columns]
            for i, value in enumerate(values):
                if value.__class__ is int:
                    ws.write_number(n, i, value, formats[i])
                    continue
                text = _cell_text(value)
                if text is None or text == "":
                    continue
                if len(text) > MAX_CELL:
                    raise SheetLimit(
                        f"row {n + 1}, column {columns[i]!r}: {len(text):,} characters, more "
                        f"than the {MAX_CELL:,} an Excel cell holds; export CSV instead"
                    )
                ws.write_string(n, i, text, formats[i])
        ws.autofilter(0, 0, max(n, 1), len(columns) - 1)
    except BaseException:
        book.fileclosed = True  # do not write a workbook that is incomplete
        raise
    book.close()
    return n


def _check_zip(stream: IO[bytes], name: str) -> None:
    if not zipfile.is_zipfile(stream):
        raise FileError(f"{name}: is not an XLSX workbook (not a zip file)")
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileError(f"{name}: is not a readable XLSX workbook ({exc})") from None
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > MAX_UNPACKED or (member.file_size > RATIO_FLOOR and ratio > MAX_RATIO):
            raise FileError(
                f"{name}: refused: {member.filename[:100]!r} inflates to "
                f"{member.file_size:,} bytes ({ratio:,.0f}x); a workbook this packed is a zip bomb"
            )
    stream.seek(0)


def _root_reason(exc: BaseException) -> str:
    """The first cause of an exception, on one short line: openpyxl wraps the XML parser's
    error (an entity defusedxml forbids, say) in a generic message."""
    seen = 0
    while (exc.__cause__ or exc.__context__) is not None and seen < 10:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def displayed(value: Any) -> str | None:
    """A cell's value as a spreadsheet shows it, as text (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


class XlsxReader(Reader):
    """The flat format from one worksheet: the same (line, record) pairs as the CSV reader, the
    line being the sheet's row number, so `import_flat` and its checks apply unchanged."""

    def __init__(
        self, stream: IO[bytes], name: str, *, sheet: str | None = None, ignore_extra: bool = False
    ) -> None:
        super().__init__(stream, name, "xlsx", ignore_extra=ignore_extra)
        self.sheet = sheet

    def _worksheet(self) -> Any:
        import openpyxl

        _check_zip(self.stream, self.name)
        try:
            book = openpyxl.load_workbook(
                self.stream, read_only=True, data_only=False, keep_links=False
            )
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            reason = _root_reason(exc)
            raise FileError(f"{self.name}: is not a readable XLSX workbook ({reason})") from None
        names = book.sheetnames
        if self.sheet is None:
            if not names:
                raise FileError(f"{self.name}: the workbook has no sheets")
            return book, book[names[0]]
        if self.sheet not in names:
            listed = ", ".join(map(repr, names[:20]))
            raise FileError(f"{self.name}: no sheet {self.sheet!r}; the workbook has {listed}")
        return book, book[self.sheet]

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        book, ws = self._worksheet()
        size = self.stream.seek(0, 2)
        try:
            total = ws.max_row or 0
        except Exception:
            total = 0
        try:
            for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                self.line = number
                if total:
                    self.bytes_read = min(size, size * number // total)
                values = [displayed(v) for v in cells]
                if not self.header:
                    while values and values[-1] in (None, ""):
                        values.pop()
                    self._check_header([v or "" for v in values])
                    continue
                if not any(v and v.strip() for v in values):
                    continue  # a blank row
                width = len(self.header)
                if any(v not in (None, "") for v in values[width:]):
                    last = max(i for i, v in enumerate(values) if v not in (None, "")) + 1
                    yield number, {"__error__": f"has {last} fields; the header has {width}"}
                    continue
                values += [None] * (width - len(values))
                yield number, {h: v or "" for h, v in zip(self.header, values[:width], strict=True)}
        except FileError:
            raise
        except Exception as exc:  # broken XML inside the zip, an entity defusedxml refused ...
            raise self.fail(f"cannot be read as a workbook ({_root_reason(exc)})") from None
        finally:
            book.close()
        if not self.header:
            raise self.fail("is empty")
        self.bytes_read = size
