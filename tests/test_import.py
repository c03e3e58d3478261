"""Bulk import of the flat format, flat export round trips, and whole-database dump/restore."""

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import MANDIANT_CLAIM, Run, dump
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.db import open_database
from tracker.services.flat import COLUMNS

# The columns every flat file had before `claimant_as` (still read without it).
# The original fourteen columns; those added since (claimant_as, the attribution ones) are
# optional and tested where they are introduced.
HEADER = ",".join(COLUMNS[: COLUMNS.index("claimant_as")])


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def counts(cli: Run) -> dict[str, int]:
    return json.loads(cli("db", "status", "-f", "json").stdout)


def test_flat_round_trip_of_the_seed_is_byte_identical(cli, seeded, tmp_path, monkeypatch) -> None:
    cli("claim", "rate", str(seeded["denial"]), "unverifiable")
    first = tmp_path / "first.csv"
    cli("export", "claims", "--flat", "-o", str(first))
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "empty.db"))
    result = cli("import", "claims", str(first))
    assert "3 claims created" in result.stderr and "4 appearances added" in result.stderr
    second = tmp_path / "second.csv"
    cli("export", "claims", "--flat", "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
    shown = json.loads(cli("claim", "show", "1", "-f", "json").stdout)
    assert shown["text"] == MANDIANT_CLAIM
    assert [s["first"] for s in shown["sources"]] == [True, False]
    assert json.loads(cli("claim", "show", "3", "-f", "json").stdout)["verdict"] == "unverifiable"


def test_reimport_changes_nothing(cli, seeded, tmp_path, db_url) -> None:
    flat = tmp_path / "flat.csv"
    cli("export", "claims", "--flat", "-o", str(flat))
    before = dump(open_database(db_url))
    result = cli("import", "claims", str(flat))
    assert "0 claims created, 0 updated, 0 appearances added" in result.stderr
    assert dump(open_database(db_url)) == before


def test_rows_of_one_claim_become_appearances(cli, tmp_path) -> None:
    path = write(
        tmp_path / "sheet.csv",
        f"""{HEADER}
PLA hacked 141 firms,Mandiant,,2013-02,APT1;PLA Unit 61398,cyber,,,2,APT1 report,,Mandiant,2013-02-19,report
pla  HACKED 141 firms,mandiant,,,,espionage,,,,Globe article,https://example.com/globe,The Globe,2013-03,article
The state is not behind it,China,,2013,PLA Unit 61398,,false,,,Globe article,https://example.com/globe,,,article
""",
    )
    result = cli("import", "claims", str(path))
    assert "3 rows: 2 claims created" in result.stderr
    assert "3 appearances added" in result.stderr
    first = json.loads(cli("claim", "show", "1", "-f", "json").stdout)
    assert [s["title"] for s in first["sources"]] == ["APT1 report", "Globe article"]
    assert {a["name"] for a in first["about"]} == {"APT1", "PLA Unit 61398"}
    assert first["tags"] == ["cyber", "espionage"]
    assert first["credibility"] == 2
    second = json.loads(cli("claim", "show", "2", "-f", "json").stdout)
    assert second["verdict"] == "false" and second["status"] == "reviewed"
    assert [a["name"] for a in second["about"]] == ["PLA Unit 61398"]
    assert cli("search", "hacked", "-f", "jsonl").stdout.count("\n") == 1
    assert cli("db", "check").stdout.strip() == "ok"


def test_bad_rows_import_nothing_and_are_listed(cli, seeded, tmp_path, db_url) -> None:
    rows = [HEADER, "Fine claim,Mandiant,,2013,,,,,,,,,,"]
    rows += [f"Bad {i},Mandiant,,2013-13-0{i % 9 + 1},,,,,,,,,," for i in range(25)]
    rows += ["Bad url,Mandiant,,,,,,,,,javascript:alert(1),,,"]
    path = write(tmp_path / "bad.csv", "\n".join(rows) + "\n")
    before = dump(open_database(db_url))
    result = cli("import", "claims", str(path), ok=False)
    assert result.exit_code == 65
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert message.startswith(
        f"Error: {path}: 26 rows are invalid, nothing imported: line 3, column 'stated'"
    )
    assert "there is no month 13" in message
    assert message.endswith("and 6 more")
    assert dump(open_database(db_url)) == before


def test_skip_invalid_writes_the_rejects(cli, tmp_path) -> None:
    path = write(
        tmp_path / "mixed.csv",
        f"""{HEADER}
Good one,Mandiant,,,,,,,,,,,,
,Mandiant,,,,,,,,,,,,
Another,Mandiant,,,,,,,7,,,,,
""",
    )
    rejects = tmp_path / "rejects.csv"
    result = cli("import", "claims", str(path), "--skip-invalid", str(rejects))
    assert "1 claims created" in result.stderr and "2 rows skipped" in result.stderr
    rows = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"))))
    assert [r["line"] for r in rows] == ["3", "4"]
    assert rows[0]["reason"] == "text is empty"
    assert "credibility" in rows[1]["reason"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"claimant,quote\nMandiant,x\n", "lacks the required column 'text'"),
        (b"text,claimant,colour\na,b,c\n", "unknown column 'colour'"),
        (
            b'text,claimant\n"unterminated,Mandiant\n',
            "line 2: a quoted field opened on line 2 is never closed",
        ),
        (b"text,claimant\nab\x00c,Mandiant\n", "line 2: contains a NUL byte"),
        (b"text,claimant\ncaf\xe9,Mandiant\n", "line 2: is not valid UTF-8"),
        (b"text,claimant\n" + b"x" * 1_000_001 + b",Mandiant\n", "field larger than field limit"),
    ],
    ids=["empty", "no-text", "extra", "quote", "nul", "utf8", "huge"],
)
def test_malformed_files_change_nothing(cli, seeded, tmp_path, db_url, content, expected) -> None:
    path = write(tmp_path / "broken.csv", content)
    before = dump(open_database(db_url))
    result = cli("import", "claims", str(path), ok=False)
    assert result.exit_code == 65, result.stderr
    assert expected in result.stderr
    assert result.stderr.startswith(f"Error: {path}")
    assert dump(open_database(db_url)) == before


