"""STIX 2.1 in: a bundle (MITRE ATT&CK's `enterprise-attack.json`), a folder of object files
(the layout of MITRE's `cti` repository) or a stream, mapped onto actors, incidents, sources and
claims as docs/formats.md tables it ("STIX 2.1 and MITRE ATT&CK").

The input is streamed (the json module's decoder, one object at a time): objects are checked
as they are read, relationships kept in a compact form, and the file is never held whole.
Everything is written in the caller's transaction, so a bad object imports nothing; errors name
the object's id and property. Names go through `identity` (preloaded, as the claims importer
does), claims through the claims importer's staging and set-based merge. Every record made
from a STIX object keeps its id in `external_id`: a re-import matches by id before any name,
changes nothing when the object's `modified` is the same, and updates the record (with its
history) when it is newer.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tracker import vocab
from tracker.dates import parse_optional_date
from tracker.errors import Conflict, InvalidInput, TrackerError
from tracker.models import ExternalId
from tracker.services import identity
from tracker.services.importer import ImportReport, Staging, claim_row
from tracker.services.stix_export import EXTENSION_ID, TOOL_ID
from tracker.text import (
    MAX_NAME,
    MAX_NOTE,
    MAX_TEXT,
    clean,
    clean_actor_name,
    clean_name,
    clean_optional,
    clean_tag,
    clean_url,
    name_key,
)

SCHEME = "stix"
CITATION = "stix-citation"
# The claimant of a relationship or note that names no creator (`created_by_ref`) or one the
# import does not hold.
DEFAULT_CLAIMANT = "Unattributed STIX"
# Larger inputs are refused before anything is read: a bundle of the field is tens of MB.
MAX_INPUT = 2 * 1024**3

# STIX type -> actor kind (None: from the identity's `identity_class`).
ACTOR_TYPES: dict[str, str | None] = {
    "identity": None,
    "threat-actor": "group",
    "intrusion-set": "group",
    "malware": "malware",
    "tool": "tool",
    "attack-pattern": "technique",
}
IDENTITY_CLASS = {
    "individual": "person",
    "group": "group",
    "organization": "organization",
    "class": "other",
    "system": "other",
    "unknown": "other",
}
# An organization in one of these sectors is a government.
GOVERNMENT_SECTORS = {"government", "government-national", "government-regional", "defense"}
INCIDENT_TYPES = ("campaign", "incident")
# ATT&CK ids are kept as aliases (T1059, G0016, S0002): the references of these sources.
ATTACK_SOURCES = ("mitre-attack", "mitre-mobile-attack", "mitre-ics-attack")
# STIX 2.1 Appendix A, "None / Low / Med / High": None 0, Low 1-29, Med 30-69, High 70-100.
# None (0) is the producer's lowest confidence: low.
CONFIDENCE_SCALE = ((70, "high"), (30, "moderate"), (0, "low"))
# STIX opinion -> our verdict on the claim it is about.
OPINION_VERDICT = {
    "strongly-agree": "true",
    "agree": "mostly-true",
    "neutral": "mixed",
    "disagree": "misleading",
    "strongly-disagree": "false",
}
# Our export's x_tracker_* properties that are not text: their JSON type, as errors say it.
_TRACKER_TYPES: dict[str, tuple[type, str]] = {
    "credibility": (int, "a whole number from 1 to 6"),
    "authors": (list, "a list"),
}
# Our export's x_tracker_*_precision -> the length of the partial date (0: no date).
PRECISION_LENGTH = {"year": 4, "month": 7, "day": 10, "none": 0}
_CITATION = re.compile(r"\s*\(Citation: ([^()]*)\)")
# ATT&CK links each name it mentions to its page: [APT1](https://attack.mitre.org/groups/G0006).
_LINK = re.compile(r"\[([^\[\]\n]+)\]\((?:https?://[^()\s]*)\)")
_TIMESTAMP = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\Z")


class StixError(InvalidInput):
    """The input cannot be imported: nothing was."""


# ------------------------------------------------------------------------------------ reading


_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


class _JsonReader:
    """A JSON document read piece by piece: the C decoder of the json module (`raw_decode`)
    takes one value at a time from a buffer refilled from the stream, so a bundle's objects
    come one by one, each as fast as `json.loads` makes it, and memory holds one chunk and
    one object. Nesting past Python's recursion limit is refused, not crashed on."""

    CHUNK = 1 << 20

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self.stream, self.name = stream, name
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.pos = 0
        self.base = 0  # characters dropped from the front of the buffer
        self.bytes = 0
        self.eof = False

    def fail(self, why: str) -> StixError:
        return StixError(f"{self.name}: {why}")

    def _more(self) -> bool:
        """Read another chunk (as large as the buffer, so one huge value costs no more than
        a few passes); False at the end of the stream."""
        if self.eof:
            return False
        data = self.stream.read(max(self.CHUNK, len(self.buf) - self.pos))
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            at = self.bytes + exc.start
            raise self.fail(f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at {at:,})") from None
        self.bytes += len(data)
        self.eof = not data
        self.base += self.pos
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def take(self, expected: str) -> str:
        found = self.peek()
        if found not in expected or not found:
            shown = repr(found) if found else "the end of the input"
            raise self.fail(
                f"is not valid JSON: expected {' or '.join(map(repr, expected))}, found "
                f"{shown} at character {self.base + self.pos:,}"
            )
        self.pos += 1
        return found

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._more():  # the value may only be cut by the chunk's end
                    continue
                raise self.fail(
                    f"is not valid JSON: {exc.msg} at character {self.base + exc.pos:,}"
                ) from None
            except RecursionError:
                raise self.fail("is nested too deeply") from None
            if end == len(self.buf) and self._more():
                continue  # a number at the chunk's end may go on in the next ("12" "34")
            self.pos = end
            return value


def read_stream(stream: IO[bytes], name: str) -> Iterator[dict[str, Any]]:
    """Every STIX object of one JSON document (a bundle, or one object), streamed."""
    reader = _JsonReader(stream, name)
    first = reader.peek()
    if not first:
        raise reader.fail("is empty")
    if first != "{":
        raise reader.fail("is not a STIX bundle or object (it does not start with '{')")
    reader.take("{")
    top: dict[str, Any] = {}
    listed = False
    while reader.peek() != "}":
        key = reader.value()
        if not isinstance(key, str):
            raise reader.fail(f"is not valid JSON: a key is {_json_kind(key)}")
        reader.take(":")
        if key == "objects":
            listed = True
            if reader.peek() != "[":
                raise reader.fail("property 'objects' is not a list")
            reader.take("[")
            count = 0
            while reader.peek() != "]":
                item = reader.value()
                if not isinstance(item, dict):
                    raise reader.fail(f"objects[{count}] is not an object")
                count += 1
                yield item
                if reader.take(",]") == "]":
                    break
            else:
                reader.take("]")
        else:
            top[key] = reader.value()
        if reader.take(",}") == "}":
            break
    else:
        reader.take("}")
    if reader.peek():
        raise reader.fail(f"is not valid JSON: more after its end, at {reader.base + reader.pos:,}")
    kind = top.get("type")
    if kind == "bundle":
        return
    if listed or not isinstance(kind, str):
        raise reader.fail("is not a STIX bundle or object (no 'type')")
    yield top


