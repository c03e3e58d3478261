"""Claims: recording, editing, linking, rating and deleting them, each change in the history."""

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker import vocab
from tracker.dates import parse_optional_date
from tracker.errors import Conflict, InvalidInput, NotFound
from tracker.models import (
    Appearance,
    Claim,
    ClaimStance,
    ClaimSubject,
    ClaimTag,
    HistoryEntry,
    Link,
    Source,
    VerdictEntry,
    now,
)
from tracker.services import identity, tree
from tracker.services.actors import resolve_actor, resolve_actor_as
from tracker.services.common import parse_id
from tracker.services.editing import Editable
from tracker.services.evidence import evidence_record
from tracker.services.history import as_dict, changed, current_user, record
from tracker.services.sources import citation_chain, resolve_source, source_brief
from tracker.text import MAX_NOTE, MAX_TEXT, claim_key, clean, clean_optional, clean_tag
from tracker.vocab import CREDIBILITY_MEANING, Relation, Stance, Status, Verdict


def text_hash(text: str) -> str:
    return hashlib.sha256(claim_key(text).encode()).hexdigest()


def resolve_claim(session: Session, ref: str | int) -> Claim:
    ident = parse_id(ref)
    if ident is not None:
        claim = session.get(Claim, ident)
    else:
        claim = session.scalar(select(Claim).where(Claim.uid == str(ref).strip().lower()))
    if claim is None:
        deleted = ident is not None and session.scalar(
            select(HistoryEntry.id).where(
                HistoryEntry.entity == "claim",
                HistoryEntry.entity_id == ident,
                HistoryEntry.action == "deleted",
            )
        )
        what = "was deleted (see 'tracker claim history')" if deleted else "does not exist"
        raise NotFound(f"claim {str(ref).strip()!r} {what}")
    return claim


def _check_unique(session: Session, claimant_id: int, digest: str, exclude: int | None) -> None:
    query = select(Claim.id).where(Claim.claimant_id == claimant_id, Claim.text_hash == digest)
    if exclude is not None:
        query = query.where(Claim.id != exclude)
    with session.no_autoflush:  # check before the edit reaches the unique index
        existing = session.scalar(query)
    if existing is not None:
        raise Conflict(f"this claimant already made this claim: #{existing}")


def _add_sources(session: Session, claim: Claim, refs: Iterable[str]) -> list[str]:
    added = []
    present = {a.source_id for a in claim.appearances}
    position = max((a.position for a in claim.appearances), default=-1)
    for ref in refs:
        source = resolve_source(session, ref, create=True)
        if source.id in present:
            continue
        position += 1
        claim.appearances.append(Appearance(source_id=source.id, position=position))
        present.add(source.id)
        added.append(source.title)
    return added


def _add_subjects(session: Session, claim: Claim, refs: Iterable[str]) -> list[str]:
    added = []
    named_as: dict[int, str] = {}
    for ref in refs:
        actor, given_as = resolve_actor_as(session, ref, create=True)
        if actor not in claim.subjects:
            claim.subjects.append(actor)
            added.append(actor.name)
            if given_as:
                named_as[actor.id] = given_as
    if named_as:
        session.flush()
        for actor_id, given_as in named_as.items():
            session.execute(
                update(ClaimSubject)
                .where(ClaimSubject.claim_id == claim.id, ClaimSubject.actor_id == actor_id)
                .values(as_name=given_as)
            )
    return added


def _add_tags(claim: Claim, tags: Iterable[str]) -> list[str]:
    added = []
    present = {t.tag for t in claim.tags}
    for raw in tags:
        tag = clean_tag(raw)
        if tag not in present:
            claim.tags.append(ClaimTag(tag=tag))
            present.add(tag)
            added.append(tag)
    return added


def _add_incidents(session: Session, claim: Claim, refs: Iterable[str]) -> list[str]:
    from tracker.services.incidents import resolve_incident

    added = []
    for ref in refs:
        incident = resolve_incident(session, ref, create=True)
        if incident not in claim.incidents:
            claim.incidents.append(incident)
            added.append(incident.name)
    return added


def _remove_incidents(session: Session, claim: Claim, refs: Iterable[str]) -> None:
    from tracker.services.incidents import resolve_incident

    for ref in refs:
        incident = resolve_incident(session, ref)
        if incident not in claim.incidents:
            raise NotFound(f"claim #{claim.id} does not concern incident {incident.name!r}")
        claim.incidents.remove(incident)


