"""STIX 2.1 out: the claims a filter selects, with everything they need, as one bundle that STIX
tools load and the OASIS validator accepts. The mapping is documented in docs/formats.md
("STIX 2.1 out"); in short:

- actors -> `identity` (person, organization, government, company, media, other), or
  `intrusion-set` (group), `malware` (is_family), `tool`, `attack-pattern` (technique). Where
  STIX needs another type for the same actor (an author must be an `identity`; blame from a
  campaign points at an `intrusion-set` or `threat-actor`), a stand-in of that type is added
  with the same name and `x_tracker_uid`.
- sources -> `report`, incidents -> `campaign`, claims -> `note` by the claimant;
- blame -> `attributed-to` (campaign -> group, or -> threat-actor), with `confidence`;
- clearing -> the claimant's `strongly-disagree` `opinion` of the blame it contradicts;
  verdicts -> `opinion` (VERDICT_OPINION); claim links -> `related-to` with the relation.

Ids are UUIDv5 from our uids in one fixed namespace, timestamps come from our records, and
objects are sorted, so exporting the same data twice gives the same bytes. What STIX has no
property for travels in `x_tracker_*` properties declared by one `extension-definition` (the
STIX 2.1 way: a toplevel-property-extension), so nothing is lost and validators stay quiet.
"""

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import (
    Actor,
    ActorName,
    Appearance,
    Claim,
    ClaimIncident,
    ClaimStance,
    ClaimSubject,
    ClaimTag,
    Incident,
    IncidentName,
    IncidentVictim,
    Link,
    Source,
    SourceCitation,
    VerdictEntry,
)
from tracker.services.claim_report import ClaimFilter

# Fixed for good: every id we export is derived from it, so changing it changes every id.
NAMESPACE = uuid.UUID("8d0c5d3e-6f0a-4b7e-9a43-2f1c7e5b9d21")
SPEC = "2.1"
# The date our extension (the x_tracker_* properties) was defined: its objects' timestamps.
EXTENSION_DATE = "2026-11-29T00:00:00.000Z"
EXTENSION_VERSION = "1.0.0"

# STIX 2.1 Appendix A (None/Low/Med/High): the midpoint of each range, Low 1-29, Med 30-69,
# High 70-100, as ICD 203's low/moderate/high.
CONFIDENCE = {"low": 15, "moderate": 50, "high": 85}
# Our verdicts on STIX's opinion scale; the verdict itself travels as x_tracker_verdict.
VERDICT_OPINION = {
    "true": "strongly-agree",
    "mostly-true": "agree",
    "mixed": "neutral",
    "misleading": "disagree",
    "exaggerated": "disagree",
    "false": "strongly-disagree",
    "unverifiable": "neutral",
    "not-a-claim": "neutral",
}
# Actor kinds that are not identities in STIX.
ACTOR_TYPE = {
    "group": "intrusion-set",
    "malware": "malware",
    "tool": "tool",
    "technique": "attack-pattern",
}
IDENTITY_CLASS = {
    "person": "individual",
    "organization": "organization",
    "government": "organization",
    "company": "organization",
    "media": "organization",
    "group": "group",
}
# identity sectors (STIX industry-sector-ov) a kind implies.
SECTORS = {"government": ["government"]}
THREAT_ACTOR_TYPES = {"government": ["nation-state"]}
# The x_tracker_* properties, each documented in docs/formats.md.
PROPERTIES = (
    "x_tracker_uid",
    "x_tracker_kind",
    "x_tracker_aliases",
    "x_tracker_reliability",
    "x_tracker_authors",
    "x_tracker_date_precision",
    "x_tracker_retrieved",
    "x_tracker_first_seen_precision",
    "x_tracker_last_seen_precision",
    "x_tracker_quote",
    "x_tracker_stated",
    "x_tracker_credibility",
    "x_tracker_status",
    "x_tracker_note",
    "x_tracker_blames_refs",
    "x_tracker_clears_refs",
    "x_tracker_same_as_refs",
    "x_tracker_about_nobody",
    "x_tracker_about_as",
    "x_tracker_note_ref",
    "x_tracker_verdict",
    "x_tracker_relation",
)
# Readers meet the actors before what is said about them.
ORDER = [
    "identity",
    "extension-definition",
    "intrusion-set",
    "threat-actor",
    "malware",
    "tool",
    "attack-pattern",
    "campaign",
    "report",
    "note",
    "relationship",
    "opinion",
]
ABSTRACT_WORDS = 12
CHUNK = 1000  # ids per IN (...) list: well under every backend's limit on bound values