def input_files(path: Path) -> list[Path]:
    """A file, or every `*.json` under a folder (the `cti` layout), in a stable order."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise StixError(f"{path}: the folder holds no .json files")
        return files
    return [path]


def read_paths(
    files: list[Path],
    tick: Callable[[int, int], None] | None = None,
    names: list[str] | None = None,
) -> Iterator[Any]:
    """The objects of every file, in order, each file called by its `names` entry in errors
    (stdin read into a file is still `stdin`); `tick(objects, bytes read)` as they go."""
    done = count = 0
    for n, path in enumerate(files):
        name = names[n] if names else str(path)
        size = path.stat().st_size
        if size > MAX_INPUT:
            raise StixError(f"{name}: larger than {MAX_INPUT // 1024**3} GiB; split it")
        with open(path, "rb") as stream:
            for obj in read_stream(stream, name):
                count += 1
                if tick is not None and count % 1000 == 0:
                    tick(count, done + stream.tell())
                yield obj
        done += size
        if tick is not None:
            tick(count, done)


# ------------------------------------------------------------------------------- one object


class _Object:
    """One STIX object's properties, read with the check each needs; errors name the object's
    id and the property."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise StixError(f"{where}: an object is a JSON {type(raw).__name__}, not an object")
        self.raw = raw
        ident = raw.get("id")
        if not isinstance(ident, str) or "--" not in ident or len(ident) > 300:
            shown = repr(ident)[:80]
            raise StixError(f"{where}: an object has no valid 'id' ({shown})")
        self.id = ident
        kind = raw.get("type")
        if not isinstance(kind, str) or ident.split("--", 1)[0] != kind:
            raise StixError(f"{ident}, property 'type': {kind!r} does not match the id")
        self.type = kind
        # Written by our own export: its x_tracker_* properties (docs/formats.md, "STIX 2.1
        # out") are read, keyed on the extension definition the exporter declares.
        extensions = raw.get("extensions")
        self.ours = isinstance(extensions, dict) and EXTENSION_ID in extensions
        self._references: tuple[list[Reference], list[str]] | None = None

    def fail(self, prop: str, why: str) -> StixError:
        return StixError(f"{self.id}, property {prop!r}: {why}")

    def get(self, prop: str, kinds: type | tuple[type, ...], what: str) -> Any:
        value = self.raw.get(prop)
        if value is None:
            return None
        # JSON true is a Python int too: only a boolean property takes one.
        fits = (
            isinstance(value, bool)
            if kinds is bool
            else (isinstance(value, kinds) and not isinstance(value, bool))
        )
        if fits:
            return value
        raise self.fail(prop, f"must be {what}, not {_json_kind(value)}")

    def flag(self, prop: str) -> bool:
        return bool(self.get(prop, bool, "true or false"))

    def text(
        self, prop: str, *, limit: int = MAX_TEXT, required: bool = False, name: bool = False
    ) -> str | None:
        value = self.get(prop, str, "text")
        if value is None or not value.strip():
            if required:
                raise self.fail(prop, "is missing")
            return None
        try:
            if name:
                return clean_actor_name(value, prop)
            return clean(value, prop, limit=limit)
        except InvalidInput as exc:
            raise self.fail(prop, str(exc)) from None

    def description(self) -> str | None:
        text = self.text("description")
        return (prose(text) or None) if text else None

    def strings(self, prop: str) -> list[str]:
        value = self.get(prop, list, "a list")
        if value is None:
            return []
        for n, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(prop, f"item {n} must be text, not {_json_kind(item)}")
        return list(value)

    def names(self, prop: str) -> list[str]:
        out = []
        for alias in self.strings(prop):
            if alias.strip():
                try:
                    out.append(clean_actor_name(alias, "alias"))
                except InvalidInput as exc:
                    raise self.fail(prop, str(exc)) from None
        return out

    def timestamp(self, prop: str, *, required: bool = False) -> str | None:
        value = self.get(prop, str, "a timestamp")
        if value is None:
            if required:
                raise self.fail(prop, "is missing")
            return None
        if not _TIMESTAMP.match(value):
            raise self.fail(prop, f"{value[:40]!r} is not a STIX timestamp (2017-05-31T21:31:43Z)")
        return sys.intern(value)

    def date(self, prop: str) -> str | None:
        value = self.timestamp(prop)
        try:
            return parse_optional_date(value[:10] if value else None, prop)
        except InvalidInput as exc:
            raise self.fail(prop, str(exc)) from None

    def partial_date(self, prop: str, precision_prop: str) -> str | None:
        """A date our export widened to a timestamp, cut back to the precision it recorded
        (`year`, `month`, `day`; `none`: there was no date)."""
        value = self.date(prop)
        precision = self.get(precision_prop, str, "text")
        if value is None or precision is None:
            return value
        if precision not in PRECISION_LENGTH:
            raise self.fail(
                precision_prop, f"{precision[:40]!r} is not one of: {', '.join(PRECISION_LENGTH)}"
            )
        cut = PRECISION_LENGTH[precision]
        return value[:cut] if cut else None

    def tracker(self, **parsers: Callable[[Any], Any]) -> dict[str, Any]:
        """Our export's x_tracker_<name> properties the object has, each checked for its JSON
        type and read by its parser: {name: value}."""
        values = {}
        for name, parse in parsers.items():
            prop = f"x_tracker_{name}"
            kinds, what = _TRACKER_TYPES.get(name, (str, "text"))
            value = self.strings(prop) if kinds is list else self.get(prop, kinds, what)
            if value is not None:
                try:
                    values[name] = parse(value)
                except InvalidInput as exc:
                    raise self.fail(prop, str(exc)) from None
        return values

    def ref(self, prop: str) -> str | None:
        value = self.get(prop, str, "an object id")
        if value is None:
            return None
        if "--" not in value or len(value) > 300:
            raise self.fail(prop, f"{value[:80]!r} is not an object id")
        # Interned: the relationships kept until the end name the same few thousand objects.
        return sys.intern(value)

    def refs(self, prop: str) -> list[str]:
        found = self.strings(prop)
        for value in found:
            if "--" not in value or len(value) > 300:
                raise self.fail(prop, f"{value[:80]!r} is not an object id")
        return found

    def confidence(self) -> str | None:
        value = self.get("confidence", int, "a whole number from 0 to 100")
        if value is None:
            return None
        if not 0 <= value <= 100:
            raise self.fail("confidence", f"{value} is not between 0 and 100")
        return next(word for floor, word in CONFIDENCE_SCALE if value >= floor)

    def references(self) -> tuple[list[Reference], list[str]]:
        """The external references that are documents (sources), and the ATT&CK ids."""
        if self._references is None:
            self._references = self._read_references()
        return self._references

    def _read_references(self) -> tuple[list[Reference], list[str]]:
        value = self.get("external_references", list, "a list")
        refs: list[Reference] = []
        ids: list[str] = []
        for n, entry in enumerate(value or []):
            prop = f"external_references[{n}]"
            if not isinstance(entry, dict):
                raise self.fail(prop, f"must be an object, not {_json_kind(entry)}")
            fields = {}
            for key in ("source_name", "description", "url", "external_id"):
                item = entry.get(key)
                if item is not None and not isinstance(item, str):
                    raise self.fail(f"{prop}.{key}", f"must be text, not {_json_kind(item)}")
                fields[key] = item.strip() if isinstance(item, str) and item.strip() else None
            source = fields["source_name"]
            if source in ATTACK_SOURCES and fields["external_id"]:
                try:
                    ids.append(clean_actor_name(fields["external_id"], "external_id"))
                except InvalidInput as exc:
                    raise self.fail(f"{prop}.external_id", str(exc)) from None
                continue
            if fields["external_id"] and not (fields["url"] or fields["description"]):
                continue  # an id in another catalogue (CAPEC, CVE): not a document
            try:
                refs.append(Reference.of(source, fields["description"], fields["url"]))
            except InvalidInput as exc:
                raise self.fail(prop, str(exc)) from None
        return refs, ids