def _stance_adder(stance: Stance) -> "_ListEdit":
    """Add actors the claim blames, clears or equates: each also becomes a subject of the
    claim, and an actor holds one stance per claim (blamed and cleared at once is refused)."""

    def add(session: Session, claim: Claim, refs: Iterable[str]) -> list[str]:
        added = []
        for ref in refs:
            actor = resolve_actor(session, ref, create=True)
            held = next((st for st in claim.stances if st.actor_id == actor.id), None)
            if held is not None:
                if held.stance == stance.value:
                    continue
                raise Conflict(
                    f"the claim cannot both {_verb(held.stance)} and {_verb(stance.value)} "
                    f"{actor.name!r}"
                )
            claim.stances.append(ClaimStance(actor_id=actor.id, stance=stance.value))
            if actor not in claim.subjects:
                _add_subjects(session, claim, [ref])
            added.append(actor.name)
        return added

    return add


def _stance_remover(stance: Stance) -> "_ListEdit":
    def remove(session: Session, claim: Claim, refs: Iterable[str]) -> None:
        for ref in refs:
            actor = resolve_actor(session, ref)
            held = next(
                (s for s in claim.stances if s.actor_id == actor.id and s.stance == stance),
                None,
            )
            if held is None:
                raise NotFound(f"claim #{claim.id} does not {_verb(stance.value)} {actor.name!r}")
            claim.stances.remove(held)

    return remove


def _verb(stance: str) -> str:
    return {"blames": "blame", "clears": "clear", "same-as": "equate"}.get(stance, stance)


def _stance_names(claim: Claim, stance: Stance) -> list[str]:
    names = {a.id: a.name for a in claim.subjects}
    return [names.get(s.actor_id, f"#{s.actor_id}") for s in claim.stances if s.stance == stance]


def _check_stances(claim: Claim) -> None:
    """What must hold once a claim's stances are set: a sameness claim names at least two
    actors and nothing else of responsibility."""
    kinds = {s.stance for s in claim.stances}
    same = [s for s in claim.stances if s.stance == Stance.same_as]
    if same and len(same) < 2:
        raise InvalidInput("--same-as needs at least two actors: the claim says they are one")
    if same and kinds - {Stance.same_as.value}:
        raise InvalidInput(
            "a claim that actors are the same cannot also blame or clear: record that as "
            "another claim"
        )


def add_claim(
    session: Session,
    text: str,
    *,
    by: str,
    sources: Sequence[str] = (),
    quote: str | None = None,
    about: Sequence[str] = (),
    stated: str | None = None,
    tags: Sequence[str] = (),
    credibility_grade: int | str | None = None,
    note: str | None = None,
    new: bool = False,
    incidents: Sequence[str] = (),
    blames: Sequence[str] = (),
    clears: Sequence[str] = (),
    same_as: Sequence[str] = (),
    confidence: str | None = None,
) -> Claim:
    """Record a claim. Names nobody has are created (see `identity`); with `new`, even those
    that resemble known ones. A claimant or subject named by an alias keeps that alias.

    `incidents`: what the claim concerns; `blames` / `clears`: actors it holds responsible or
    not (they are also its subjects); `same_as`: actors it says are one; `confidence`: the
    confidence the claimant states (low, moderate, high)."""
    identity.allow_new(session, new)
    text = clean(text, "claim text", limit=MAX_TEXT)
    claim = Claim(
        text=text,
        text_hash=text_hash(text),
        quote=clean_optional(quote, "quote", limit=MAX_TEXT),
        stated=parse_optional_date(stated, "date stated"),
        note=clean_optional(note, "note", limit=MAX_NOTE),
        credibility=vocab.credibility(credibility_grade),
        confidence=vocab.confidence(confidence),
        status=Status.unreviewed.value,
    )
    claimant, claim.claimant_as = resolve_actor_as(session, by, create=True)
    _check_unique(session, claimant.id, claim.text_hash, None)
    claim.claimant = claimant
    session.add(claim)
    _add_sources(session, claim, sources)
    _add_subjects(session, claim, about)
    _add_tags(claim, tags)
    _add_incidents(session, claim, incidents)
    for stance, refs in (
        (Stance.blames, blames),
        (Stance.clears, clears),
        (Stance.same_as, same_as),
    ):
        _stance_adder(stance)(session, claim, refs)
    _check_stances(claim)
    session.flush()
    record(session, "claim", claim.id, "created", snapshot(claim))
    return claim