def stix_id(kind: str, *key: str) -> str:
    """`kind--UUIDv5`: the same record (and role) always gives the same id."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, '/'.join((kind, *key)))}"


TOOL_ID = stix_id("identity", "claim-tracker")
EXTENSION_ID = stix_id("extension-definition", "claim-tracker", EXTENSION_VERSION)


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC to the millisecond, as STIX wants `created` and `modified`."""
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


PRECISION = {4: "year", 7: "month", 10: "day"}


def instant(date: str) -> tuple[str, str]:
    """A partial date's first instant (STIX needs a full timestamp) and its precision."""
    year, month, day = [*date.split("-"), "01", "01"][:3]
    return f"{year}-{month}-{day}T00:00:00Z", PRECISION[len(date)]


def abstract(text: str) -> str | None:
    """The first words of a long claim, for lists that show a note's abstract; none if short."""
    words = text.split()
    return None if len(words) <= ABSTRACT_WORDS else " ".join(words[:ABSTRACT_WORDS]) + " …"


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _every(grouped: dict[int, list[Any]]) -> set[Any]:
    return {value for values in grouped.values() for value in values}


# A row read with Core: its attributes are named as the model's (claim.uid, source.title).
Row = Any


class _Records:
    """What the selected claims need, read with Core a chunk of ids at a time: an export touches
    every row, and ORM objects with their collections cost several times more (measured)."""

    def __init__(self, session: Session, filters: ClaimFilter) -> None:
        query = filters.apply(session, select(Claim.__table__)).order_by(Claim.id)
        if filters.limit is not None:
            query = query.limit(filters.limit)
        self.conn = conn = session.connection()
        self.claims: list[Row] = list(conn.execute(query))
        ids = [c.id for c in self.claims]
        self.subjects = self.grouped(
            select(ClaimSubject.claim_id, ClaimSubject.actor_id).order_by(ClaimSubject.actor_id),
            ids,
        )
        self.subjects_as = self.grouped(
            select(ClaimSubject.claim_id, ClaimSubject.actor_id, ClaimSubject.as_name).where(
                ClaimSubject.as_name.is_not(None)
            ),
            ids,
        )
        self.appearances = self.grouped(
            select(Appearance.claim_id, Appearance.source_id).order_by(Appearance.position), ids
        )
        self.tags = self.grouped(
            select(ClaimTag.claim_id, ClaimTag.tag).order_by(ClaimTag.tag), ids
        )
        self.incidents_of = self.grouped(
            select(ClaimIncident.claim_id, ClaimIncident.incident_id).order_by(
                ClaimIncident.incident_id
            ),
            ids,
        )
        self.stances = self.grouped(
            select(ClaimStance.claim_id, ClaimStance.actor_id, ClaimStance.stance).order_by(
                ClaimStance.actor_id
            ),
            ids,
        )
        self.sources = self._rows(Source, _every(self.appearances))
        self.incidents = self._rows(Incident, _every(self.incidents_of))
        self.victims = self.grouped(
            select(IncidentVictim.incident_id, IncidentVictim.actor_id).order_by(
                IncidentVictim.actor_id
            ),
            self.incidents,
        )
        self.incident_aliases = self.grouped(
            select(IncidentName.incident_id, IncidentName.name)
            .where(~IncidentName.is_primary)
            .order_by(IncidentName.id),
            self.incidents,
        )
        wanted = {c.claimant_id for c in self.claims}
        wanted |= _every(self.subjects) | _every(self.victims)
        wanted.update(a for found in self.stances.values() for a, _ in found)
        wanted.update(s.publisher_id for s in self.sources.values() if s.publisher_id)
        self.actors = self._rows(Actor, wanted)
        self.actor_aliases = self.grouped(
            select(ActorName.actor_id, ActorName.name)
            .where(~ActorName.is_primary)
            .order_by(ActorName.id),
            self.actors,
        )

    def grouped(self, statement: Any, ids: Iterable[int]) -> dict[int, list[Any]]:
        """{first column: [the rest of each row, in the statement's order]}, for `ids`."""
        key = statement.selected_columns[0]
        found: dict[int, list[Any]] = {}
        for chunk in _chunks(ids):
            for row in self.conn.execute(statement.where(key.in_(chunk))):
                found.setdefault(row[0], []).append(row[1] if len(row) == 2 else tuple(row[1:]))
        return found

    def _rows(self, model: Any, ids: Iterable[int]) -> dict[int, Row]:
        table = model.__table__
        return {
            row.id: row
            for chunk in _chunks(ids)
            for row in self.conn.execute(select(table).where(table.c.id.in_(chunk)))
        }