def prose(text: str) -> str:
    """A STIX description as plain text: citation markers and Markdown links taken out (the
    citations are the claim's sources; a link's page is the object it names)."""
    return _LINK.sub(r"\1", _CITATION.sub("", text)).strip()


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


@dataclass(frozen=True, slots=True)
class Reference:
    """A document an object cites: its citation name, title and URL."""

    citation: str | None
    title: str
    url: str | None

    @staticmethod
    @lru_cache(maxsize=1 << 16)  # a bundle cites each reference from many relationships
    def of(source_name: str | None, description: str | None, url: str | None) -> Reference:
        url = clean_url(url) if url else None
        # The description is the reference itself ("Mandiant. (2013). APT1 ..."); a citation
        # name alone is only a handle.
        title = description if description and len(description) <= MAX_NAME else None
        title = title or source_name or url
        if title is None:
            raise InvalidInput("names nothing: no source_name, description or url")
        citation = clean_name(source_name[:MAX_NAME], "source_name") if source_name else None
        return Reference(citation, clean_name(title[:MAX_NAME], "source title"), url)


@dataclass(slots=True)
class Statement:
    """A relationship or note that becomes a claim, as little of it as the import needs."""

    id: str
    modified: str | None
    by: str | None
    text: str
    stated: str | None
    refs: list[str]  # the objects it is about (a relationship: its source, then its target)
    blames: str | None  # attributed-to: the target
    confidence: str | None
    sources: list[Reference]
    attributed: bool
    tag: str | None  # a relationship's type (uses, attributed-to, ...)
    # What our own export's notes carry beyond STIX (x_tracker_*): the claim as recorded.
    ours: bool = False
    author: str | None = None
    quote: str | None = None
    note: str | None = None
    credibility: int | None = None
    tags: list[str] = field(default_factory=list)
    stances: list[tuple[str, str]] = field(default_factory=list)  # (object id, stance)
    reports: list[str] = field(default_factory=list)  # the reports it appears in, in order
    about_as: list[str] = field(default_factory=list)  # the names its subjects were given


# ---------------------------------------------------------------------------------- the report

KINDS = ("actors", "incidents", "sources", "claims", "verdicts", "links")


@dataclass
class StixReport:
    objects: int = 0
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    matched: Counter[str] = field(default_factory=Counter)  # linked to a record found by name
    revoked: int = 0
    deprecated: int = 0
    dangling: int = 0  # relationships with an end not imported
    undescribed: int = 0  # relationships without a description
    opinions_unmatched: int = 0
    folded: int = 0  # our export's attributed-to and denials, held by their notes
    aliases_skipped: int = 0  # another record's own name
    not_mapped: Counter[str] = field(default_factory=Counter)
    resembling: list[identity.Resemblance] = field(default_factory=list)

    def summary(self) -> str:
        kinds = "; ".join(
            f"{kind} {self.created[kind]:,} created, {self.updated[kind]:,} updated, "
            f"{self.unchanged[kind]:,} unchanged"
            + (f", {self.matched[kind]:,} matched by name" if self.matched[kind] else "")
            for kind in KINDS
            if self.created[kind] or self.updated[kind] or self.unchanged[kind]
        )
        skipped = [
            f"{self.revoked:,} revoked",
            f"{self.deprecated:,} deprecated",
            f"{self.dangling:,} relationships with an end not imported",
            f"{self.undescribed:,} relationships without a description",
        ]
        if self.folded:
            skipped.append(f"{self.folded:,} blames and denials held by their claims' notes")
        if self.opinions_unmatched:
            skipped.append(f"{self.opinions_unmatched:,} opinions on no imported claim")
        if self.aliases_skipped:
            skipped.append(f"{self.aliases_skipped:,} aliases that are another record's name")
        unmapped = ", ".join(f"{n:,} {t}" for t, n in sorted(self.not_mapped.items()))
        return (
            f"{self.objects:,} objects: {kinds or 'nothing imported'}; "
            f"skipped {', '.join(skipped)}; not mapped: {unmapped or 'none'}"
        )


# ---------------------------------------------------------------------------------- importing


@dataclass
class _Entity:
    obj: _Object
    modified: str | None


