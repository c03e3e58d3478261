"""A whole database as a folder of JSON Lines files, and back.

`export all DIR` writes one `<table>.jsonl` per table (every column, ids and uids included, in
primary-key order) and a `manifest.json` naming the format, schema revision, row counts and the
next id of each counter. `import all DIR` loads such a folder into an empty database with the
same ids, so a restore gives the same dump back; it is also how a database moves between SQLite
and PostgreSQL.
"""

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection

from tracker.db import HEAD_REVISION, stored_revision
from tracker.errors import Conflict, InvalidInput, StorageError
from tracker.models import Base, Claim, UTCDateTime

FORMAT = "claim-tracker-dump"
VERSION = 1
BATCH = 5000


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _encode(table: Table, row: Any) -> dict[str, Any]:
    out = {}
    for column, value in zip(table.columns, row, strict=True):
        out[column.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _decode(table: Table, record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        value = record.get(column.name)
        if value is not None and isinstance(column.type, UTCDateTime):
            value = datetime.fromisoformat(value)
        out[column.name] = value
    return out


def _next_ids(conn: Connection) -> dict[str, int]:
    """The next claim id, deleted claims counted: a restore must never hand an id out again."""
    highest = conn.execute(select(func.max(Claim.id))).scalar() or 0
    if conn.dialect.name == "sqlite":
        seq = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'claim'").scalar()
        highest = max(highest, seq or 0)
    else:
        seq = conn.exec_driver_sql("SELECT last_value, is_called FROM claim_id_seq").first()
        if seq is not None and seq[1]:
            highest = max(highest, seq[0])
    return {"claim": highest + 1}


def export_all(
    conn: Connection, folder: Path, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    folder = folder.expanduser()
    if folder.exists() and any(folder.iterdir()):
        raise InvalidInput(f"{str(folder)!r} is not empty; choose a new or empty folder")
    if not folder.parent.is_dir():
        raise StorageError(
            f"cannot write {str(folder)!r}: folder {str(folder.parent)!r} does not exist"
        )
    folder.mkdir(exist_ok=True)
    counts: dict[str, int] = {}
    for table in _tables():
        n = 0
        partial = folder / f".{table.name}.jsonl.partial"
        with open(partial, "w", encoding="utf-8", newline="\n") as out:
            result = conn.execution_options(yield_per=BATCH).execute(
                select(table).order_by(*table.primary_key.columns)
            )
            for row in result:
                out.write(
                    json.dumps(_encode(table, row), ensure_ascii=False, sort_keys=True) + "\n"
                )
                n += 1
                if progress is not None and n % BATCH == 0:
                    progress(sum(counts.values()) + n)
        partial.replace(folder / f"{table.name}.jsonl")
        counts[table.name] = n
        if progress is not None:
            progress(sum(counts.values()))
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "schema_revision": stored_revision(conn),
        "tables": counts,
        "next_ids": _next_ids(conn),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return counts


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder.expanduser() / "manifest.json"
    if not path.is_file():
        raise InvalidInput(f"{str(folder)!r} holds no manifest.json: not a tracker dump")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{path}: not a tracker dump manifest")
    if manifest.get("version") != VERSION:
        raise InvalidInput(
            f"{path}: dump format version {manifest.get('version')} is not supported"
        )
    if manifest.get("schema_revision") != HEAD_REVISION:
        raise InvalidInput(
            f"{path}: the dump is of schema {manifest.get('schema_revision')}, this tracker "
            f"writes {HEAD_REVISION}; restore it with the matching version, upgrade, and dump again"
        )
    return manifest


def import_all(
    conn: Connection, folder: Path, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Load a dump into an empty database, keeping every id; all or nothing."""
    manifest = _read_manifest(folder)
    for table in _tables():
        if conn.execute(select(table).limit(1)).first() is not None:
            raise Conflict(
                f"the database already holds {table.name} rows; restore into an empty database"
            )
    counts: dict[str, int] = {}
    for table in _tables():
        path = folder.expanduser() / f"{table.name}.jsonl"
        if not path.is_file():
            raise InvalidInput(f"{str(folder)!r} lacks {table.name}.jsonl")
        batch: list[dict[str, Any]] = []
        n = 0
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                try:
                    batch.append(_decode(table, json.loads(line)))
                except (json.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
                    raise InvalidInput(f"{path}, line {number}: {exc}") from None
                if len(batch) >= BATCH:
                    conn.execute(insert(table), batch)
                    n += len(batch)
                    batch = []
                    if progress is not None:
                        progress(sum(counts.values()) + n)
        if batch:
            conn.execute(insert(table), batch)
            n += len(batch)
        expected = manifest.get("tables", {}).get(table.name)
        if expected is not None and expected != n:
            raise InvalidInput(f"{path} holds {n} rows; the manifest says {expected}")
        counts[table.name] = n
    _restore_counters(conn, manifest.get("next_ids", {}))
    return counts


def _restore_counters(conn: Connection, next_ids: dict[str, int]) -> None:
    """Explicit ids leave counters behind; move each past the highest id it must not repeat."""
    if conn.dialect.name == "sqlite":
        claim_next = int(next_ids.get("claim", 1))
        conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'claim'")
        conn.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('claim', ?)", (claim_next - 1,)
        )
        return
    for table in _tables():
        if "id" not in table.columns or not table.c.id.primary_key:
            continue
        floor = int(next_ids.get(table.name, 1)) - 1
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table.name}), :floor, 1), "
                f"(SELECT COALESCE(MAX(id), 0) FROM {table.name}) > 0 OR :floor > 0)"
            ),
            {"floor": floor},
        )