def snapshot(claim: Claim) -> dict[str, Any]:
    """The claim's recorded fields, as the history keeps them."""
    return {
        "uid": claim.uid,
        "text": claim.text,
        "quote": claim.quote,
        "claimant": claim.claimant.name,
        "claimant_as": claim.claimant_as,
        "about": [a.name for a in claim.subjects],
        "sources": [a.source.title for a in claim.appearances],
        "stated": claim.stated,
        "tags": [t.tag for t in claim.tags],
        "credibility": claim.credibility,
        "status": claim.status,
        "verdict": claim.verdict,
        "note": claim.note,
        "incidents": [i.name for i in claim.incidents],
        "blames": _stance_names(claim, Stance.blames),
        "clears": _stance_names(claim, Stance.clears),
        "same_as": _stance_names(claim, Stance.same_as),
        "confidence": claim.confidence,
    }


# How `claim edit` reads each scalar field: the value given -> the value stored ('' clears an
# optional field). Adding a field to `claim edit` is one entry here (or in _LISTS).
_SCALARS: dict[str, Callable[[Session, Any], Any]] = {
    "text": lambda _s, v: clean(v, "claim text", limit=MAX_TEXT),
    "claimant": lambda s, v: resolve_actor(s, v, create=True),  # see EDITABLE
    "quote": lambda _s, v: clean_optional(v, "quote", limit=MAX_TEXT),
    "stated": lambda _s, v: parse_optional_date(v, "date stated"),
    "note": lambda _s, v: clean_optional(v, "note", limit=MAX_NOTE),
    "credibility": lambda _s, v: vocab.credibility(v),
    "status": lambda _s, v: vocab.status(v),
    "confidence": lambda _s, v: vocab.confidence(v),
}


def _remove_sources(session: Session, claim: Claim, refs: Iterable[str]) -> None:
    for ref in refs:
        source = resolve_source(session, ref)
        found = next((a for a in claim.appearances if a.source_id == source.id), None)
        if found is None:
            raise NotFound(f"claim #{claim.id} does not appear in source #{source.id}")
        claim.appearances.remove(found)


def _remove_subjects(session: Session, claim: Claim, refs: Iterable[str]) -> None:
    for ref in refs:
        actor = resolve_actor(session, ref)
        if actor not in claim.subjects:
            raise NotFound(f"claim #{claim.id} is not about {actor.name!r}")
        held = next((s for s in claim.stances if s.actor_id == actor.id), None)
        if held is not None:
            raise Conflict(
                f"claim #{claim.id} {held.stance} {actor.name!r}: remove that first "
                f"(--remove-{held.stance})"
            )
        claim.subjects.remove(actor)


def _remove_tags(_session: Session, claim: Claim, raws: Iterable[str]) -> None:
    for raw in raws:
        tag = clean_tag(raw)
        found = next((t for t in claim.tags if t.tag == tag), None)
        if found is None:
            raise NotFound(f"claim #{claim.id} has no tag {tag!r}")
        claim.tags.remove(found)


_ListEdit = Callable[[Session, Claim, Iterable[str]], Any]
# Each list field's (add, remove), both given the references as typed: adding a value already
# there is skipped; removing one that is absent is an error.
_LISTS: dict[str, tuple[_ListEdit, _ListEdit]] = {
    "sources": (_add_sources, _remove_sources),
    "about": (_add_subjects, _remove_subjects),
    "tags": (lambda _s, claim, raws: _add_tags(claim, raws), _remove_tags),
    "incidents": (_add_incidents, _remove_incidents),
    "blames": (_stance_adder(Stance.blames), _stance_remover(Stance.blames)),
    "clears": (_stance_adder(Stance.clears), _stance_remover(Stance.clears)),
    "same_as": (_stance_adder(Stance.same_as), _stance_remover(Stance.same_as)),
}


def _editable(claim: Claim) -> dict[str, Any]:
    state = snapshot(claim)
    return {key: state[key] for key in (*_SCALARS, *_LISTS)}


def _set_text(_session: Session, claim: Claim, text: str) -> None:
    claim.text, claim.text_hash = text, text_hash(text)


