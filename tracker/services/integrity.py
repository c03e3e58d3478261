"""The rules every stored row obeys, one table of them for `import all` and `db check` alike.

Most of a column's rule comes from the model itself (tracker.models `Base.metadata`): its type
(integer within the column's range, text within its length, a boolean, a zoned timestamp), whether
it may be NULL, and that ids and foreign keys are positive. What the model cannot say is written
once below: the parser the commands use for that column (VALUES), or the column it is derived
from (DERIVED). Adding a column's rule is one line in one of those two tables.

A parser either refuses a value (its InvalidInput message is the reason) or returns it cleaned;
a stored value must already be in that cleaned form, as every command stores it.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Integer, SmallInteger, String, Table, select
from sqlalchemy.engine import Connection

from tracker import vocab
from tracker.dates import parse_date
from tracker.db import Database
from tracker.errors import InvalidInput
from tracker.models import Base, UTCDateTime
from tracker.services.claims import text_hash
from tracker.text import (
    MAX_NAME,
    MAX_NOTE,
    MAX_TEXT,
    clean,
    clean_actor_name,
    clean_name,
    clean_tag,
    clean_url,
    name_key,
)

Parser = Callable[[Any], Any]


def _text(field: str, limit: int = MAX_TEXT) -> Parser:
    return lambda value: clean(value, field, limit=limit)


def _line(field: str, limit: int = MAX_NAME) -> Parser:
    return lambda value: clean(value, field, limit=limit, multiline=False)


def _printable(field: str) -> Parser:
    """One line kept as given (history's `by` is the login or TRACKER_USER, never cleaned)."""

    def check(value: str) -> str:
        if bad := _CONTROL.search(value):
            raise InvalidInput(f"{field} contains a control character (U+{ord(bad.group()):04X})")
        return value

    return check


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _date(field: str) -> Parser:
    return lambda value: parse_date(value, field)


def _authors(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise InvalidInput("authors must be a list of names")
    return [clean_name(a, "author") for a in value]


def _json_object(value: Any) -> dict[str, Any]:
    # What is inside may evolve with the history format; that it is an object may not.
    if not isinstance(value, dict):
        raise InvalidInput(f"changes must be a JSON object, not {_json_type(value)}")
    return value


def _position(value: int) -> int:
    if value < 0:
        raise InvalidInput("position must not be negative")
    return value


def _counted(value: int, field: str, low: int = 1) -> int:
    if value < low:
        raise InvalidInput(f"{field} must be {low} or more")
    return value


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _sha256(value: str, field: str) -> str:
    if not _SHA256.fullmatch(value):
        raise InvalidInput(f"{field} {value!r} is not a SHA-256 in lower-case hex")
    return value


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uid(value: str) -> str:
    # Lower-case and hyphenated, as uuid4() writes them and look-ups by uid expect.
    if not _UUID.fullmatch(value):
        raise InvalidInput(f"uid {value!r} is not a UUID in canonical form")
    return value


# table -> column -> the parser the commands apply to it (None values are never parsed).
VALUES: dict[str, dict[str, Parser]] = {
    "actor": {
        "name": clean_actor_name,
        "kind": vocab.actor_kind,
        "description": _text("description"),
        "reliability": vocab.reliability_grade,
    },
    "actor_name": {"name": clean_actor_name},
    "source": {
        "title": lambda value: clean_name(value, "source title"),
        "kind": vocab.source_kind,
        "authors": _authors,
        "url": clean_url,
        "published": _date("publication date"),
        "retrieved": _date("retrieved date"),
        "reliability": vocab.reliability_grade,
    },
    "claim": {
        "text": _text("claim text"),
        "quote": _text("quote"),
        "stated": _date("date stated"),
        "note": _text("note", MAX_NOTE),
        "credibility": vocab.credibility,
        "status": vocab.status,
        "verdict": vocab.verdict,
    },
    "claim_tag": {"tag": clean_tag},
    "appearance": {"position": _position},
    "link": {"relation": vocab.relation, "note": _text("note", MAX_NOTE)},
    "verdict": {
        "verdict": vocab.verdict,
        "reviewer": _line("reviewer"),
        "note": _text("note", MAX_NOTE),
    },
    "history": {
        "entity": _line("entity", 20),
        "action": _line("action", 20),
        "changes": _json_object,
        "by": _printable("by"),
        "role": _printable("role"),
        "seq": lambda value: _counted(value, "seq"),
        "prev_hash": lambda value: _sha256(value, "prev_hash"),
        "hash": lambda value: _sha256(value, "hash"),
    },
    "history_head": {
        "seq": lambda value: _counted(value, "seq", low=0),
        "hash": lambda value: _sha256(value, "hash"),
    },
}

# Any table's column of this name.
BY_NAME: dict[str, Parser] = {"uid": _uid}

# table -> derived column -> (the column it is computed from, how).
DERIVED: dict[str, dict[str, tuple[str, Callable[[str], str]]]] = {
    "claim": {"text_hash": ("text", text_hash)},
    "actor_name": {"key": ("name", name_key)},
    "source": {"title_key": ("title", name_key)},
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _int_range(column: Column[Any]) -> tuple[int, int]:
    # PostgreSQL's integer types; SQLite would store more, but such a dump could not move there.
    bits = 16 if isinstance(column.type, SmallInteger) else 64
    if type(column.type) is Integer:
        bits = 32
    is_id = column.name == "id" or column.name.endswith("_id") or bool(column.foreign_keys)
    return (1 if is_id else -(1 << (bits - 1))), (1 << (bits - 1)) - 1


@dataclass(frozen=True)
class Problem:
    column: str
    reason: str
    value: Any


TypeCheck = Callable[[Any], str | None]


def _type_check(column: Column[Any]) -> TypeCheck:
    """Why a value (as read back from the database, or decoded from a dump) cannot be stored
    in `column`, or None; built once per column, as it runs on every value."""
    kind = column.type
    if isinstance(kind, UTCDateTime):

        def timestamp(value: Any) -> str | None:
            if not isinstance(value, datetime):
                return f"must be a timestamp, not {_json_type(value)}"
            return None if value.tzinfo is not None else "timestamp carries no time zone"

        return timestamp
    if isinstance(kind, Boolean):
        return lambda v: None if type(v) is bool else f"must be true or false, not {_json_type(v)}"
    if isinstance(kind, Integer):
        low, high = _int_range(column)

        def whole(value: Any) -> str | None:
            if type(value) is not int:
                return f"must be a whole number, not {_json_type(value)}"
            return None if low <= value <= high else f"must be between {low} and {high}"

        return whole
    if isinstance(kind, String):  # Text included
        length = kind.length or float("inf")

        def text(value: Any) -> str | None:
            if type(value) is not str:
                return f"must be text, not {_json_type(value)}"
            if len(value) > length:
                return f"is {len(value)} characters long; the column holds {length}"
            return None

        return text
    return lambda value: None  # JSON: its parser, if any, says what it must hold


class Rules:
    """The compiled rules of one table: what `check` runs on each of its rows."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.names = [c.name for c in table.columns]
        values = VALUES.get(table.name, {})
        self.derived = DERIVED.get(table.name, {})
        unknown = (set(values) | set(self.derived)) - set(self.names)
        assert not unknown, f"integrity rules name columns {table.name} lacks: {unknown}"
        self.columns: list[tuple[str, bool, TypeCheck, Parser | None]] = [
            (c.name, bool(c.nullable), _type_check(c), values.get(c.name) or BY_NAME.get(c.name))
            for c in table.columns
        ]

    def check(self, row: dict[str, Any]) -> Iterator[Problem]:
        """Every problem of one row, given as {column: value}."""
        bad: set[str] = set()
        for name, nullable, type_check, parser in self.columns:
            value = row[name]
            if value is None:
                if not nullable:
                    bad.add(name)
                    yield Problem(name, f"{name} is missing (null)", value)
                continue
            why = type_check(value)
            if why is not None:
                bad.add(name)
                yield Problem(name, f"{name} {why}", value)
                continue
            if parser is None:
                continue
            try:
                cleaned = parser(value)
            except InvalidInput as exc:
                bad.add(name)
                yield Problem(name, str(exc), value)
                continue
            if cleaned != value:
                bad.add(name)
                yield Problem(name, f"{name} is not in its cleaned form ({cleaned!r})", value)
        for name, (source, derive) in self.derived.items():
            if source in bad or name in bad or row[source] is None:
                continue
            if derive(row[source]) != row[name]:
                yield Problem(name, f"{name} does not match its {source}", row[name])


RULES: dict[str, Rules] = {t.name: Rules(t) for t in Base.metadata.sorted_tables}

LIMIT = 50
BATCH = 5000


def label(table: Table, row: dict[str, Any]) -> str:
    """How `db check` names a row: `claim #5`, or its key columns where it has no id."""
    if "id" in table.c:
        return f"{table.name} #{row['id']}"
    keys = ", ".join(f"{c.name}={row[c.name]!r}" for c in table.primary_key.columns)
    return f"{table.name} ({keys})"


def check_rows(conn: Connection, limit: int = LIMIT) -> list[str]:
    """Every row of every table against its rules, one streamed pass per table: the first
    `limit` problems as sentences, and a last line counting the rest."""
    found: list[str] = []
    total = 0
    for table in Base.metadata.sorted_tables:
        rules = RULES[table.name]
        result = conn.execution_options(yield_per=BATCH).execute(
            select(table).order_by(*table.primary_key.columns)
        )
        for values in result:
            row = dict(zip(rules.names, values, strict=True))
            for problem in rules.check(row):
                total += 1
                if len(found) < limit:
                    found.append(f"{label(table, row)}: {problem.reason}")
    if total > len(found):
        found.append(f"... and {total - len(found):,} more problems ({total:,} in all)")
    return found


def check_database(database: Database) -> list[str]:
    """`check_rows` over one read snapshot of the database."""
    from tracker.services.dump import snapshot

    with snapshot(database) as conn:
        return check_rows(conn)
