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
from sqlalchemy.orm import Session, selectinload

from tracker.errors import InvalidInput
from tracker.models import (
    Actor,
    Appearance,
    Claim,
    Incident,
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


class _Bundle:
    """The objects being gathered, by id; an actor's objects are made on first need."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}

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

    def actor(self, actor: Actor) -> str:
        """The actor as itself: an identity, or its kind's STIX type."""
        return self._as(actor, ACTOR_TYPE.get(actor.kind, "identity"))

    def identity(self, actor: Actor) -> str:
        """The actor as an identity: what `created_by_ref` and victims must be."""
        return self._as(actor, "identity")

    def blamed(self, actor: Actor, from_campaign: bool) -> str:
        """The target of `attributed-to`: STIX suggests an intrusion-set or a threat-actor from a
        campaign, a threat-actor from an intrusion-set."""
        if from_campaign and actor.kind == "group":
            return self.actor(actor)
        return self._as(actor, "threat-actor")

    def _as(self, actor: Actor, kind: str) -> str:
        """The actor as an object of type `kind`, made once; every type carries the same name,
        description, aliases and x_tracker_uid, so an importer can fold them back together."""
        ident = stix_id(kind, actor.uid)
        if ident in self.objects:
            return ident
        typed: dict[str, Any] = {"aliases": actor.aliases}
        if kind == "identity":  # an identity has no aliases in STIX
            typed = {
                "identity_class": IDENTITY_CLASS.get(actor.kind, "unknown"),
                "sectors": SECTORS.get(actor.kind),
                "x_tracker_aliases": actor.aliases,
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

    def report(self, source: Source, claims: list[str]) -> str:
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
            created_by_ref=self.identity(source.publisher) if source.publisher else None,
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

    def campaign(self, incident: Incident) -> str:
        ident = stix_id("campaign", incident.uid)
        if ident in self.objects:
            return ident
        first = instant(incident.started) if incident.started else (None, None)
        last = instant(incident.ended) if incident.ended else (None, None)
        self.add(
            "campaign",
            ident,
            incident.created_at,
            incident.updated_at,
            name=incident.name,
            description=incident.description,
            aliases=incident.aliases,
            first_seen=first[0],
            last_seen=last[0],
            x_tracker_uid=incident.uid,
            x_tracker_kind=incident.kind,
            x_tracker_first_seen_precision=first[1],
            x_tracker_last_seen_precision=last[1],
        )
        for victim in incident.victims:
            target = self.identity(victim)
            self.add(
                "relationship",
                stix_id("relationship", "targets", incident.uid, victim.uid),
                incident.created_at,
                incident.updated_at,
                relationship_type="targets",
                source_ref=ident,
                target_ref=target,
            )
        return ident


def uri(url: str) -> str:
    """A URL as STIX's `url` properties require, an RFC 3986 URI: characters a URI may not hold
    (spaces, `<`, non-ASCII letters) percent-encoded; the rest, and existing escapes, kept."""
    return quote(url, safe="!#$%&'()*+,/:;=?@[]~")


def _citation(source: Source) -> dict[str, str]:
    """A source as an external reference (STIX needs a url, a description or an id)."""
    publisher = source.publisher.name if source.publisher else None
    said = ", ".join(p for p in (publisher, source.published) if p)
    ref = {"source_name": source.title}
    if said:
        ref["description"] = said
    if source.url:
        ref["url"] = uri(source.url)
    elif not said:
        ref["description"] = source.title
    return ref


def _claims(session: Session, filters: ClaimFilter) -> list[Claim]:
    if filters.limit is not None and filters.limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {filters.limit}")
    query = filters.apply(session, select(Claim)).order_by(Claim.id)
    if filters.limit is not None:
        query = query.limit(filters.limit)
    actor = (selectinload(Actor.names),)
    return list(
        session.scalars(
            query.options(
                selectinload(Claim.claimant).options(*actor),
                selectinload(Claim.subjects).options(*actor),
                selectinload(Claim.appearances)
                .selectinload(Appearance.source)
                .selectinload(Source.publisher)
                .options(*actor),
                selectinload(Claim.tags),
                selectinload(Claim.incidents).options(
                    selectinload(Incident.names),
                    selectinload(Incident.victims).options(*actor),
                ),
                selectinload(Claim.stances),
            )
        )
    )


def stix_bundle(session: Session, filters: ClaimFilter | None = None) -> dict[str, Any]:
    """The bundle of the claims `filters` selects and exactly the objects they need."""
    claims = _claims(session, filters or ClaimFilter())
    bundle = _Bundle()
    actors = {a.id: a for c in claims for a in (c.claimant, *c.subjects)}
    stance_actors = {s.actor_id for c in claims for s in c.stances} - set(actors)
    for chunk in _chunks(stance_actors):
        for found in session.scalars(
            select(Actor).where(Actor.id.in_(chunk)).options(selectinload(Actor.names))
        ):
            actors[found.id] = found

    notes: dict[int, str] = {c.id: stix_id("note", c.uid) for c in claims}
    in_source: dict[int, list[str]] = {}
    sources: dict[int, Source] = {}
    blames: dict[tuple[int, int | None], list[str]] = {}  # (actor, incident) -> relationships
    for claim in claims:
        author = bundle.identity(claim.claimant)
        for appearance in claim.appearances:
            sources[appearance.source_id] = appearance.source
            in_source.setdefault(appearance.source_id, []).append(notes[claim.id])
        campaigns = [bundle.campaign(i) for i in claim.incidents]
        about = [bundle.actor(a) for a in claim.subjects] + campaigns
        stances: dict[str, list[str]] = {}
        for stance in claim.stances:
            stances.setdefault(stance.stance, []).append(bundle.actor(actors[stance.actor_id]))
        references = [_citation(a.source) for a in claim.appearances]
        bundle.add(
            "note",
            notes[claim.id],
            claim.created_at,
            claim.updated_at,
            created_by_ref=author,
            abstract=abstract(claim.text),
            content=claim.text,
            authors=[claim.claimant_as or claim.claimant.name],
            # A note must refer to something: a claim about no one is about its claimant.
            object_refs=about or [bundle.actor(claim.claimant)],
            labels=[t.tag for t in claim.tags],
            confidence=CONFIDENCE.get(claim.confidence or ""),
            external_references=references,
            x_tracker_uid=claim.uid,
            x_tracker_quote=claim.quote,
            x_tracker_stated=claim.stated,
            x_tracker_credibility=claim.credibility,
            x_tracker_status=claim.status,
            x_tracker_note=claim.note,
            x_tracker_blames_refs=stances.get("blames"),
            x_tracker_clears_refs=stances.get("clears"),
            x_tracker_same_as_refs=stances.get("same-as"),
        )
        for stance in claim.stances:
            if stance.stance != "blames":
                continue
            blamed = actors[stance.actor_id]
            # Blame is of an incident; without one, of the claim's groups (their activity).
            origins: list[tuple[str, int | None, str]] = [
                (c, i.id, i.uid) for c, i in zip(campaigns, claim.incidents, strict=True)
            ] or [
                (bundle.actor(g), None, g.uid)
                for g in claim.subjects
                if g.kind == "group" and g.id != blamed.id
            ]
            for origin, incident_id, origin_uid in origins:
                blames.setdefault((blamed.id, incident_id), []).append(
                    bundle.add(
                        "relationship",
                        stix_id("relationship", "attributed-to", claim.uid, origin_uid, blamed.uid),
                        claim.created_at,
                        claim.updated_at,
                        created_by_ref=author,
                        relationship_type="attributed-to",
                        source_ref=origin,
                        target_ref=bundle.blamed(blamed, incident_id is not None),
                        description=claim.text,
                        confidence=CONFIDENCE.get(claim.confidence or ""),
                        external_references=references,
                    )
                )

    _denials(bundle, claims, actors, blames)
    for source_id, source in sources.items():
        bundle.report(source, in_source[source_id])
    _citations(session, bundle, sources)
    _verdicts(session, bundle, notes)
    _links(session, bundle, notes)
    return _finish(bundle)


def _denials(
    bundle: _Bundle,
    claims: list[Claim],
    actors: dict[int, Actor],
    blames: dict[tuple[int, int | None], list[str]],
) -> None:
    """Each clearing claim: its claimant's strongly-disagree with the exported blame of that
    actor (for the claim's incidents, if it names any). With no such blame, the note's
    x_tracker_clears_refs alone records it."""
    for claim in claims:
        incidents = {i.id for i in claim.incidents}
        for stance in claim.stances:
            if stance.stance != "clears":
                continue
            cleared = actors[stance.actor_id]
            against = sorted(
                ref
                for (actor_id, incident_id), refs in blames.items()
                if actor_id == cleared.id and (not incidents or incident_id in incidents)
                for ref in refs
            )
            if not against:
                continue
            bundle.add(
                "opinion",
                stix_id("opinion", "clears", claim.uid, cleared.uid),
                claim.created_at,
                claim.updated_at,
                created_by_ref=bundle.identity(claim.claimant),
                authors=[claim.claimant_as or claim.claimant.name],
                opinion="strongly-disagree",
                explanation=claim.text,
                object_refs=against,
            )


def _citations(session: Session, bundle: _Bundle, sources: dict[int, Source]) -> None:
    """A source that cites another, both exported: report `derived-from` report."""
    for chunk in _chunks(sources):
        for source_id, cited_id in session.execute(
            select(SourceCitation.source_id, SourceCitation.cited_id).where(
                SourceCitation.source_id.in_(chunk)
            )
        ):
            if cited_id not in sources:
                continue
            source, cited = sources[source_id], sources[cited_id]
            bundle.add(
                "relationship",
                stix_id("relationship", "derived-from", source.uid, cited.uid),
                source.created_at,
                source.updated_at,
                relationship_type="derived-from",
                source_ref=stix_id("report", source.uid),
                target_ref=stix_id("report", cited.uid),
            )


def _verdicts(session: Session, bundle: _Bundle, notes: dict[int, str]) -> None:
    """Every verdict in a claim's history (the newest is the current one) as an opinion."""
    for chunk in _chunks(notes):
        for entry in session.scalars(select(VerdictEntry).where(VerdictEntry.claim_id.in_(chunk))):
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


def _links(session: Session, bundle: _Bundle, notes: dict[int, str]) -> None:
    """Links between exported claims: `related-to` (STIX has no disputes or supports between
    notes), the relation in its description and x_tracker_relation."""
    for chunk in _chunks(notes):
        for link in session.scalars(select(Link).where(Link.from_id.in_(chunk))):
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
    """The bundle as indented JSON; the number of objects written."""
    text = json.dumps(bundle, ensure_ascii=False, indent=2)
    out.write(_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
    return len(bundle.get("objects", ()))
