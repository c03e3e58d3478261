"""The flat claim format: one row per (claim, source) appearance, as CSV or JSON Lines.

Columns: text, claimant, quote, stated, about, tags, verdict, note, credibility, source,
source_url, source_publisher, source_date, source_kind, claimant_as, incident, blames, clears,
confidence. Only `text` and `claimant` are required; `about`, `tags`, `incident`, `blames` and
`clears` hold several values separated by `;`. Reading is streamed line by line, so
every problem can be named with its file, line and column.
"""

import csv
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import vocab
from tracker.dates import parse_optional_date
from tracker.errors import InvalidInput
from tracker.models import (
    Actor,
    Appearance,
    Claim,
    ClaimIncident,
    ClaimStance,
    ClaimSubject,
    Incident,
    Source,
)
from tracker.services.claim_report import BATCH, ClaimFilter, claim_rows
from tracker.text import (
    MAX_TEXT,
    clean,
    clean_actor_name,
    clean_name,
    clean_optional,
    clean_tag,
    clean_url,
    join_list,
    name_key,
    split_list,
)
from tracker.vocab import SourceKind, Stance

COLUMNS = [
    "text",
    "claimant",
    "quote",
    "stated",
    "about",
    "tags",
    "verdict",
    "note",
    "credibility",
    "source",
    "source_url",
    "source_publisher",
    "source_date",
    "source_kind",
    "claimant_as",
    "incident",
    "blames",
    "clears",
    "confidence",
]
REQUIRED = ("text", "claimant")
# A field longer than this makes a file unreadable (the csv module's own guard); fields that fit
# but exceed the text limits (tracker.text) are bad rows.
MAX_FIELD = 1_000_000
OTHER_KIND = SourceKind.other.value


class FileError(InvalidInput):
    """The file as a whole cannot be read: nothing is imported."""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.reason}"


class BadRow(Exception):
    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(slots=True)
class FlatRow:
    """One validated row, names cleaned and their match keys computed."""

    line: int
    text: str
    claimant: str
    claimant_as: str | None = None
    quote: str | None = None
    stated: str | None = None
    about: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    verdict: str | None = None
    note: str | None = None
    credibility: int | None = None
    source: str | None = None
    source_url: str | None = None
    source_publisher: str | None = None
    source_date: str | None = None
    source_kind: str = OTHER_KIND
    incidents: list[str] = field(default_factory=list)
    blames: list[str] = field(default_factory=list)
    clears: list[str] = field(default_factory=list)
    confidence: str | None = None