def _set_claimant(session: Session, claim: Claim, claimant: Any) -> None:
    actor, given_as = claimant
    # The alias it is now attributed under, if any (evidence).
    claim.claimant, claim.claimant_as = actor, given_as


EDITABLE = Editable(
    "claim",
    scalars={
        **_SCALARS,
        "claimant": lambda s, v: resolve_actor_as(s, v, create=True),
    },
    lists=_LISTS,
    state=_editable,
    setters={"text": _set_text, "claimant": _set_claimant},
)


def edit_claim(
    session: Session,
    ref: str,
    *,
    fields: Mapping[str, Any] | None = None,
    add: Mapping[str, Sequence[str]] | None = None,
    remove: Mapping[str, Sequence[str]] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Change a claim: `fields` sets scalars (see _SCALARS; None leaves one as it is), `add` and
    `remove` change list fields (see _LISTS). Returns the claim's id and the changes recorded in
    its history, in the history's format (tracker.services.history); an edit that changes
    nothing records nothing and returns no changes.
    """
    claim = resolve_claim(session, ref)

    def unique(new: dict[str, Any]) -> None:
        # Checked before anything changes: the edit must not make a second copy of a claim.
        claimant = new["claimant"][0] if "claimant" in new else claim.claimant
        digest = text_hash(new.get("text", claim.text))
        if claimant.id != claim.claimant_id or digest != claim.text_hash:
            _check_unique(session, claimant.id, digest, claim.id)

    # Stances first: an actor stops being a subject only once the claim holds no stance on it.
    stances = ("blames", "clears", "same_as")
    ordered = dict(sorted((remove or {}).items(), key=lambda item: item[0] not in stances))
    changes = EDITABLE.edit(
        session, claim, fields, add, ordered, check=unique, after=_check_stances
    )
    return claim.id, changes


def _links_of(session: Session, claim_id: int) -> list[Link]:
    return list(
        session.scalars(
            select(Link)
            .where(or_(Link.from_id == claim_id, Link.to_id == claim_id))
            .order_by(Link.id)
        )
    )


def deletion_preview(session: Session, ref: str, *, force: bool = False) -> list[str]:
    """What deleting the claim removes with it, one line each, for the user to see first
    (refused as `delete_claim` would refuse it)."""
    claim = resolve_claim(session, ref)
    _refuse_if_linked(session, claim, force)
    lines = [f"deleting claim #{claim.id} by {claim.claimant.name}: {claim.text[:80]}"]
    for link in _links_of(session, claim.id):
        lines.append(f"  removes the link #{link.from_id} {link.relation} #{link.to_id}")
    verdicts = session.scalars(select(VerdictEntry.id).where(VerdictEntry.claim_id == claim.id))
    if n := len(verdicts.all()):
        lines.append(f"  removes {n} verdict(s) (kept in its history)")
    if claim.appearances:
        lines.append(f"  removes its {len(claim.appearances)} appearance(s) in sources")
    return lines


def delete_claim(session: Session, ref: str, *, force: bool = False) -> int:
    """Delete a claim; its snapshot stays in the history. Refused while others link to it."""
    claim = resolve_claim(session, ref)
    _refuse_if_linked(session, claim, force)
    links = _links_of(session, claim.id)
    for link in links:
        other = link.from_id if link.to_id == claim.id else link.to_id
        record(session, "claim", other, "unlinked", _link_change(link, "deleted claim"))
    state = snapshot(claim)
    state["links"] = [_link_change(link) for link in links]
    state["verdicts"] = [
        {
            "verdict": v.verdict,
            "reviewer": v.reviewer,
            "note": v.note,
            "at": v.created_at.isoformat(),
        }
        for v in session.scalars(
            select(VerdictEntry).where(VerdictEntry.claim_id == claim.id).order_by(VerdictEntry.id)
        )
    ]
    claim_id = claim.id
    session.delete(claim)
    session.flush()
    record(session, "claim", claim_id, "deleted", state)
    return claim_id


def _refuse_if_linked(session: Session, claim: Claim, force: bool) -> None:
    incoming = [link for link in _links_of(session, claim.id) if link.to_id == claim.id]
    if incoming and not force:
        listed = ", ".join(f"#{link.from_id} {link.relation}" for link in incoming)
        raise Conflict(
            f"claim #{claim.id} is linked from other claims ({listed}); unlink them or use --force"
        )


def _link_change(link: Link, reason: str | None = None) -> dict[str, Any]:
    change: dict[str, Any] = {
        "from": link.from_id,
        "relation": link.relation,
        "to": link.to_id,
        "note": link.note,
    }
    if reason:
        change["reason"] = reason
    return change


def link_claims(
    session: Session, ref: str, relation: Relation | str, other_ref: str, note: str | None = None
) -> Link:
    """Record `ref <relation> other_ref`, e.g. China's denial (3) disputes Mandiant's claim (1)."""
    relation = Relation(vocab.relation(relation))
    claim = resolve_claim(session, ref)
    other = resolve_claim(session, other_ref)
    if claim.id == other.id:
        raise Conflict(
            f"a claim cannot be linked to itself (#{claim.id} {relation.value} #{other.id})"
        )
    existing = session.scalar(
        select(Link).where(
            Link.from_id == claim.id, Link.relation == relation.value, Link.to_id == other.id
        )
    )
    if existing is not None:
        raise Conflict(f"claim #{claim.id} already {relation.value} #{other.id}")
    link = Link(
        from_id=claim.id,
        relation=relation.value,
        to_id=other.id,
        note=clean_optional(note, "note", limit=MAX_NOTE),
    )
    session.add(link)
    session.flush()
    change = _link_change(link)
    record(session, "claim", claim.id, "linked", change)
    record(session, "claim", other.id, "linked", change)
    return link


def unlink_claims(session: Session, ref: str, relation: Relation | str, other_ref: str) -> None:
    relation = Relation(vocab.relation(relation))
    claim = resolve_claim(session, ref)
    other = resolve_claim(session, other_ref)
    link = session.scalar(
        select(Link).where(
            Link.from_id == claim.id, Link.relation == relation.value, Link.to_id == other.id
        )
    )
    if link is None:
        raise NotFound(f"there is no link #{claim.id} {relation.value} #{other.id}")
    change = _link_change(link)
    session.delete(link)
    record(session, "claim", claim.id, "unlinked", change)
    record(session, "claim", other.id, "unlinked", change)


def rate_claim(
    session: Session,
    ref: str,
    verdict: Verdict | str,
    *,
    note: str | None = None,
    reviewer: str | None = None,
) -> VerdictEntry:
    """Add a verdict; it becomes the claim's current one and the claim counts as reviewed.

    The reviewer (also the history entry's author) is `reviewer`, else TRACKER_USER, else the
    login name.
    """
    verdict = Verdict(vocab.verdict(verdict))
    claim = resolve_claim(session, ref)
    reviewer = current_user(reviewer)
    entry = VerdictEntry(
        claim_id=claim.id,
        verdict=verdict.value,
        reviewer=reviewer,
        note=clean_optional(note, "note", limit=MAX_NOTE),
    )
    session.add(entry)
    changes: dict[str, Any] = {"verdict": changed(claim.verdict, verdict.value)}
    if claim.status != Status.reviewed:
        changes["status"] = changed(claim.status, Status.reviewed.value)
        claim.status = Status.reviewed.value
    changes["reason"] = entry.note
    changes["reviewer"] = reviewer
    claim.verdict = verdict.value
    claim.updated_at = now()
    session.flush()
    record(session, "claim", claim.id, "rated", changes, by=reviewer)
    return entry


def claim_history(session: Session, ref: str) -> list[dict[str, Any]]:
    """Every recorded change to the claim, oldest first; works for deleted claims too."""
    ident = parse_id(ref)
    if ident is None:
        ident = _id_from_uid(session, str(ref).strip().lower())
    entries = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == "claim", HistoryEntry.entity_id == ident)
        .order_by(HistoryEntry.id)
    ).all()
    if not entries:
        resolve_claim(session, ident)  # raises the right "no such claim" message
    return [as_dict(e) for e in entries]


def _id_from_uid(session: Session, uid: str) -> int:
    """The id of a claim by its uid, also once deleted (its snapshot in the history keeps it)."""
    found = session.scalar(select(Claim.id).where(Claim.uid == uid))
    if found is not None:
        return found
    for entry in session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == "claim", HistoryEntry.action == "deleted")
    ):
        if entry.changes.get("uid") == uid:
            return entry.entity_id
    raise NotFound(f"claim {uid!r} does not exist")


def _claim_brief(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "text": claim.text,
        "claimant": claim.claimant.name,
        "verdict": claim.verdict,
    }


def stance_record(conn: Any, claim: Claim) -> dict[str, Any]:
    """The claim's incidents and stances, with what they amount to: clearing the claimant
    (itself, a part of it or what it is part of) is a denial; blaming it, a claim of
    responsibility."""
    names = {a.id: a.name for a in claim.subjects}
    line = tree.wholes(conn, [claim.claimant_id])[claim.claimant_id]
    line |= tree.parts(conn, [claim.claimant_id])[claim.claimant_id]

    def actors(stance: Stance) -> list[dict[str, Any]]:
        return [
            {"id": s.actor_id, "name": names.get(s.actor_id), "self": s.actor_id in line}
            for s in claim.stances
            if s.stance == stance
        ]

    blames, clears = actors(Stance.blames), actors(Stance.clears)
    return {
        "incidents": [{"id": i.id, "name": i.name} for i in claim.incidents],
        "blames": blames,
        "clears": clears,
        "same_as": actors(Stance.same_as),
        "denial": any(a["self"] for a in clears),
        "claim_of_responsibility": any(a["self"] for a in blames),
    }


def claim_dossier(session: Session, ref: str) -> dict[str, Any]:
    """Everything known about one claim: who, what, where, about whom, who agrees or disputes."""
    claim = resolve_claim(session, ref)
    claim = session.scalars(
        select(Claim)
        .where(Claim.id == claim.id)
        .options(
            joinedload(Claim.claimant),
            selectinload(Claim.subjects),
            selectinload(Claim.tags),
            selectinload(Claim.appearances)
            .joinedload(Appearance.source)
            .joinedload(Source.publisher),
        )
    ).one()
    sources = []
    for index, appearance in enumerate(claim.appearances):
        item = source_brief(appearance.source)
        item["first"] = index == 0
        item["chain"] = citation_chain(session, appearance.source.id)
        sources.append(item)
    links = session.scalars(
        select(Link).where(or_(Link.from_id == claim.id, Link.to_id == claim.id)).order_by(Link.id)
    ).all()
    others = {
        c.id: c
        for c in session.scalars(
            select(Claim)
            .options(joinedload(Claim.claimant))
            .where(Claim.id.in_({lk.from_id for lk in links} | {lk.to_id for lk in links}))
        )
    }
    outgoing = [
        {"relation": lk.relation, **_claim_brief(others[lk.to_id]), "note": lk.note}
        for lk in links
        if lk.from_id == claim.id
    ]
    incoming = [
        {"relation": lk.relation, **_claim_brief(others[lk.from_id]), "note": lk.note}
        for lk in links
        if lk.to_id == claim.id
    ]
    verdicts = session.scalars(
        select(VerdictEntry).where(VerdictEntry.claim_id == claim.id).order_by(VerdictEntry.id)
    ).all()
    named_as = dict(
        session.execute(
            select(ClaimSubject.actor_id, ClaimSubject.as_name).where(
                ClaimSubject.claim_id == claim.id, ClaimSubject.as_name.is_not(None)
            )
        ).all()
    )
    conn = session.connection()
    return {
        "id": claim.id,
        "uid": claim.uid,
        "text": claim.text,
        "quote": claim.quote,
        "claimant": {
            "id": claim.claimant.id,
            "name": claim.claimant.name,
            "as": claim.claimant_as,
        },
        "about": [{"id": a.id, "name": a.name, "as": named_as.get(a.id)} for a in claim.subjects],
        "stated": claim.stated,
        "tags": [t.tag for t in claim.tags],
        "credibility": claim.credibility,
        "credibility_meaning": CREDIBILITY_MEANING.get(claim.credibility or 0),
        "confidence": claim.confidence,
        **stance_record(conn, claim),
        "status": claim.status,
        "verdict": claim.verdict,
        "note": claim.note,
        "sources": sources,
        "links_out": outgoing,
        "links_in": incoming,
        "verdicts": [
            {
                "verdict": v.verdict,
                "reviewer": v.reviewer,
                "note": v.note,
                "at": v.created_at.isoformat(),
            }
            for v in verdicts
        ],
        "evidence": evidence_record(conn, claim.id, claim.claimant_id),
        "history": claim_history(session, str(claim.id)),
        "created_at": claim.created_at.isoformat(),
        "updated_at": claim.updated_at.isoformat(),
    }