class StixImport:
    """One import: `add` every object, then `finish` writes what they map to."""

    def __init__(self, session: Session, name: str, claimant: str = DEFAULT_CLAIMANT) -> None:
        self.session = session
        self.name = name
        self.default_claimant = clean_actor_name(claimant, "claimant")
        self.report = StixReport()
        self.entities: dict[str, _Entity] = {}  # actors, incidents, reports: by STIX id
        self.statements: list[Statement] = []
        self.opinions: list[_Object] = []
        self.seen: set[str] = set()
        self.derived: list[tuple[str, str]] = []  # (report, report it derives from)
        self.victims: list[tuple[str, str]] = []  # (campaign or incident, identity)
        # Our export's links: (id, modified, claim's note, relation, other note, link note).
        self.links: list[tuple[str, str | None, str, str, str, str | None]] = []

    # --- reading ------------------------------------------------------------------------------

    def add(self, raw: Any) -> None:
        """Check one object and keep what the import needs of it."""
        obj = _Object(raw, self.name)
        self.report.objects += 1
        if obj.id in self.seen:
            # A folder may hold an object twice (a bundle and its own file): the newest counts.
            previous = self.entities.get(obj.id)
            modified = obj.timestamp("modified")
            if previous is None or (modified or "") <= (previous.modified or ""):
                return
            del self.entities[obj.id]  # its newer version stands in for it, whatever it says
        self.seen.add(obj.id)
        if obj.flag("revoked"):
            self.report.revoked += 1
            return
        if obj.flag("x_mitre_deprecated"):
            self.report.deprecated += 1
            return
        if obj.id == TOOL_ID:  # the identity defining our extension: no actor of the data
            self.report.not_mapped["claim-tracker identity"] += 1
        elif obj.type in ACTOR_TYPES or obj.type in INCIDENT_TYPES or obj.type == "report":
            self._check_entity(obj)
            obj.raw = _slim(obj.raw)
            self.entities[obj.id] = _Entity(obj, obj.timestamp("modified"))
        elif (
            obj.ours
            and obj.type in ("relationship", "opinion")
            and obj.raw.get("x_tracker_note_ref")
        ):
            # An exported claim's blame or denial in STIX's terms: its note holds it already.
            obj.ref("x_tracker_note_ref")
            self.report.folded += 1
        elif obj.type == "relationship" and self._between_claims_or_reports(obj):
            pass
        elif obj.type == "relationship":
            statement = self._relationship(obj)
            if statement is not None:
                self.statements.append(statement)
        elif obj.type == "note":
            self.statements.append(self._note(obj))
        elif obj.type == "opinion":
            obj.raw = _slim(obj.raw)
            self._opinion_of(obj)
            self.opinions.append(obj)
        else:
            self.report.not_mapped[obj.type] += 1

    def _check_entity(self, obj: _Object) -> None:
        """Every property the import reads, checked now, so the whole input is refused before
        anything is written."""
        obj.text("name", required=True, name=obj.type != "report")
        obj.names("aliases")
        obj.names("x_mitre_aliases")
        obj.text("description")
        obj.timestamp("modified")
        obj.references()
        obj.ref("created_by_ref")
        if obj.type == "identity":
            obj.text("identity_class", limit=100)
            obj.strings("sectors")
        if obj.type in INCIDENT_TYPES:
            obj.date("first_seen")
            obj.date("last_seen")
        if obj.type == "report":
            obj.date("published")
            obj.refs("object_refs")
        obj.flag("x_mitre_is_subtechnique")

    def _between_claims_or_reports(self, obj: _Object) -> bool:
        """A report `derived-from` a report (a source citing another), a campaign or incident
        that `targets` an identity with nothing said about it (a victim), or our export's link
        between two claims (`related-to` with x_tracker_relation): kept for the end."""
        kind = obj.raw.get("relationship_type")
        source, target = obj.ref("source_ref"), obj.ref("target_ref")
        if source is None or target is None:
            return False
        ends = (source.split("--", 1)[0], target.split("--", 1)[0])
        if kind == "derived-from" and ends == ("report", "report"):
            self.derived.append((source, target))
            return True
        if (
            kind == "targets"
            and ends[0] in INCIDENT_TYPES
            and ends[1] == "identity"
            and obj.text("description") is None
        ):
            self.victims.append((source, target))
            return True
        if obj.ours and kind == "related-to" and obj.raw.get("x_tracker_relation") is not None:
            try:
                relation = vocab.relation(obj.get("x_tracker_relation", str, "text"))
            except InvalidInput as exc:
                raise obj.fail("x_tracker_relation", str(exc)) from None
            said = obj.text("description", limit=MAX_NOTE) or ""
            note = said.removeprefix(relation).removeprefix(": ") or None
            self.links.append((obj.id, obj.timestamp("modified"), source, relation, target, note))
            return True
        return False

    def _relationship(self, obj: _Object) -> Statement | None:
        kind = obj.text("relationship_type", limit=100, required=True)
        source, target = obj.ref("source_ref"), obj.ref("target_ref")
        if source is None or target is None:
            raise obj.fail("source_ref" if source is None else "target_ref", "is missing")
        attributed = kind == "attributed-to"
        text = obj.text("description")
        if text is None and not attributed:
            self.report.undescribed += 1
            return None
        refs, _ = obj.references()
        return Statement(
            id=obj.id,
            modified=obj.timestamp("modified"),
            by=obj.ref("created_by_ref"),
            text=text or "",  # an attributed-to without one gets its text once names are known
            stated=obj.date("created"),
            refs=[source, target],
            blames=target if attributed else None,
            confidence=obj.confidence(),
            sources=refs,
            attributed=attributed,
            tag=clean_tag(kind),
        )

    def _note(self, obj: _Object) -> Statement:
        text = obj.text("content", required=True)
        assert text is not None
        if obj.ours:
            return self._our_note(obj, text)
        abstract = obj.text("abstract")
        refs, _ = obj.references()
        return Statement(
            id=obj.id,
            modified=obj.timestamp("modified"),
            by=obj.ref("created_by_ref"),
            text=text if abstract is None or abstract in text else f"{abstract}: {text}",
            stated=obj.date("created"),
            refs=obj.refs("object_refs"),
            blames=None,
            confidence=obj.confidence(),
            sources=refs,
            attributed=False,
            tag=None,
        )

    def _our_note(self, obj: _Object, text: str) -> Statement:
        """A claim our export wrote: its text, stated date, quote, tags, stances and sources
        as recorded (the abstract is only a preview; the sources are the reports its
        external references name by id)."""
        refs = obj.refs("object_refs")
        if obj.flag("x_tracker_about_nobody"):
            refs = [r for r in refs if r.split("--", 1)[0] in INCIDENT_TYPES]
        tags = []
        for tag in obj.strings("labels"):
            try:
                tags.append(clean_tag(tag))
            except InvalidInput as exc:
                raise obj.fail("labels", str(exc)) from None
        recorded = obj.tracker(
            credibility=vocab.credibility,
            stated=partial(parse_optional_date, field="stated"),
            quote=partial(clean, field="quote"),
            note=partial(clean, field="note", limit=MAX_NOTE),
        )
        stances = [
            (ref, stance)
            for stance in ("blames", "clears", "same-as")
            for ref in obj.refs(f"x_tracker_{stance.replace('-', '_')}_refs")
        ]
        value = obj.get("external_references", list, "a list") or []
        reports = [
            e["external_id"]
            for e in value
            if isinstance(e, dict) and str(e.get("external_id", "")).startswith("report--")
        ]
        return Statement(
            id=obj.id,
            modified=obj.timestamp("modified"),
            by=obj.ref("created_by_ref"),
            text=text,
            stated=recorded.get("stated"),
            refs=refs,
            blames=None,
            confidence=obj.confidence(),
            sources=[],
            attributed=False,
            tag=None,
            ours=True,
            author=next(iter(obj.names("authors")), None),
            quote=recorded.get("quote"),
            note=recorded.get("note"),
            credibility=recorded.get("credibility"),
            tags=tags,
            stances=stances,
            reports=reports,
            about_as=obj.names("x_tracker_about_as"),
        )

    def _opinion_of(self, obj: _Object) -> tuple[str, str | None, list[str]]:
        value = obj.text("opinion", limit=100, required=True)
        assert value is not None
        if value not in OPINION_VERDICT:
            raise obj.fail("opinion", f"{value!r} is not one of: {', '.join(OPINION_VERDICT)}")
        obj.timestamp("modified")
        obj.ref("created_by_ref")
        obj.strings("authors")
        note = obj.text("explanation", limit=MAX_NOTE)
        verdict = OPINION_VERDICT[value]
        if obj.ours and obj.raw.get("x_tracker_verdict") is not None:
            # Our own verdict, not its nearest opinion (mixed, unverifiable and not-a-claim
            # are all neutral).
            verdict = obj.tracker(verdict=vocab.verdict)["verdict"]
        return verdict, note, obj.refs("object_refs")

    # --- writing ------------------------------------------------------------------------------

    def finish(self, tick: Callable[[float], None] | None = None) -> StixReport:
        """Write what the objects map to; `tick(share of the claims staged)` as it goes."""
        conn = self.session.connection()
        policy = identity.policy_of(self.session.info)
        self.actors = identity.ActorDirectory(
            conn, policy, history_each=False, index_created=False
        ).preload()
        self.incidents = identity.IncidentDirectory(
            conn, policy, history_each=False, index_created=False
        ).preload()
        self.sources = identity.SourceDirectory(
            conn, policy, history_each=False, index_created=False
        ).preload()
        # STIX id -> (entity, row id, modified); citation name -> source id.
        self.known: dict[str, tuple[str, int, str | None]] = {}
        self.citations: dict[str, int] = {}
        self.new_ids: list[dict[str, Any]] = []
        self.updates: list[Callable[[], None]] = []
        for value, modified, *records in conn.execute(
            select(
                ExternalId.value,
                ExternalId.modified,
                ExternalId.actor_id,
                ExternalId.incident_id,
                ExternalId.source_id,
                ExternalId.claim_id,
            ).where(ExternalId.scheme == SCHEME)
        ):
            pairs = zip(("actor", "incident", "source", "claim"), records, strict=True)
            what, row_id = next((e, r) for e, r in pairs if r)
            self.known[value] = (what, row_id, modified)
        for value, source_id in conn.execute(
            select(ExternalId.value, ExternalId.source_id).where(ExternalId.scheme == CITATION)
        ):
            assert source_id is not None
            self.citations[value] = source_id
        self.linked_actors = {r for e, r, _ in self.known.values() if e == "actor"}
        # Our export's actors by x_tracker_uid: every STIX object of one actor is one actor.
        self.our_actors: dict[str, int] = {}
        for stix_id, entity in self.entities.items():
            uid, known = _our_uid(entity.obj), self.known.get(stix_id)
            if uid is not None and known is not None and known[0] == "actor":
                self.our_actors[uid] = known[1]
        self.attack_names = self._attack_names()

        for entity in sorted(self.entities.values(), key=lambda e: _ORDER[e.obj.type]):
            self._entity(entity)
        self._claims(tick)
        self._write_ids()
        for apply in self.updates:
            apply()
        self._opinions()
        self._citations()
        self._victims()
        self._links()
        self.actors.write_history()
        self.incidents.write_history()
        self.sources.write_history()
        made = {
            what: {r for e, r, _ in self.known.values() if e == what}
            for what in ("actor", "incident", "source")
        }
        made["source"] |= set(self.citations.values())
        # Only names like a user's are worth a look: two STIX objects are two records by their
        # ids, however alike their names (a technique and its sub-technique).
        self.report.resembling = [
            found
            for directory in (self.actors, self.incidents, self.sources)
            for found in directory.resembling
            if _unlike(found, made[directory.what])
        ]
        return self.report

    def _attack_names(self) -> dict[str, str]:
        """ATT&CK id -> technique name, for sub-techniques' names (T1087.002 under T1087)."""
        found = {}
        for entity in self.entities.values():
            if entity.obj.type == "attack-pattern":
                for attack_id in entity.obj.references()[1]:
                    found[attack_id] = entity.obj.text("name", name=True) or ""
        return found

    def _new_id(self, stix_id: str, modified: str | None, entity: str, row_id: int) -> None:
        self.known[stix_id] = (entity, row_id, modified)
        self.new_ids.append(
            {"scheme": SCHEME, "value": stix_id, "modified": modified, f"{entity}_id": row_id}
        )

    def _write_ids(self) -> None:
        if self.new_ids:
            conn = self.session.connection()
            columns = ("actor_id", "incident_id", "source_id", "claim_id")
            conn.execute(
                insert(ExternalId),
                [{**{c: None for c in columns}, **row} for row in self.new_ids],
            )
            self.new_ids = []

    def _entity(self, entity: _Entity) -> None:
        obj = entity.obj
        what = (
            "source"
            if obj.type == "report"
            else ("incident" if obj.type in INCIDENT_TYPES else "actor")
        )
        count = f"{what}s"
        known = self.known.get(obj.id)
        try:
            if known is not None:
                if (entity.modified or "") > (known[2] or ""):
                    self.updates.append(partial(self._update, entity, known[1]))
                    self.report.updated[count] += 1
                else:
                    self.report.unchanged[count] += 1
                return
            uid = _our_uid(obj)
            if what == "source":
                row_id = self._report_source(obj)
            elif what == "incident":
                row_id = self._named(obj, self.incidents, self._incident_values(obj))
            elif uid is not None and uid in self.our_actors:
                # A stand-in (the same actor as another STIX type): that actor.
                row_id = self.our_actors[uid]
                self.report.unchanged["actors"] += 1
            else:
                row_id = self._named(obj, self.actors, self._actor_values(obj))
                self.linked_actors.add(row_id)
                if uid is not None:
                    self.our_actors[uid] = row_id
        except TrackerError as exc:
            raise self._error(obj, "name", exc) from None
        self._new_id(obj.id, entity.modified, what, row_id)

    def _error(self, obj: _Object, prop: str, exc: Exception) -> StixError:
        if isinstance(exc, StixError):
            return exc
        return StixError(f"{obj.id}, property {prop!r}: {exc}")

    def _actor_name(self, obj: _Object) -> str:
        name = obj.text("name", required=True, name=True)
        assert name is not None
        if obj.type == "attack-pattern" and obj.flag("x_mitre_is_subtechnique"):
            # ATT&CK's own display: "Account Discovery: Domain Accounts" (sub-technique names
            # repeat under different techniques).
            for attack_id in obj.references()[1]:
                parent = self.attack_names.get(attack_id.split(".")[0])
                if "." in attack_id and parent:
                    return clean_actor_name(f"{parent}: {name}")
        return name

    def _aliases(self, obj: _Object, name: str) -> list[str]:
        aliases = [
            *obj.names("aliases"),
            *obj.names("x_mitre_aliases"),
            *(obj.names("x_tracker_aliases") if obj.ours else ()),
            *obj.references()[1],
        ]
        if obj.type == "attack-pattern" and name != obj.text("name", name=True):
            aliases.append(obj.text("name", name=True) or "")
        seen = {name_key(name)}
        out = []
        for alias in aliases:
            if alias and name_key(alias) not in seen:
                seen.add(name_key(alias))
                out.append(alias)
        return out

    def _actor_values(self, obj: _Object) -> dict[str, Any]:
        kind = ACTOR_TYPES[obj.type]
        if kind is None:
            given = (obj.text("identity_class", limit=100) or "unknown").lower()
            kind = IDENTITY_CLASS.get(given, "other")
            if kind == "organization" and GOVERNMENT_SECTORS & set(obj.strings("sectors")):
                kind = "government"
        # Our own descriptions are the user's text, not ATT&CK's Markdown with citations.
        described = obj.text("description") if obj.ours else obj.description()
        values = {"kind": vocab.actor_kind(kind), "description": described}
        if obj.ours:
            values.update(obj.tracker(kind=vocab.actor_kind, reliability=vocab.reliability_grade))
        return values

    def _incident_values(self, obj: _Object) -> dict[str, Any]:
        if obj.ours:
            return {
                "started": obj.partial_date("first_seen", "x_tracker_first_seen_precision"),
                "ended": obj.partial_date("last_seen", "x_tracker_last_seen_precision"),
                "description": obj.text("description"),
                **obj.tracker(kind=vocab.incident_kind),
            }
        return {
            "started": obj.date("first_seen"),
            "ended": obj.date("last_seen"),
            "description": obj.description(),
        }

    def _named(
        self, obj: _Object, directory: identity._NamedDirectory, values: dict[str, Any]
    ) -> int:
        """The actor or incident of an object not linked yet: the record of its name (a user's,
        or one a name-alike import made), else a new one."""
        name = (
            self._actor_name(obj)
            if directory is self.actors
            else obj.text("name", required=True, name=True)
        )
        assert name is not None
        aliases = self._aliases(obj, name)
        holders = {owner for owner, _, _ in directory.matches(name)}
        if directory is self.actors and holders & self.linked_actors:
            # Taken by another STIX object (a tool and a technique of one name): qualified.
            suffix = next(iter(obj.references()[1]), obj.type)
            name = clean_actor_name(f"{name} ({suffix})")
            holders = {owner for owner, _, _ in directory.matches(name)}
        if len(holders) > 1:
            directory.find(name)  # raises Ambiguous, naming each
        usable = [a for a in aliases if self._alias_ok(directory, a, next(iter(holders), None))]
        self.report.aliases_skipped += len(aliases) - len(usable)
        plural = f"{directory.what}s"
        if holders:
            row_id = next(iter(holders))
            self.report.matched[plural] += 1
            have = {owner_key for owner_key in self._keys_of(directory, row_id)}
            for alias in usable:
                if name_key(alias) not in have:
                    directory.add_alias(row_id, alias)
            return row_id
        directory.check_new(name, strict=False, new=False)
        self.report.created[plural] += 1
        return directory.create(name, aliases=usable, **values)

    def _keys_of(self, directory: identity._NamedDirectory, row_id: int) -> set[str]:
        assert directory._exact is not None
        return {key for key, rows in directory._exact.items() if any(r[0] == row_id for r in rows)}

    def _alias_ok(
        self, directory: identity._NamedDirectory, alias: str, row_id: int | None
    ) -> bool:
        try:
            directory.check_name(alias, primary=False, actor_id=row_id)
        except Conflict:
            return False
        return True

    def _report_source(self, obj: _Object) -> int:
        title = obj.text("name", required=True)
        assert title is not None
        title = clean_name(title[:MAX_NAME], "source title")
        refs, _ = obj.references()
        url = next((r.url for r in refs if r.url), None)
        found = self.sources.by_pair(title, url)
        if found is not None:
            self.report.matched["sources"] += 1
            return found
        publisher = self._actor_of(obj.ref("created_by_ref"))
        self.sources.check_new_source(title, url, strict=False, new=False)
        self.report.created["sources"] += 1
        values = {"kind": "report", "published": obj.date("published")}
        if obj.ours:
            values = {
                "published": obj.partial_date("published", "x_tracker_date_precision"),
                **obj.tracker(
                    kind=vocab.source_kind,
                    authors=lambda v: [clean_name(a, "author") for a in v],
                    retrieved=partial(parse_optional_date, field="retrieved"),
                    reliability=vocab.reliability_grade,
                ),
            }
        return self.sources.create(
            {"title": title, "url": url, "publisher_id": publisher, **values}
        )

    def _actor_of(self, ref: str | None) -> int | None:
        found = self.known.get(ref) if ref else None
        return found[1] if found and found[0] == "actor" else None

    def _claimant(self, ref: str | None) -> int:
        found = self._actor_of(ref)
        if found is not None:
            return found
        return self.actors.resolve(self.default_claimant, create=True, strict=False)[0]

    def _source(self, ref: Reference) -> int:
        if ref.citation is not None and ref.citation in self.citations:
            return self.citations[ref.citation]
        found = self.sources.by_pair(ref.title, ref.url)
        if found is None:
            self.sources.check_new_source(ref.title, ref.url, strict=False, new=False)
            found = self.sources.create({"title": ref.title, "url": ref.url})
            self.report.created["sources"] += 1
        if ref.citation is not None:
            self.citations[ref.citation] = found
            self.new_ids.append(
                {"scheme": CITATION, "value": ref.citation, "modified": None, "source_id": found}
            )
        return found

    def _references(self, statement: Statement) -> list[Reference]:
        """A claim's documents: its external references, then any citation in its text that
        none of them names (a source titled by the citation)."""
        refs = list(statement.sources)
        if statement.ours:  # its sources are reports of the bundle, named by id
            return refs
        named = {r.citation for r in refs}
        for citation in _CITATION.findall(statement.text):
            citation = citation.strip()
            if citation and citation not in named:
                named.add(citation)
                refs.append(Reference.of(citation, None, None))
        return refs

    def _new_sources(self, statements: list[Statement]) -> None:
        """Every reference no source is known for yet, created in one statement (a bundle the
        size of ATT&CK cites thousands)."""
        new: dict[tuple[str, str | None], dict[str, Any]] = {}
        for statement in statements:
            for ref in self._references(statement):
                if ref.citation is not None and ref.citation in self.citations:
                    continue
                key = (name_key(ref.title), ref.url)
                if key in new or self.sources.by_pair(ref.title, ref.url) is not None:
                    continue
                try:
                    self.sources.check_new_source(ref.title, ref.url, strict=False, new=False)
                except TrackerError as exc:
                    where = f"{statement.id}, property 'external_references'"
                    raise StixError(f"{where}: {exc}") from None
                new[key] = {"title": ref.title, "url": ref.url}
        self.report.created["sources"] += len(self.sources.create_many(list(new.values())))
        self.sources.write_history()  # now, not at the end: thousands of snapshots

    def _claim_sources(self, statement: Statement) -> list[int]:
        """The sources a claim appears in: its references, then the reports that list it."""
        ids = [self._source(r) for r in self._references(statement)]
        ids.extend(
            self.known[r][1] for r in statement.reports if self.known.get(r, ("",))[0] == "source"
        )
        ids.extend(self.in_reports.get(statement.id, ()))
        return list(dict.fromkeys(ids))

    def _text(self, statement: Statement, ends: list[tuple[str, int]]) -> str:
        text = statement.text if statement.ours else prose(statement.text)
        if text:
            return clean(text, "description", limit=MAX_TEXT)
        # An attributed-to without a description says just that.
        names = [self._label(entity, row_id) for entity, row_id in ends]
        return f"{names[0]} is attributed to {names[1]}"

    def _label(self, entity: str, row_id: int) -> str:
        directory = self.actors if entity == "actor" else self.incidents
        assert directory._exact is not None
        return next(
            n for rows in directory._exact.values() for r, n, p in rows if r == row_id and p
        )

    def _claims(self, tick: Callable[[float], None] | None) -> None:
        self.in_reports: dict[str, list[int]] = {}
        for stix_id, entity in self.entities.items():
            if entity.obj.type == "report" and stix_id in self.known:
                for ref in entity.obj.refs("object_refs"):
                    self.in_reports.setdefault(ref, []).append(self.known[stix_id][1])
        todo: list[tuple[Statement, list[tuple[str, int]]]] = []
        for statement in self.statements:
            known = self.known.get(statement.id)
            if known is not None:
                if (statement.modified or "") > (known[2] or ""):
                    self.updates.append(partial(self._update_claim, statement, known[1]))
                    self.report.updated["claims"] += 1
                else:
                    self.report.unchanged["claims"] += 1
                continue
            ends = self._ends(statement)
            if ends is not None:
                todo.append((statement, ends))
        self.statements = []  # what is left of them is in `todo` and the updates
        self._new_sources([s for s, _ in todo])
        staging = Staging(self.session)
        line = 0
        firsts: dict[int, Statement] = {}
        for n, (statement, ends) in enumerate(todo, 1):
            if tick is not None and n % 1000 == 0:
                tick(n / len(todo))
            try:
                staged = self._stage(statement, ends)
            except TrackerError as exc:
                raise StixError(f"{statement.id}: {exc}") from None
            sources = staged.pop("sources") or [None]
            first = line + 1
            firsts[first] = statement
            for source_id in sources:
                line += 1
                row = claim_row(
                    line,
                    staged["claimant"],
                    staged["text"],
                    stated=statement.stated,
                    source_id=source_id,
                    confidence=statement.confidence,
                    quote=statement.quote,
                    claimant_as=staged["claimant_as"],
                    note=statement.note,
                    credibility=statement.credibility,
                )
                if line > first:  # another appearance of the same claim
                    staging.add(row)
                    continue
                staging.add(
                    row,
                    [(line, a, staged["about_as"].get(a)) for a in staged["about"]],
                    [(line, t) for t in statement.tags or [statement.tag or ""] if t],
                    [(line, a, stance) for a, stance in staged["stances"]],
                    [(line, i) for i in staged["incidents"]],
                )
        report = ImportReport()
        staging.merge(report, self.name)
        self.report.created["claims"] += report.claims_created
        for first, claim_id in staging.claims_of(firsts).items():
            statement = firsts[first]
            self._new_id(statement.id, statement.modified, "claim", claim_id)
        staging.close()

    def _ends(self, statement: Statement) -> list[tuple[str, int]] | None:
        """The records a statement is about. A relationship whose end was not imported
        (revoked, deprecated, a type not mapped, or not in the input) is skipped and counted
        (None); a note's references to such objects are passed over."""
        ends = []
        relationship = statement.id.startswith("relationship--")
        for ref in statement.refs:
            found = self.known.get(ref)
            if found is not None and found[0] in ("actor", "incident"):
                ends.append((found[0], found[1]))
            elif relationship:
                self.report.dangling += 1
                return None
        if statement.blames is not None and self._actor_of(statement.blames) is None:
            self.report.dangling += 1
            return None
        for ref, stance in statement.stances:
            if self._actor_of(ref) is None:
                prop = f"x_tracker_{stance.replace('-', '_')}_refs"
                raise StixError(f"{statement.id}, property {prop!r}: {ref} is no actor imported")
        return ends

    def _about_as(self, statement: Statement, ends: list[tuple[str, int]]) -> dict[int, str]:
        """Our export's subjects named by an alias: {actor: the alias} (`x_tracker_about_as`
        follows the note's subjects, which come first in its object_refs)."""
        subjects = [r for e, r in ends if e == "actor"]
        return {
            actor: given
            for actor, given in zip(subjects, statement.about_as, strict=False)
            if given != self._label("actor", actor)
        }

    def _stage(self, statement: Statement, ends: list[tuple[str, int]]) -> dict[str, Any]:
        blamed = self._actor_of(statement.blames) if statement.blames else None
        stances = [(blamed, "blames")] if blamed is not None else []
        for ref, stance in statement.stances:
            actor = self._actor_of(ref)
            assert actor is not None  # _ends checked it
            stances.append((actor, stance))
        claimant = self._claimant(statement.by)
        # Our export's `authors` is the name the claim was attributed under.
        named = statement.author
        return {
            "claimant": claimant,
            "claimant_as": named if named and named != self._label("actor", claimant) else None,
            "text": self._text(statement, ends),
            "about": list(dict.fromkeys(r for e, r in ends if e == "actor")),
            "about_as": self._about_as(statement, ends),
            "stances": list(dict.fromkeys(stances)),
            "incidents": list(dict.fromkeys(r for e, r in ends if e == "incident")),
            "sources": self._claim_sources(statement),
        }

    # --- updates (a newer `modified`), through the services every command uses ----------------

    def _update(self, entity: _Entity, row_id: int) -> None:
        from tracker.services.actors import edit_actor
        from tracker.services.incidents import edit_incident
        from tracker.services.sources import edit_source

        obj = entity.obj
        try:
            if obj.type == "report":
                title = clean_name((obj.text("name", required=True) or "")[:MAX_NAME])
                edit_source(
                    self.session,
                    f"#{row_id}",
                    fields={"title": title, "published": obj.date("published")},
                )
            elif obj.type in INCIDENT_TYPES:
                incident = self.session.get(_incident_model(), row_id)
                assert incident is not None
                name = obj.text("name", required=True, name=True)
                new = [a for a in self._aliases(obj, name or "") if a not in incident.aliases]
                edit_incident(
                    self.session,
                    f"#{row_id}",
                    name=name,
                    description=obj.description() or "",
                    started=obj.date("first_seen") or "",
                    ended=obj.date("last_seen") or "",
                    add_aliases=[a for a in new if self._alias_ok(self.incidents, a, row_id)],
                )
            else:
                actor = self.session.get(_actor_model(), row_id)
                assert actor is not None
                name = self._actor_name(obj)
                held = {name_key(n.name) for n in actor.names}
                new = [a for a in self._aliases(obj, name) if name_key(a) not in held]
                edit_actor(
                    self.session,
                    f"#{row_id}",
                    fields={"name": name, "description": obj.description() or ""},
                    add={"aliases": [a for a in new if self._alias_ok(self.actors, a, row_id)]},
                )
        except TrackerError as exc:
            raise self._error(obj, "name", exc) from None
        self._set_modified(obj.id, entity.modified)

    def _update_claim(self, statement: Statement, claim_id: int) -> None:
        from tracker.services.claims import edit_claim

        ends = self._ends(statement)
        if ends is None:
            return
        try:
            staged = self._stage(statement, ends)
            edit_claim(
                self.session,
                f"#{claim_id}",
                fields={
                    "text": staged["text"],
                    "stated": statement.stated or "",
                    "confidence": statement.confidence or "",
                },
                add={
                    "sources": [f"#{s}" for s in staged["sources"]],
                    "about": [f"#{a}" for a in staged["about"]],
                    "incidents": [f"#{i}" for i in staged["incidents"]],
                },
            )
        except TrackerError as exc:
            raise StixError(f"{statement.id}: {exc}") from None
        self._set_modified(statement.id, statement.modified)

    def _set_modified(self, stix_id: str, modified: str | None) -> None:
        self.session.flush()
        self.session.connection().execute(
            update(ExternalId)
            .where(ExternalId.scheme == SCHEME, ExternalId.value == stix_id)
            .values(modified=modified)
        )

    def _opinions(self) -> None:
        from tracker.services.claims import rate_claim

        # A claim's verdicts in the order they were given: the last is its current one.
        for obj in sorted(self.opinions, key=lambda o: o.raw.get("created") or ""):
            verdict, note, refs = self._opinion_of(obj)
            known = self.known.get(obj.id)
            modified = obj.timestamp("modified")
            if known is not None and (modified or "") <= (known[2] or ""):
                self.report.unchanged["verdicts"] += 1
                continue
            claims = [self.known[r][1] for r in refs if self.known.get(r, ("",))[0] == "claim"]
            if not claims:
                self.report.opinions_unmatched += 1
                continue
            if known is None and self._holds_verdict(obj):
                # Back into the database it was exported from: that verdict is there already.
                self.report.unchanged["verdicts"] += 1
                self._new_id(obj.id, modified, "claim", claims[0])
                continue
            reviewer = self._reviewer(obj)
            try:
                for claim_id in claims:
                    rate_claim(self.session, f"#{claim_id}", verdict, note=note, reviewer=reviewer)
            except TrackerError as exc:
                raise StixError(f"{obj.id}: {exc}") from None
            if known is None:
                self.report.created["verdicts"] += 1
                self._new_id(obj.id, modified, "claim", claims[0])
                self.session.flush()
                self._write_ids()
            else:
                self.report.updated["verdicts"] += 1
                self._set_modified(obj.id, modified)

    def _holds_verdict(self, obj: _Object) -> bool:
        from tracker.models import VerdictEntry

        uid = _our_uid(obj)
        found = select(VerdictEntry.id).where(VerdictEntry.uid == uid)
        return uid is not None and self.session.scalar(found) is not None

    def _citations(self) -> None:
        """Reports derived from reports: the source cites the other (once)."""
        from tracker.models import SourceCitation
        from tracker.services.sources import edit_source

        for source_ref, target_ref in self.derived:
            source, target = self.known.get(source_ref), self.known.get(target_ref)
            if source is None or target is None or (source[0], target[0]) != ("source", "source"):
                self.report.dangling += 1
                continue
            cited = self.session.scalar(
                select(SourceCitation).where(
                    SourceCitation.source_id == source[1], SourceCitation.cited_id == target[1]
                )
            )
            if cited is None:
                edit_source(self.session, f"#{source[1]}", add={"cites": [f"#{target[1]}"]})

    def _victims(self) -> None:
        """Whom an incident targets: its victims (once)."""
        from tracker.models import IncidentVictim
        from tracker.services.incidents import edit_incident

        for incident_ref, actor_ref in self.victims:
            incident, actor = self.known.get(incident_ref), self._actor_of(actor_ref)
            if incident is None or incident[0] != "incident" or actor is None:
                self.report.dangling += 1
                continue
            held = self.session.scalar(
                select(IncidentVictim).where(
                    IncidentVictim.incident_id == incident[1], IncidentVictim.actor_id == actor
                )
            )
            if held is None:
                edit_incident(self.session, f"#{incident[1]}", add_victims=[f"#{actor}"])

    def _links(self) -> None:
        """Our export's links between two claims, each made once (its id is kept)."""
        from tracker.models import Link
        from tracker.services.claims import link_claims

        for stix_id, modified, source_ref, relation, target_ref, note in self.links:
            if stix_id in self.known:
                self.report.unchanged["links"] += 1
                continue
            source, target = self.known.get(source_ref), self.known.get(target_ref)
            if source is None or target is None or (source[0], target[0]) != ("claim", "claim"):
                self.report.dangling += 1
                continue
            held = select(Link.id).where(
                Link.from_id == source[1], Link.relation == relation, Link.to_id == target[1]
            )
            if self.session.scalar(held) is not None:
                self.report.unchanged["links"] += 1
            else:
                try:
                    link_claims(self.session, f"#{source[1]}", relation, f"#{target[1]}", note=note)
                except TrackerError as exc:
                    raise StixError(f"{stix_id}: {exc}") from None
                self.report.created["links"] += 1
            self._new_id(stix_id, modified, "claim", source[1])
        self.session.flush()
        self._write_ids()

    def _reviewer(self, obj: _Object) -> str | None:
        by = self._actor_of(obj.ref("created_by_ref"))
        if by is not None:
            return self._label("actor", by)
        authors = [a for a in obj.strings("authors") if a.strip()]
        return clean_optional(authors[0][:MAX_NAME], "authors") if authors else None