class _Bundle:
    """The objects being gathered, by id; an actor's objects are made on first need."""

    def __init__(self, records: _Records) -> None:
        self.records = records
        self.objects: dict[str, dict[str, Any]] = {}
        self.made: dict[tuple[str, int], str] = {}  # (type, record id) -> object id

    def add(self, kind: str, ident: str, made: datetime, changed: datetime, **props: Any) -> str:
        obj: dict[str, Any] = {
            "type": kind,
            "spec_version": SPEC,
            "id": ident,
            "created": timestamp(made),
            "modified": timestamp(max(made, changed)),
        }
        obj.update((k, v) for k, v in props.items() if v not in (None, "", [], {}))
        if any(k.startswith("x_tracker_") for k in obj):
            obj["extensions"] = {EXTENSION_ID: {"extension_type": "toplevel-property-extension"}}
        self.objects[ident] = obj
        return ident

    # ---------------------------------------------------------------------------- actors

    def actor(self, actor_id: int) -> str:
        """The actor as itself: an identity, or its kind's STIX type."""
        actor = self.records.actors[actor_id]
        return self._as(actor, ACTOR_TYPE.get(actor.kind, "identity"))

    def identity(self, actor_id: int) -> str:
        """The actor as an identity: what `created_by_ref` and victims must be."""
        return self._as(self.records.actors[actor_id], "identity")

    def blamed(self, actor_id: int, from_campaign: bool) -> str:
        """The target of `attributed-to`: STIX suggests an intrusion-set or a threat-actor from a
        campaign, a threat-actor from an intrusion-set."""
        actor = self.records.actors[actor_id]
        if from_campaign and actor.kind == "group":
            return self.actor(actor_id)
        return self._as(actor, "threat-actor")

    def _as(self, actor: Row, kind: str) -> str:
        """The actor as an object of type `kind`, made once; every type carries the same name,
        description, aliases and x_tracker_uid, so an importer can fold them back together."""
        made = self.made.get((kind, actor.id))
        if made:
            return made
        ident = self.made[kind, actor.id] = stix_id(kind, actor.uid)
        aliases = self.records.actor_aliases.get(actor.id)
        typed: dict[str, Any] = {"aliases": aliases}
        if kind == "identity":  # an identity has no aliases in STIX
            typed = {
                "identity_class": IDENTITY_CLASS.get(actor.kind, "unknown"),
                "sectors": SECTORS.get(actor.kind),
                "x_tracker_aliases": aliases,
            }
        elif kind == "threat-actor":
            typed["threat_actor_types"] = THREAT_ACTOR_TYPES.get(actor.kind)
        elif kind == "malware":
            typed["is_family"] = True
        return self.add(
            kind,
            ident,
            actor.created_at,
            actor.updated_at,
            name=actor.name,
            description=actor.description,
            **typed,
            x_tracker_uid=actor.uid,
            x_tracker_kind=actor.kind,
            x_tracker_reliability=actor.reliability,
        )

    # ------------------------------------------------------------------- sources, incidents

    def report(self, source: Row, claims: list[str]) -> str:
        if source.published:
            published, precision = instant(source.published)
        else:
            # `published` is required: an undated source gets the time we recorded it, marked.
            published, precision = timestamp(source.created_at), "none"
        return self.add(
            "report",
            stix_id("report", source.uid),
            source.created_at,
            source.updated_at,
            created_by_ref=self.identity(source.publisher_id) if source.publisher_id else None,
            name=source.title,
            published=published,
            object_refs=sorted(claims),
            external_references=[{"source_name": source.title, "url": uri(source.url)}]
            if source.url
            else None,
            x_tracker_uid=source.uid,
            x_tracker_kind=source.kind,
            x_tracker_authors=list(source.authors or []),
            x_tracker_date_precision=precision,
            x_tracker_retrieved=source.retrieved,
            x_tracker_reliability=source.reliability,
        )

    def campaign(self, incident_id: int) -> str:
        made = self.made.get(("campaign", incident_id))
        if made:
            return made
        incident = self.records.incidents[incident_id]
        ident = self.made["campaign", incident_id] = stix_id("campaign", incident.uid)
        first = instant(incident.started) if incident.started else (None, None)
        last = instant(incident.ended) if incident.ended else (None, None)
        self.add(
            "campaign",
            ident,
            incident.created_at,
            incident.updated_at,
            name=incident.name,
            description=incident.description,
            aliases=self.records.incident_aliases.get(incident_id),
            first_seen=first[0],
            last_seen=last[0],
            x_tracker_uid=incident.uid,
            x_tracker_kind=incident.kind,
            x_tracker_first_seen_precision=first[1],
            x_tracker_last_seen_precision=last[1],
        )
        for victim in self.records.victims.get(incident_id, ()):
            target = self.identity(victim)
            self.add(
                "relationship",
                stix_id("relationship", "targets", incident.uid, self.records.actors[victim].uid),
                incident.created_at,
                incident.updated_at,
                relationship_type="targets",
                source_ref=ident,
                target_ref=target,
            )
        return ident

    def citation(self, source: Row) -> dict[str, str]:
        """A source as an external reference (STIX needs a url, a description or an id)."""
        publisher = self.records.actors[source.publisher_id] if source.publisher_id else None
        said = ", ".join(p for p in (publisher and publisher.name, source.published) if p)
        # The report's id lets an importer link the report itself, not a copy of it.
        ref = {"source_name": source.title, "external_id": stix_id("report", source.uid)}
        if said:
            ref["description"] = said
        if source.url:
            ref["url"] = uri(source.url)
        elif not said:
            ref["description"] = source.title
        return ref