def test_wrong_column_count_is_a_bad_row(cli, tmp_path) -> None:
    path = write(tmp_path / "short.csv", "text,claimant,quote\nonly,two\n")
    result = cli("import", "claims", str(path), ok=False)
    assert "line 2: has 2 fields; the header has 3" in result.stderr


def test_ignore_extra_and_bom(cli, tmp_path) -> None:
    path = write(tmp_path / "extra.csv", "\ufefftext,claimant,colour\nA claim,Mandiant,blue\n")
    cli("import", "claims", str(path), "--ignore-extra")
    assert counts(cli)["claims"] == 1


def test_jsonl_and_stdin(cli, tmp_path) -> None:
    lines = [
        {"text": "One", "claimant": "Mandiant", "about": ["APT1", "China"], "tags": "a; b"},
        {"text": "Two", "claimant": "China", "credibility": 3, "source": "Statement"},
    ]
    data = "\n".join(json.dumps(line) for line in lines) + "\n"
    result = cli("import", "claims", "-", "--format", "jsonl", input=data)
    assert "2 claims created" in result.stderr
    one = json.loads(cli("claim", "show", "1", "-f", "json").stdout)
    assert {a["name"] for a in one["about"]} == {"APT1", "China"} and one["tags"] == ["a", "b"]
    path = write(tmp_path / "more.jsonl", json.dumps({"text": "Three", "claimant": "X"}) + "\n")
    cli("import", "claims", str(path))  # format from the extension
    assert counts(cli)["claims"] == 3


def test_a_new_claim_takes_the_verdict_of_its_first_rated_row(cli, tmp_path) -> None:
    path = write(
        tmp_path / "rated.csv",
        f"""{HEADER}
Rated late,X,,,,,,,,S1,,,,
rated  LATE,x,,,,,false,,,S2,,,,
Rated late,X,,,,,true,,,S3,,,,
Never rated,X,,,,,,,,S1,,,,
""",
    )
    cli("import", "claims", str(path))
    late = json.loads(cli("claim", "show", "1", "-f", "json").stdout)
    assert (late["verdict"], late["status"]) == ("false", "reviewed")
    assert [v["verdict"] for v in late["verdicts"]] == ["false"]
    assert [h["action"] for h in late["history"]] == ["created"]
    never = json.loads(cli("claim", "show", "2", "-f", "json").stdout)
    assert (never["verdict"], never["status"], never["verdicts"]) == (None, "unreviewed", [])
    assert cli("db", "check").stdout.strip() == "ok"


