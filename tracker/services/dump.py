"""A whole database as a folder of JSON Lines files, and back.

`export all DIR` writes one `<table>.jsonl` per table (every column, ids and uids included, in
primary-key order) and a `manifest.json` naming the format, schema revision, row counts and the
next id of each counter. `import all DIR` loads such a folder into an empty database with the
same ids, so a restore gives the same dump back; it is also how a database moves between SQLite
and PostgreSQL.
"""

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from tracker.chain import Head, head, verify
from tracker.db import HEAD_REVISION, Database, driver_message, stored_revision, translate
from tracker.errors import Conflict, InvalidInput, StorageError
from tracker.models import Base, Claim, HistoryHead, UTCDateTime

FORMAT = "claim-tracker-dump"
VERSION = 1
BATCH = 5000
# The widest id any table can hold (PostgreSQL's integer), and the most rows a manifest may count.
MAX_ID = (1 << 31) - 1
MAX_ROWS = (1 << 63) - 1


def _tables() -> list[Table]:
    # The chain's head travels in the manifest, where a reader of the dump sees it.
    return [t for t in Base.metadata.sorted_tables if t.name != HistoryHead.__tablename__]


@contextmanager
def snapshot(database: Database) -> Iterator[Connection]:
    """One read-only transaction that sees the whole database at one moment, whatever others
    commit meanwhile: a dump read table by table must still fit together.

    SQLite's read transaction (WAL) is already a snapshot. PostgreSQL's default, READ COMMITTED,
    takes a new snapshot per statement: REPEATABLE READ keeps the first one to the end.
    """
    engine = database.engine.execution_options(tracker_readonly=True)
    if database.backend == "postgresql":
        engine = engine.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
    try:
        with engine.begin() as conn:
            yield conn
    except DBAPIError as exc:
        raise translate(exc, database.url) from exc