class Reader:
    """Records from a flat file, with their line numbers; raises FileError on a broken file."""

    def __init__(self, stream: IO[bytes], name: str, fmt: str, *, ignore_extra: bool = False):
        self.stream = stream
        self.name = name
        self.fmt = fmt
        self.ignore_extra = ignore_extra
        self.bytes_read = 0
        self.line = 0
        self.header: list[str] = []

    def fail(self, reason: str, line: int | None = None) -> FileError:
        where = f", line {line or self.line}" if (line or self.line) else ""
        return FileError(f"{self.name}{where}: {reason}")

    def _lines(self) -> Iterator[str]:
        for raw in self.stream:
            self.line += 1
            self.bytes_read += len(raw)
            if self.line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if b"\x00" in raw:
                raise self.fail("contains a NUL byte; is this a text file?")
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self.fail(
                    f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "save the file as UTF-8"
                ) from None

    def _check_header(self, header: list[str]) -> None:
        # Linear in the number of columns, and each message names at most a few of them: a
        # 100,000-column header is refused at once, in one short line.
        header = [h.strip() for h in header]
        if not any(header):
            raise self.fail("the header row is empty", 1)
        counts = Counter(header)
        duplicates = sorted(h for h, n in counts.items() if n > 1)
        if duplicates:
            raise self.fail(f"the header repeats {_few(duplicates)}", 1)
        missing = [c for c in REQUIRED if c not in counts]
        if missing:
            raise self.fail(
                f"the header lacks the required column {', '.join(map(repr, missing))} "
                f"(columns: {', '.join(COLUMNS)})",
                1,
            )
        known = set(COLUMNS)
        extra = [h for h in header if h not in known]
        if extra and not self.ignore_extra:
            raise self.fail(
                f"unknown column {_few(extra)}; the flat format has "
                f"{', '.join(COLUMNS)} (or pass --ignore-extra)",
                1,
            )
        self.header = header

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.fmt == "jsonl":
            yield from self._jsonl()
        else:
            yield from self._csv()
        if self.line == 0:
            raise self.fail("is empty")

    def _csv(self) -> Iterator[tuple[int, dict[str, Any]]]:
        csv.field_size_limit(MAX_FIELD)
        reader = csv.reader(self._lines(), strict=True)
        start = 1
        try:
            for fields in reader:
                if not self.header:
                    self._check_header(fields)
                    start = self.line + 1
                    continue
                line, start = start, self.line + 1
                if not any(f.strip() for f in fields):
                    continue  # a blank line
                if len(fields) != len(self.header):
                    reason = f"has {len(fields)} fields; the header has {len(self.header)}"
                    yield line, {"__error__": reason}
                    continue
                yield line, dict(zip(self.header, fields, strict=True))
        except csv.Error as exc:
            reason = str(exc)
            if "unexpected end of data" in reason or "EOF" in reason:
                reason = f"a quoted field opened on line {start} is never closed"
            raise self.fail(reason) from None
        if not self.header and self.line:
            raise self.fail("has no header row")

    def _jsonl(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for text in self._lines():
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield (
                    self.line,
                    {"__error__": f"is not valid JSON: {exc.msg} at column {exc.colno}"},
                )
                continue
            except RecursionError:
                yield self.line, {"__error__": "is not valid JSON: nested too deeply"}
                continue
            except ValueError as exc:  # an integer of thousands of digits
                yield self.line, {"__error__": f"is not valid JSON: {exc}"}
                continue
            if not isinstance(record, dict):
                yield self.line, {"__error__": "is not a JSON object"}
                continue
            if not self.header:
                self.header = list(COLUMNS)
            unknown = [k for k in record if k not in COLUMNS]
            if unknown and not self.ignore_extra:
                yield self.line, {"__error__": f"has unknown key {_few(unknown)}"}
                continue
            problem = _bad_value(record)
            if problem:
                yield self.line, {"__error__": problem}
                continue
            yield self.line, record


def _few(names: list[str], shown: int = 5) -> str:
    """The first few names, quoted, and how many more: an error line stays short."""
    listed = ", ".join(map(repr, (n[:100] for n in names[:shown])))
    return listed + (f" and {len(names) - shown:,} more" if len(names) > shown else "")


def _bad_value(record: dict[str, Any]) -> str | None:
    """Why a JSON record cannot be a row, or None: every value must be text, a number, null or
    a list of those, and text must be valid Unicode (a "\\ud800" escape decodes to a lone
    surrogate that no database can store)."""
    for key, value in record.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, bool | dict | list):
                kind = {bool: "a boolean", dict: "an object", list: "a nested list"}[type(item)]
                return f"column {key!r} holds {kind}; the flat format takes text or numbers"
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    return (
                        f"column {key!r} holds an invalid character (a lone surrogate "
                        f"\\u{ord(item[exc.start]):04x}); text must be valid Unicode"
                    )
    return None


def _text(record: dict[str, Any], column: str) -> str | None:
    value = record.get(column)
    if value is None or value.__class__ is str:  # CSV gives only str: the common case first
        return value
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool | dict):
        raise InvalidInput(f"{value!r} is not a text value")
    return str(value)


def validate(line: int, record: dict[str, Any]) -> FlatRow:
    """A FlatRow, or BadRow naming the first column that is wrong."""
    if "__error__" in record:
        raise BadRow(RowError(line, None, None, record["__error__"]))
    column = "text"
    try:
        text = clean(_text(record, "text") or "", "text", limit=MAX_TEXT)
        column = "claimant"
        claimant = clean_actor_name(_text(record, "claimant") or "", "claimant")
        column = "claimant_as"
        row = FlatRow(line=line, text=text, claimant=claimant)
        given_as = (_text(record, "claimant_as") or "").strip()
        row.claimant_as = clean_actor_name(given_as, "claimant_as") if given_as else None
        column = "quote"
        row.quote = clean_optional(_text(record, "quote"), "quote")
        column = "stated"
        row.stated = parse_optional_date(_text(record, "stated"), "date")
        column = "about"
        row.about = [clean_actor_name(a, "actor") for a in split_list(_text(record, "about"))]
        column = "tags"
        row.tags = [clean_tag(t) for t in split_list(_text(record, "tags"))]
        column = "verdict"
        row.verdict = vocab.optional_verdict(_text(record, "verdict"))
        column = "note"
        row.note = clean_optional(_text(record, "note"), "note")
        column = "credibility"
        row.credibility = vocab.credibility(_text(record, "credibility"))
        column = "incident"
        row.incidents = [
            clean_actor_name(i, "incident") for i in split_list(_text(record, "incident"))
        ]
        column = "blames"
        row.blames = [clean_actor_name(a, "actor") for a in split_list(_text(record, "blames"))]
        column = "clears"
        row.clears = [clean_actor_name(a, "actor") for a in split_list(_text(record, "clears"))]
        both = {name_key(a) for a in row.blames} & {name_key(a) for a in row.clears}
        if both:
            raise InvalidInput("an actor cannot be both blamed and cleared by one claim")
        column = "confidence"
        row.confidence = vocab.confidence(_text(record, "confidence"))
        column = "source"
        source = (_text(record, "source") or "").strip()
        column = "source_url"
        url = (_text(record, "source_url") or "").strip()
        row.source_url = clean_url(url) if url else None
        if source or url:
            column = "source"
            row.source = clean_name(source or url, "source title")
            column = "source_publisher"
            publisher = (_text(record, "source_publisher") or "").strip()
            row.source_publisher = clean_actor_name(publisher, "publisher") if publisher else None
            column = "source_date"
            row.source_date = parse_optional_date(_text(record, "source_date"), "date")
            column = "source_kind"
            row.source_kind = vocab.source_kind(_text(record, "source_kind"))
        else:
            for other in ("source_publisher", "source_date"):
                if (_text(record, other) or "").strip():
                    column = other
                    raise InvalidInput("given without a source or source_url")
    except InvalidInput as exc:
        raise BadRow(RowError(line, column, _text(record, column), str(exc))) from None
    return row