def test_import_adds_to_existing_claims_and_history(cli, seeded, tmp_path) -> None:
    path = write(
        tmp_path / "more.csv",
        f"""{HEADER}
"{MANDIANT_CLAIM}",Mandiant,,,China,new-tag,mixed,,,Reuters wire,https://example.com/reuters,Reuters,2013-02-20,article
""",
    )
    result = cli("import", "claims", str(path))
    assert "0 claims created, 1 updated, 1 appearances added" in result.stderr
    shown = json.loads(cli("claim", "show", str(seeded["mandiant"]), "-f", "json").stdout)
    assert [s["title"] for s in shown["sources"]][-1] == "Reuters wire"
    assert shown["verdict"] == "mixed"
    assert "new-tag" in shown["tags"]
    assert shown["history"][-1]["action"] == "edited"
    assert shown["history"][-1]["changes"]["via"] == "import"


def test_import_leaves_a_table_of_its_scratch_names_alone(cli, tmp_path, db_url) -> None:
    from sqlalchemy import text

    engine = open_database(db_url).engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE import_row (kept TEXT)"))
        conn.execute(text("INSERT INTO import_row VALUES ('mine')"))
    path = write(tmp_path / "one.csv", f"{HEADER}\nA claim,Mandiant,,,,,,,,,,,,\n")
    assert "1 claims created" in cli("import", "claims", str(path)).stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kept FROM import_row")).scalars().all() == ["mine"]
        conn.execute(text("DROP TABLE import_row"))
        conn.commit()
    engine.dispose()


def test_dump_and_restore_gives_the_same_dump(cli, seeded, tmp_path, monkeypatch) -> None:
    cli("claim", "rate", str(seeded["denial"]), "false", "--note", "why")
    cli("claim", "delete", str(seeded["donilon"]), "--yes")
    first = tmp_path / "first"
    cli("export", "all", str(first))
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["tables"]["claim"] == 2 and manifest["next_ids"]["claim"] == 4
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "restored.db"))
    cli("import", "all", str(first))
    second = tmp_path / "second"
    cli("export", "all", str(second))
    for path in sorted(first.iterdir()):
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name
    assert int(cli("claim", "add", "After restore", "--by", "China").stdout) == 4
    assert "deleted" in cli("claim", "history", str(seeded["donilon"])).stdout
    assert cli("db", "check").stdout.strip() == "ok"
    again = cli("import", "all", str(first), ok=False)
    assert again.exit_code == 1 and "empty database" in again.stderr


# Awkward but valid values: any printable Unicode, quotes, commas, newlines inside fields.
_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=";")
    | st.sampled_from(['"', ",", "\n", "'", "=", "-", " ", "é", "\u200b"]),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() and any(c.isalnum() for c in s))
_date = st.one_of(
    st.none(),
    st.integers(1900, 2030).map(str),
    st.tuples(st.integers(1900, 2030), st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}"),
    st.dates().filter(lambda d: 1000 <= d.year <= 2999).map(lambda d: d.isoformat()),
)
_claim = st.fixed_dictionaries(
    {
        "text": _text,
        "claimant": st.sampled_from(["Mandiant", "China", "Société Générale", "Ünit 61398"]),
        "quote": st.one_of(st.none(), _text),
        "stated": _date,
        "sources": st.lists(
            st.sampled_from(["Report A", "Article, B", 'The "C" wire']), max_size=3, unique=True
        ),
    }
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.slow
@given(claims=st.lists(_claim, min_size=1, max_size=6))
def test_generated_round_trips(tmp_path_factory, monkeypatch, claims) -> None:
    folder = tmp_path_factory.mktemp("rt")
    rows = []
    for claim in claims:
        for source in claim["sources"] or [None]:
            rows.append(
                {
                    "text": claim["text"],
                    "claimant": claim["claimant"],
                    "quote": claim["quote"],
                    "stated": claim["stated"],
                    "source": source,
                }
            )
    original = folder / "original.jsonl"
    original.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cli = Run()
    monkeypatch.setenv("TRACKER_DB", str(folder / "a.db"))
    cli("import", "claims", str(original))
    cli("export", "claims", "--flat", "-o", str(folder / "a.csv"))
    monkeypatch.setenv("TRACKER_DB", str(folder / "b.db"))
    cli("import", "claims", str(folder / "a.csv"))
    cli("export", "claims", "--flat", "-o", str(folder / "b.csv"))
    assert (folder / "a.csv").read_bytes() == (folder / "b.csv").read_bytes()
    exported = list(csv.DictReader(io.StringIO((folder / "a.csv").read_text(encoding="utf-8"))))
    assert {r["stated"] for r in exported} <= {c["stated"] or "" for c in claims}
