"""Spreadsheets: the claim report written by XlsxWriter and read back by openpyxl, workbooks
written by openpyxl imported as the flat format, and hostile workbooks refused in one line."""

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from helpers import MANDIANT_CLAIM, dump

from tracker.services import xlsx
from tracker.services.claim_report import COLUMNS as REPORT_COLUMNS
from tracker.services.flat import COLUMNS as FLAT_COLUMNS


def sheet(path: Path, rows: list[list[object]], title: str = "Sheet1") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = title
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def test_report_cells_keep_their_text_and_types(cli, seeded, tmp_path) -> None:
    cli("claim", "add", '=HYPERLINK("http://x")', "--by", "Mandiant", "--date", "2013-02")
    cli("claim", "add", "2013-02-19", "--by", "China", "--date", "2013-02-19", "--tag", "1e5")
    cli("claim", "rate", "4", "true")
    out = tmp_path / "report.xlsx"  # format from the extension
    result = cli("export", "claims", "-o", str(out))
    assert "exported 5 claims" in result.stderr
    book = openpyxl.load_workbook(out)
    ws = book.active
    assert ws.title == "report"
    assert [c.value for c in ws[1]] == REPORT_COLUMNS
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:T{ws.max_row}"
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    col = {name: i for i, name in enumerate(REPORT_COLUMNS)}
    first = rows[1]
    assert first[col["id"]].data_type == "n" and first[col["id"]].value == 1
    assert first[col["text"]].value == MANDIANT_CLAIM
    assert first[col["text"]].alignment.wrap_text
    formula = rows[4]
    assert formula[col["text"]].data_type == "s"  # shown as typed, never a formula
    assert formula[col["text"]].value == '=HYPERLINK("http://x")'
    assert formula[col["verdict"]].value == "true" and formula[col["verdict"]].data_type == "s"
    assert formula[col["stated"]].value == "2013-02" and formula[col["stated"]].data_type == "s"
    day = rows[5]
    assert day[col["text"]].value == "2013-02-19" and day[col["text"]].data_type == "s"
    assert day[col["tags"]].value == "1e5" and day[col["tags"]].data_type == "s"
    assert ws.column_dimensions["B"].width > 50  # text is readable, not a sliver
    with zipfile.ZipFile(out) as archive:  # no formula element anywhere in the sheet
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")


def test_flat_xlsx_round_trip_matches_csv(cli, seeded, tmp_path, monkeypatch) -> None:
    cli("claim", "rate", str(seeded["denial"]), "unverifiable", "--note", "none either way")
    book = tmp_path / "flat.xlsx"
    cli("export", "claims", "--flat", "-o", str(book))
    first_csv = tmp_path / "first.csv"
    cli("export", "claims", "--flat", "-o", str(first_csv))
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "other.db"))
    result = cli("import", "claims", str(book))
    assert "3 claims created" in result.stderr and "4 appearances added" in result.stderr
    second_csv = tmp_path / "second.csv"
    cli("export", "claims", "--flat", "-o", str(second_csv))
    assert first_csv.read_bytes() == second_csv.read_bytes()
    again = cli("import", "claims", str(book))
    assert "0 claims created, 0 updated, 0 appearances added" in again.stderr


def test_import_reads_cells_as_displayed(cli, tmp_path) -> None:
    path = sheet(
        tmp_path / "typed.xlsx",
        [
            ["text", "claimant", "stated", "credibility", "verdict", "source", "source_date"],
            [
                "A dated claim",
                "Mandiant",
                dt.datetime(2013, 2, 19),
                2,
                True,
                "=SUM(1,2)",
                dt.date(2013, 3, 1),
            ],
        ],
    )
    cli("import", "claims", str(path))
    shown = cli("claim", "show", "1", "-f", "json").stdout
    import json

    claim = json.loads(shown)
    assert claim["stated"] == "2013-02-19"
    assert claim["credibility"] == 2
    assert claim["verdict"] == "true"
    assert [s["title"] for s in claim["sources"]] == ["=SUM(1,2)"]  # the formula's text, not 3
    assert claim["sources"][0]["published"] == "2013-03-01"


def test_bad_rows_are_named_by_sheet_row_and_nothing_is_imported(cli, tmp_path, db_url) -> None:
    path = sheet(
        tmp_path / "bad.xlsx",
        [
            ["text", "claimant", "stated"],
            ["Good", "Mandiant", "2013"],
            [None, None, None],
            ["Bad date", "Mandiant", "2013-13"],
            ["Too wide", "Mandiant", "2013", "extra"],
        ],
    )
    before = dump(db_url)
    result = cli("import", "claims", str(path), ok=False)
    assert result.exit_code == 65
    assert "line 4, column 'stated'" in result.stderr
    assert "line 5: has 4 fields; the header has 3" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert dump(db_url) == before