_STRAY_PERCENT = re.compile("%(?![0-9A-Fa-f]{2})")  # a % that starts no escape is itself escaped


def uri(url: str) -> str:
    """A URL as STIX's `url` properties require, an RFC 3986 URI: characters a URI may not hold
    (spaces, `<`, non-ASCII letters) percent-encoded; the rest, and existing escapes, kept."""
    return quote(_STRAY_PERCENT.sub("%25", url), safe="!#$%&'()*+,/:;=?@[]~")


def stix_bundle(session: Session, filters: ClaimFilter | None = None) -> dict[str, Any]:
    """The bundle of the claims `filters` selects and exactly the objects they need."""
    records = _Records(session, filters or ClaimFilter())
    bundle = _Bundle(records)
    notes: dict[int, str] = {c.id: stix_id("note", c.uid) for c in records.claims}
    in_source: dict[int, list[str]] = {}
    blames: dict[tuple[int, int | None], list[str]] = {}  # (actor, incident) -> relationships
    for claim in records.claims:
        author = bundle.identity(claim.claimant_id)
        appearances = records.appearances.get(claim.id, [])
        for source_id in appearances:
            in_source.setdefault(source_id, []).append(notes[claim.id])
        incidents = records.incidents_of.get(claim.id, [])
        subjects = records.subjects.get(claim.id, [])
        stances = records.stances.get(claim.id, [])
        campaigns = [bundle.campaign(i) for i in incidents]
        about = [bundle.actor(a) for a in subjects] + campaigns
        # The names the subjects were given (an alias: "APT1"), in the order of `about`.
        given = dict(records.subjects_as.get(claim.id, ()))
        about_as = [given.get(a) or records.actors[a].name for a in subjects] if given else None
        stance_refs: dict[str, list[str]] = {}
        for actor_id, stance in stances:
            stance_refs.setdefault(stance, []).append(bundle.actor(actor_id))
        references = [bundle.citation(records.sources[s]) for s in appearances]
        confidence = CONFIDENCE.get(claim.confidence or "")
        bundle.add(
            "note",
            notes[claim.id],
            claim.created_at,
            claim.updated_at,
            created_by_ref=author,
            abstract=abstract(claim.text),
            content=claim.text,
            authors=[claim.claimant_as or records.actors[claim.claimant_id].name],
            # A note must refer to something: a claim about no one is about its claimant.
            object_refs=about or [bundle.actor(claim.claimant_id)],
            x_tracker_about_nobody=True if not about else None,
            x_tracker_about_as=about_as,
            labels=records.tags.get(claim.id),
            confidence=confidence,
            external_references=references,
            x_tracker_uid=claim.uid,
            x_tracker_quote=claim.quote,
            x_tracker_stated=claim.stated,
            x_tracker_credibility=claim.credibility,
            x_tracker_status=claim.status,
            x_tracker_note=claim.note,
            x_tracker_blames_refs=stance_refs.get("blames"),
            x_tracker_clears_refs=stance_refs.get("clears"),
            x_tracker_same_as_refs=stance_refs.get("same-as"),
        )
        for blamed, stance in stances:
            if stance != "blames":
                continue
            # Blame is of an incident; without one, of the claim's groups (their activity).
            origins: list[tuple[str, int | None, str]] = [
                (c, i, records.incidents[i].uid) for c, i in zip(campaigns, incidents, strict=True)
            ] or [
                (bundle.actor(g), None, records.actors[g].uid)
                for g in subjects
                if records.actors[g].kind == "group" and g != blamed
            ]
            for origin, incident_id, origin_uid in origins:
                blames.setdefault((blamed, incident_id), []).append(
                    bundle.add(
                        "relationship",
                        stix_id(
                            "relationship",
                            "attributed-to",
                            claim.uid,
                            origin_uid,
                            records.actors[blamed].uid,
                        ),
                        claim.created_at,
                        claim.updated_at,
                        created_by_ref=author,
                        relationship_type="attributed-to",
                        source_ref=origin,
                        target_ref=bundle.blamed(blamed, incident_id is not None),
                        description=claim.text,
                        confidence=confidence,
                        external_references=references,
                        # The note says it all: an importer folds this into that claim.
                        x_tracker_note_ref=notes[claim.id],
                    )
                )

    _denials(bundle, blames, notes)
    for source_id, claims in in_source.items():
        bundle.report(records.sources[source_id], claims)
    _citations(bundle)
    _verdicts(bundle, notes)
    _links(bundle, notes)
    return _finish(bundle)