def flat_rows(session: Session, filters: ClaimFilter | None = None) -> Iterator[dict[str, Any]]:
    """The flat format, one row per appearance (one row for a claim with none), in claim id and
    appearance order: a stable order, so export -> import -> export gives the same bytes."""
    return _flat(session, claim_rows(session, filters))  # filters checked before any output


def _flat(session: Session, claims: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    pending: list[dict[str, Any]] = []
    for claim in claims:
        pending.append(claim)
        if len(pending) >= BATCH:
            yield from _expand(session, pending)
            pending = []
    if pending:
        yield from _expand(session, pending)


def _attribution(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each claim's stated confidence, incidents, and the actors it blames and clears."""
    found: dict[int, dict[str, Any]] = {
        i: {"incident": [], "blames": [], "clears": [], "confidence": None} for i in ids
    }
    for ident, confidence in session.execute(
        select(Claim.id, Claim.confidence).where(Claim.id.in_(ids), Claim.confidence.is_not(None))
    ):
        found[ident]["confidence"] = confidence
    for ident, name in session.execute(
        select(ClaimIncident.claim_id, Incident.name)
        .join(Incident, Incident.id == ClaimIncident.incident_id)
        .where(ClaimIncident.claim_id.in_(ids))
    ):
        found[ident]["incident"].append(name)
    # Named as the `about` column names them (an alias if the claim gave one), so that a file
    # read back resolves both to the same actor.
    for ident, stance, name in session.execute(
        select(
            ClaimStance.claim_id,
            ClaimStance.stance,
            func.coalesce(ClaimSubject.as_name, Actor.name),
        )
        .join(Actor, Actor.id == ClaimStance.actor_id)
        .outerjoin(
            ClaimSubject,
            (ClaimSubject.claim_id == ClaimStance.claim_id)
            & (ClaimSubject.actor_id == ClaimStance.actor_id),
        )
        .where(
            ClaimStance.claim_id.in_(ids),
            ClaimStance.stance.in_([Stance.blames.value, Stance.clears.value]),
        )
    ):
        found[ident][stance].append(name)
    return found


def _expand(session: Session, claims: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    ids = [c["id"] for c in claims]
    attribution = _attribution(session, ids)
    appearances: dict[int, list[Any]] = {}
    for row in session.execute(
        select(
            Appearance.claim_id,
            Source.title,
            Source.url,
            Actor.name,
            Source.published,
            Source.kind,
        )
        .join(Source, Source.id == Appearance.source_id)
        .outerjoin(Actor, Actor.id == Source.publisher_id)
        .where(Appearance.claim_id.in_(ids))
        .order_by(Appearance.claim_id, Appearance.position)
    ):
        appearances.setdefault(row[0], []).append(row[1:])
    for claim in claims:
        base = {
            "text": claim["text"],
            "claimant": claim["claimant"],
            "claimant_as": claim["claimant_as"],
            "quote": claim["quote"],
            "stated": claim["stated"],
            "about": join_list(sorted(claim["about_as"], key=name_key)),
            "tags": join_list(claim["tags"]),
            "verdict": claim["verdict"],
            "note": claim["note"],
            "credibility": claim["credibility"],
        }
        extra = attribution[claim["id"]]
        for key in ("incident", "blames", "clears"):
            base[key] = join_list(sorted(extra[key], key=name_key))
        base["confidence"] = extra["confidence"]
        found = appearances.get(claim["id"]) or [(None, None, None, None, None)]
        for title, url, publisher, published, kind in found:
            yield {
                **base,
                "source": title,
                "source_url": url,
                "source_publisher": publisher,
                "source_date": published,
                "source_kind": kind,
            }