_ORDER = {
    "identity": 0,
    "threat-actor": 1,
    "intrusion-set": 2,
    "malware": 3,
    "tool": 4,
    "attack-pattern": 5,
    "campaign": 6,
    "incident": 7,
    "report": 8,
}


def _our_uid(obj: _Object) -> str | None:
    uid = obj.raw.get("x_tracker_uid") if obj.ours else None
    return uid if isinstance(uid, str) else None


def _unlike(found: identity.Resemblance, made: set[int]) -> bool:
    """Drop from a resemblance the records a STIX import made; whether any is left."""
    found.similar = [similar for similar in found.similar if similar.ident not in made]
    return bool(found.similar)


_KEPT = frozenset(
    (
        *("id", "type", "name", "aliases", "x_mitre_aliases", "description", "modified"),
        *("created_by_ref", "external_references", "identity_class", "sectors", "first_seen"),
        *("last_seen", "published", "object_refs", "x_mitre_is_subtechnique", "opinion"),
        *("explanation", "authors", "revoked", "x_mitre_deprecated", "created", "labels"),
    )
)


def _slim(raw: dict[str, Any]) -> dict[str, Any]:
    """What an entity needs kept until the end of the input (not its kill chains, marking
    refs or platform lists)."""
    return {k: v for k, v in raw.items() if k in _KEPT or k.startswith("x_tracker_")}


def _actor_model() -> Any:
    from tracker.models import Actor

    return Actor


def _incident_model() -> Any:
    from tracker.models import Incident

    return Incident


def import_stix(
    session: Session,
    objects: Iterable[Any],
    *,
    name: str,
    claimant: str = DEFAULT_CLAIMANT,
    progress: Callable[[int, float], None] | None = None,
) -> StixReport:
    """Import STIX objects (from `read_paths` or `read_stream`) in the caller's transaction;
    `progress(objects read, share of the writing done)` as it goes."""
    job = StixImport(session, name, claimant)
    for raw in objects:
        job.add(raw)
    n = job.report.objects
    return job.finish(None if progress is None else lambda share: progress(n, share))