def _encode(table: Table, row: Any) -> dict[str, Any]:
    out = {}
    for column, value in zip(table.columns, row, strict=True):
        out[column.name] = value.isoformat() if isinstance(value, datetime) else value
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
    """Dump every table through `conn` (take it from `snapshot`) into `folder`.

    The files are written into a hidden sibling folder, renamed into place once complete: a
    failed dump leaves nothing behind, and trying again works. A new or empty folder is
    required.
    """
    folder = folder.expanduser()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        what = "is not empty" if folder.is_dir() else "exists and is not a folder"
        raise InvalidInput(f"{str(folder)!r} {what}; choose a new or empty folder")
    if not folder.parent.is_dir():
        raise StorageError(
            f"cannot write {str(folder)!r}: folder {str(folder.parent)!r} does not exist"
        )
    _remove_abandoned(folder)
    work = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    work.mkdir()
    try:
        counts = _write_tables(conn, work, progress)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "schema_revision": stored_revision(conn),
            "tables": counts,
            "next_ids": _next_ids(conn),
            "chain": _chain(conn),
        }
        _write_synced(work / "manifest.json", json.dumps(manifest, indent=2) + "\n")
        if folder.is_dir():
            folder.rmdir()  # empty, as checked; fails if someone wrote into it since
        work.rename(folder)
        _sync_folder(folder.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return counts


def _remove_abandoned(folder: Path) -> None:
    """Remove what killed dumps into `folder` left behind: their process is gone."""
    for stale in folder.parent.glob(f".{glob_escape(folder.name)}.*.partial"):
        pid = stale.name[len(folder.name) + 2 : -len(".partial")]
        if not pid.isdigit():
            continue
        if int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # still running: another dump in progress
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        shutil.rmtree(stale, ignore_errors=True)


def _chain(conn: Connection) -> dict[str, Any]:
    last = head(conn)
    return {"seq": last.seq, "hash": last.hash}


def _write_tables(
    conn: Connection, work: Path, progress: Callable[[int], None] | None
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in _tables():
        n = 0
        with open(work / f"{table.name}.jsonl", "w", encoding="utf-8", newline="\n") as out:
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
            out.flush()
            os.fsync(out.fileno())
        counts[table.name] = n
        if progress is not None:
            progress(sum(counts.values()))
    return counts


def _write_synced(path: Path, content: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())


def _sync_folder(path: Path) -> None:
    """Make a rename inside `path` survive a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise InvalidInput(f"{str(folder)!r} holds no manifest.json: not a tracker dump")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{path}: not a tracker dump manifest")
    if manifest.get("version") != VERSION:
        raise InvalidInput(
            f"{path}: dump format version {manifest.get('version')!r} is not supported"
        )
    if manifest.get("schema_revision") != HEAD_REVISION:
        raise InvalidInput(
            f"{path}: the dump is of schema {manifest.get('schema_revision')}, this tracker "
            f"writes {HEAD_REVISION}; restore it with the matching version, upgrade, and dump again"
        )
    names = [t.name for t in _tables()]
    with_ids = [t.name for t in _tables() if "id" in t.c and t.c.id.primary_key]
    tables = _counters(path, manifest, "tables", names, 0, MAX_ROWS)
    if missing := [name for name in names if name not in tables]:
        raise InvalidInput(f"{path}: 'tables' does not count {', '.join(missing)}")
    _counters(path, manifest, "next_ids", with_ids, 1, MAX_ID + 1)
    _read_chain(path, manifest)
    return manifest


def _read_chain(path: Path, manifest: dict[str, Any]) -> Head:
    """The manifest's chain head: where the history's hash chain must end."""
    from tracker.services.integrity import RULES

    chain = manifest.get("chain")
    if not isinstance(chain, dict) or set(chain) != {"seq", "hash"}:
        raise InvalidInput(f"{path}: 'chain' must be an object of seq and hash")
    for problem in RULES[HistoryHead.__tablename__].check({"id": 1, **chain}):
        raise InvalidInput(f"{path}: 'chain': {problem.reason} ({_show(problem.value)})")
    if (chain["hash"] is None) != (chain["seq"] == 0):
        raise InvalidInput(f"{path}: 'chain': a hash goes with a seq above 0, and only then")
    return Head(chain["seq"], chain["hash"])


def _counters(
    path: Path, manifest: dict[str, Any], key: str, allowed: list[str], low: int, high: int
) -> dict[str, int]:
    """manifest[key], which must map table names to whole numbers from low to high."""
    value = manifest.get(key)
    if not isinstance(value, dict):
        raise InvalidInput(f"{path}: '{key}' must be an object of table: number")
    for table, number in value.items():
        if table not in allowed:
            raise InvalidInput(f"{path}: '{key}' names {table!r}, which is not one of its tables")
        if type(number) is not int or not low <= number <= high:
            raise InvalidInput(
                f"{path}: '{key}' of {table!r} must be a whole number from {low} to {high} "
                f"({_show(number)})"
            )
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} appears twice")
        out[key] = value
    return out


def _show(value: Any, width: int = 60) -> str:
    shown = repr(value)
    return shown if len(shown) <= width else shown[: width - 5] + "...'" + f" ({len(shown)} chars)"


def _decode_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"must be a timestamp in ISO 8601 text, not {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise ValueError("timestamp carries no time zone (write +00:00)")
    return moment


def _rows(table: Table, path: Path) -> Iterator[dict[str, Any]]:
    """The rows of one table file, each decoded and held to every rule of its table."""
    from tracker.services.integrity import RULES

    rules = RULES[table.name]
    columns = set(rules.names)
    times = [c.name for c in table.columns if isinstance(c.type, UTCDateTime)]
    with open(path, "rb") as lines:
        for number, raw in enumerate(lines, 1):
            where = f"{path}, line {number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"{where}: not UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start + 1})"
                ) from None
            try:
                record = json.loads(
                    line, object_pairs_hook=_unique_keys, parse_constant=_no_constant
                )
            except ValueError as exc:
                raise InvalidInput(f"{where}: not valid JSON ({exc})") from None
            if not isinstance(record, dict):
                raise InvalidInput(f"{where}: not a JSON object, one row of {table.name}")
            if len(record) != len(columns) or record.keys() != columns:
                if unknown := sorted(set(record) - columns):
                    raise InvalidInput(
                        f"{where}, column {unknown[0]!r}: table {table.name} has no such "
                        f"column ({_show(record[unknown[0]])})"
                    )
                missing = sorted(columns - set(record))
                raise InvalidInput(f"{where}, column {missing[0]!r}: missing")
            for name in times:
                if record[name] is not None:
                    try:
                        record[name] = _decode_time(record[name])
                    except ValueError as exc:
                        raise InvalidInput(
                            f"{where}, column {name!r}: {name} {exc} ({_show(record[name])})"
                        ) from None
            for problem in rules.check(record):
                value = problem.value
                shown = _show(value.isoformat() if isinstance(value, datetime) else value)
                raise InvalidInput(
                    f"{where}, column {problem.column!r}: {problem.reason} ({shown})"
                )
            yield record


def open_dump(folder: Path) -> dict[str, Any]:
    """Check a dump folder before any row is read: its manifest (format, version, schema
    revision, counts) and that it holds exactly the table files of this schema. Returns the
    manifest, for `dump_rows`."""
    manifest = _read_manifest(folder)
    names = {t.name for t in _tables()}
    if unlisted := sorted(p.name for p in folder.glob("*.jsonl") if p.stem not in names):
        raise InvalidInput(
            f"{str(folder)!r} holds {', '.join(unlisted)}, which is no table of this schema"
        )
    for table in _tables():
        if not (folder / f"{table.name}.jsonl").is_file():
            raise InvalidInput(f"{str(folder)!r} lacks {table.name}.jsonl")
    return manifest


def dump_rows(folder: Path, manifest: dict[str, Any], table: Table) -> Iterator[dict[str, Any]]:
    """The rows of one table of a dump opened with `open_dump`, each held to every rule of its
    table; once they are all read, their number must be the manifest's."""
    path = folder / f"{table.name}.jsonl"
    n = 0
    for record in _rows(table, path):
        n += 1
        yield record
    expected = manifest["tables"][table.name]
    if expected != n:
        raise InvalidInput(f"{path} holds {n} rows; the manifest says {expected}")


def read_dump(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """A whole dump in memory, table name -> rows, every rule applied (as `import all`)."""
    folder = folder.expanduser()
    manifest = open_dump(folder)
    return {t.name: list(dump_rows(folder, manifest, t)) for t in _tables()}


def import_all(
    conn: Connection, folder: Path, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Load a dump into an empty database, keeping every id; all or nothing.

    A dump is input like any other: every row is held to the rules the commands apply
    (tracker.services.integrity), derived fields are recomputed and compared, and anything the
    format does not have (a column, a table file) is refused, not dropped.
    """
    folder = folder.expanduser()
    manifest = open_dump(folder)
    for table in _tables():
        if conn.execute(select(table).limit(1)).first() is not None:
            raise Conflict(
                f"the database already holds {table.name} rows; restore into an empty database"
            )
    if conn.dialect.name == "postgresql":
        # The history keeps the roles that wrote it, and none where it had none (a SQLite
        # origin): for the table's owner only, as the history trigger decides.
        conn.execute(text("SELECT set_config('tracker.restoring', 'on', true)"))
    counts: dict[str, int] = {}
    for table in _tables():
        path = folder / f"{table.name}.jsonl"
        batch: list[dict[str, Any]] = []
        n = 0
        for record in dump_rows(folder, manifest, table):
            batch.append(record)
            if len(batch) >= BATCH:
                _insert(conn, table, path, n, batch)
                n += len(batch)
                batch = []
                if progress is not None:
                    progress(sum(counts.values()) + n)
        if batch:
            _insert(conn, table, path, n, batch)
            n += len(batch)
        counts[table.name] = n
    _restore_counters(conn, manifest["next_ids"])
    _restore_chain(conn, folder, _read_chain(folder / "manifest.json", manifest))
    return counts


def _restore_chain(conn: Connection, folder: Path, recorded: Head) -> None:
    """A dump whose history chain is broken is refused: it was altered after it was written."""
    if problems := verify(conn, recorded):
        raise InvalidInput(
            f"{folder / 'history.jsonl'}: the history's hash chain is broken: {problems[0]}; "
            "nothing was restored"
        )
    if recorded.seq:
        conn.execute(
            text(
                "INSERT INTO history_head (id, seq, hash) VALUES (1, :seq, :hash)"
                " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
            ),
            {"seq": recorded.seq, "hash": recorded.hash},
        )


def _insert(conn: Connection, table: Table, path: Path, before: int, rows: list[Any]) -> None:
    """Insert a batch; what the database itself refuses (a duplicate, a missing parent) is
    still bad data in a named file."""
    try:
        conn.execute(insert(table), rows)
    except DBAPIError as exc:
        message = driver_message(exc)
        raise InvalidInput(
            f"{path}, lines {before + 1}-{before + len(rows)}: the database refuses a row: "
            f"{message}"
        ) from None


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