def _denials(
    bundle: _Bundle, blames: dict[tuple[int, int | None], list[str]], notes: dict[int, str]
) -> None:
    """Each clearing claim: its claimant's strongly-disagree with the exported blame of that
    actor (for the claim's incidents, if it names any). With no such blame, the note's
    x_tracker_clears_refs alone records it."""
    records = bundle.records
    for claim in records.claims:
        incidents = set(records.incidents_of.get(claim.id, ()))
        for cleared, stance in records.stances.get(claim.id, ()):
            if stance != "clears":
                continue
            against = sorted(
                ref
                for (actor_id, incident_id), refs in blames.items()
                if actor_id == cleared and (not incidents or incident_id in incidents)
                for ref in refs
            )
            if not against:
                continue
            bundle.add(
                "opinion",
                stix_id("opinion", "clears", claim.uid, records.actors[cleared].uid),
                claim.created_at,
                claim.updated_at,
                created_by_ref=bundle.identity(claim.claimant_id),
                authors=[claim.claimant_as or records.actors[claim.claimant_id].name],
                opinion="strongly-disagree",
                explanation=claim.text,
                object_refs=against,
                x_tracker_note_ref=notes[claim.id],
            )


def _citations(bundle: _Bundle) -> None:
    """A source that cites another, both exported: report `derived-from` report."""
    sources = bundle.records.sources
    cited = bundle.records.grouped(
        select(SourceCitation.source_id, SourceCitation.cited_id), sources
    )
    for source_id, cited_ids in cited.items():
        source = sources[source_id]
        for target in (sources[c] for c in cited_ids if c in sources):
            bundle.add(
                "relationship",
                stix_id("relationship", "derived-from", source.uid, target.uid),
                source.created_at,
                source.updated_at,
                relationship_type="derived-from",
                source_ref=stix_id("report", source.uid),
                target_ref=stix_id("report", target.uid),
            )