def test_sheet_option_chooses_the_worksheet(cli, tmp_path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["nothing", "here"])
    claims = book.create_sheet("claims")
    claims.append(["text", "claimant"])
    claims.append(["From the second sheet", "Mandiant"])
    path = tmp_path / "two.xlsx"
    book.save(path)
    wrong = cli("import", "claims", str(path), ok=False)
    assert wrong.exit_code == 65 and "lacks the required column 'text'" in wrong.stderr
    missing = cli("import", "claims", str(path), "--sheet", "nope", ok=False)
    assert missing.exit_code == 65
    assert "no sheet 'nope'; the workbook has 'notes', 'claims'" in missing.stderr
    cli("import", "claims", str(path), "--sheet", "claims")
    assert "From the second sheet" in cli("claim", "list", "-f", "csv").stdout
    csv_file = tmp_path / "x.csv"
    csv_file.write_text("text,claimant\nA,B\n")
    usage = cli("import", "claims", str(csv_file), "--sheet", "claims", ok=False)
    assert usage.exit_code == 2 and "XLSX" in usage.stderr


def test_too_many_rows_is_an_error_and_no_file(cli, seeded, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # the header and two claims fit; the third does not
    out = tmp_path / "report.xlsx"
    result = cli("export", "claims", "-o", str(out), ok=False)
    assert result.exit_code == 1
    assert "more than 2 rows, the most an Excel sheet holds" in result.stderr
    assert not out.exists() and list(tmp_path.glob("*.partial")) == []
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)
    cli("export", "claims", "-o", str(out))
    assert openpyxl.load_workbook(out).active.max_row == 4


def test_not_a_workbook_and_damaged_workbooks(cli, tmp_path, db_url) -> None:
    before = dump(db_url)
    text = tmp_path / "fake.xlsx"
    text.write_text("text,claimant\nA,B\n")
    result = cli("import", "claims", str(text), ok=False)
    assert result.exit_code == 65 and "is not an XLSX workbook" in result.stderr
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    result = cli("import", "claims", str(broken), ok=False)
    assert result.exit_code == 65 and "not a readable XLSX workbook" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert dump(db_url) == before


def _with_sheet_xml(source: Path, target: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info, data if info.filename == member else old.read(info.filename))


def test_entity_expansion_is_refused(cli, tmp_path, db_url) -> None:
    plain = sheet(tmp_path / "plain.xlsx", [["text", "claimant"], ["x", "y"]])
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    hostile = tmp_path / "lol.xlsx"
    _with_sheet_xml(plain, hostile, "xl/worksheets/sheet1.xml", bomb)
    before = dump(db_url)
    result = cli("import", "claims", str(hostile), ok=False)
    assert result.exit_code == 65
    assert "lol.xlsx" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "lollol" not in result.stderr
    assert "EntitiesForbidden" in result.stderr  # defusedxml refused it, not a later check
    assert dump(db_url) == before


def test_zip_bomb_is_refused_before_parsing(cli, tmp_path, db_url) -> None:
    plain = sheet(tmp_path / "plain.xlsx", [["text", "claimant"], ["x", "y"]])
    padded = plain.read_bytes()
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(plain) as old, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info.filename))
        new.writestr("xl/padding.xml", b" " * (64 * 1024**2))  # 64 MiB of spaces, ~64 KiB packed
    assert bomb.stat().st_size < len(padded) + 200_000
    before = dump(db_url)
    result = cli("import", "claims", str(bomb), ok=False)
    assert result.exit_code == 65 and "zip bomb" in result.stderr
    assert dump(db_url) == before


def test_xlsx_from_stdin(cli, tmp_path) -> None:
    path = sheet(tmp_path / "in.xlsx", [["text", "claimant"], ["Piped in", "Mandiant"]])
    from typer.testing import CliRunner

    from tracker.cli import app

    result = CliRunner().invoke(
        app, ["import", "claims", "-", "--format", "xlsx"], input=path.read_bytes()
    )
    assert result.exit_code == 0, result.stderr
    assert "Piped in" in cli("claim", "list", "-f", "csv").stdout


def test_export_xlsx_to_stdout_is_a_workbook(cli, seeded, tmp_path) -> None:
    from typer.testing import CliRunner

    from tracker.cli import app

    result = CliRunner().invoke(app, ["export", "claims", "--format", "xlsx"])
    assert result.exit_code == 0
    out = tmp_path / "piped.xlsx"
    out.write_bytes(result.stdout_bytes)
    assert openpyxl.load_workbook(out).active.max_row == 4


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1.5, "1.5"),
        (7.0, "7"),
        (dt.time(10, 30), "10:30:00"),
        (dt.datetime(2013, 2, 19, 8, 5), "2013-02-19T08:05:00"),
        (False, "false"),
        (None, None),
        ("=1+1", "=1+1"),
    ],
)
def test_displayed_values(value: object, shown: str | None) -> None:
    assert xlsx.displayed(value) == shown


def test_flat_columns_header_is_written_in_order(cli, seeded, tmp_path) -> None:
    out = tmp_path / "flat.xlsx"
    cli("export", "claims", "--flat", "--format", "xlsx", "-o", str(out))
    ws = openpyxl.load_workbook(out, read_only=True).active
    assert [c.value for c in next(ws.iter_rows(max_row=1))] == FLAT_COLUMNS