def _verdicts(bundle: _Bundle, notes: dict[int, str]) -> None:
    """Every verdict in a claim's history (the newest is the current one) as an opinion."""
    table = VerdictEntry.__table__
    for chunk in _chunks(notes):
        for entry in bundle.records.conn.execute(select(table).where(table.c.claim_id.in_(chunk))):
            bundle.add(
                "opinion",
                stix_id("opinion", entry.uid),
                entry.created_at,
                entry.created_at,
                authors=[entry.reviewer] if entry.reviewer else None,
                opinion=VERDICT_OPINION[entry.verdict],
                explanation=entry.note,
                object_refs=[notes[entry.claim_id]],
                x_tracker_uid=entry.uid,
                x_tracker_verdict=entry.verdict,
            )


def _links(bundle: _Bundle, notes: dict[int, str]) -> None:
    """Links between exported claims: `related-to` (STIX has no disputes or supports between
    notes), the relation in its description and x_tracker_relation."""
    table = Link.__table__
    for chunk in _chunks(notes):
        for link in bundle.records.conn.execute(select(table).where(table.c.from_id.in_(chunk))):
            if link.to_id not in notes:
                continue
            bundle.add(
                "relationship",
                stix_id("relationship", link.uid),
                link.created_at,
                link.created_at,
                relationship_type="related-to",
                source_ref=notes[link.from_id],
                target_ref=notes[link.to_id],
                description=f"{link.relation}: {link.note}" if link.note else link.relation,
                x_tracker_uid=link.uid,
                x_tracker_relation=link.relation,
            )


def _finish(bundle: _Bundle) -> dict[str, Any]:
    objects = bundle.objects
    if objects:
        # The extension our x_tracker_* properties belong to, and the tool that defines it.
        objects[TOOL_ID] = {
            "type": "identity",
            "spec_version": SPEC,
            "id": TOOL_ID,
            "created": EXTENSION_DATE,
            "modified": EXTENSION_DATE,
            "name": "claim-tracker",
            "identity_class": "system",
        }
        objects[EXTENSION_ID] = {
            "type": "extension-definition",
            "spec_version": SPEC,
            "id": EXTENSION_ID,
            "created_by_ref": TOOL_ID,
            "created": EXTENSION_DATE,
            "modified": EXTENSION_DATE,
            "name": "claim-tracker properties",
            "description": "What a claim tracker records beyond STIX: see the tracker's "
            "docs/formats.md, section 'STIX 2.1 out'.",
            "schema": "docs/formats.md#stix-21-out",
            "version": EXTENSION_VERSION,
            "extension_types": ["toplevel-property-extension"],
            "extension_properties": list(PROPERTIES),
        }
    rank = {kind: n for n, kind in enumerate(ORDER)}
    ordered = sorted(objects.values(), key=lambda o: (rank[o["type"]], o["id"]))
    fingerprint = hashlib.sha256(
        "\n".join(f"{o['id']} {o['modified']}" for o in ordered).encode()
    ).hexdigest()
    result: dict[str, Any] = {"type": "bundle", "id": stix_id("bundle", fingerprint)}
    if ordered:  # `objects` holds "one or more" objects: with none, it is left out
        result["objects"] = ordered
    return result


# Characters JSON allows raw that would disturb a reader's terminal or editor (C1 controls,
# bidirectional controls, line separators) or could not be encoded (lone surrogates): written
# as \u escapes, the same JSON value.
_UNSAFE = re.compile(
    "[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def write_bundle(bundle: dict[str, Any], out: TextIO) -> int:
    """The bundle as JSON, one object to a line, each written as made (readable, diffable, and
    by the C encoder: indenting would take the pure-Python one, several times slower); the
    number of objects written."""
    objects = bundle.get("objects", [])
    head = json.dumps({k: v for k, v in bundle.items() if k != "objects"}, ensure_ascii=False)
    if not objects:
        out.write(head + "\n")
        return 0
    out.write(head[:-1] + ', "objects": [')
    for n, obj in enumerate(objects):
        line = _UNSAFE.sub(_escape, json.dumps(obj, ensure_ascii=False))
        out.write(("\n" if n == 0 else ",\n") + line)
    out.write("\n]}\n")
    return len(objects)


def _escape(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"
