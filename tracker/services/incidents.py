"""Incidents: what happened (an intrusion, a leak, an influence operation), beside the actors
blamed for it. Names resolve exactly as actors' do (tracker.services.identity)."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import vocab
from tracker.dates import parse_optional_date
from tracker.errors import Conflict, InvalidInput, NotFound
from tracker.models import ClaimIncident, Incident, IncidentName
from tracker.services import identity, merging
from tracker.services.actors import resolve_actor
from tracker.services.common import notify, parse_id, record
from tracker.text import MAX_NOTE, clean_actor_name, clean_optional, name_key
from tracker.vocab import IncidentKind


def resolve_incident_as(
    session: Session, ref: str | int, *, create: bool = False
) -> tuple[Incident, str | None]:
    """An incident by id, name or alias, and the alias it was named by. With `create`, a name
    nobody has is added unless it resembles a known one (refused with the candidates)."""
    ident = parse_id(ref)
    if ident is not None:
        incident = session.get(Incident, ident)
        if incident is None:
            raise NotFound(f"no incident with id {ref}")
        return incident, None
    directory = identity.incidents(session)
    before = len(directory.created)
    incident_id, given_as = directory.resolve(str(ref), create=create)
    incident = session.get(Incident, incident_id)
    assert incident is not None
    if len(directory.created) > before:
        notify(session, f"created incident {incident.name!r} (#{incident.id})")
    return incident, given_as


def resolve_incident(session: Session, ref: str | int, *, create: bool = False) -> Incident:
    return resolve_incident_as(session, ref, create=create)[0]


def _dates(started: str | None, ended: str | None) -> tuple[str | None, str | None]:
    if started and ended and ended + "-99" < started:
        raise InvalidInput(f"the incident cannot end ({ended}) before it began ({started})")
    return started, ended


def add_incident(
    session: Session,
    name: str,
    *,
    kind: IncidentKind | str | None = None,
    aliases: Sequence[str] = (),
    started: str | None = None,
    ended: str | None = None,
    victims: Sequence[str] = (),
    description: str | None = None,
    new: bool = False,
) -> Incident:
    """Add an incident. A name like a known one is refused with the candidates unless `new`."""
    name = clean_actor_name(name, "incident name")
    aliases = [clean_actor_name(a, "alias") for a in aliases]
    begun, until = _dates(
        parse_optional_date(started, "--date"), parse_optional_date(ended, "--until")
    )
    identity.allow_new(session, new)
    directory = identity.incidents(session)
    directory.check_name(name, primary=True)
    directory.check_new(name, strict=True, new=new, explicit=True)
    ident = directory.create(
        name,
        kind=vocab.incident_kind(kind),
        started=begun,
        ended=until,
        description=clean_optional(description, "description", limit=MAX_NOTE),
        aliases=aliases,
    )
    incident = session.get(Incident, ident)
    assert incident is not None
    added = _add_victims(session, incident, victims)
    if added:
        record(session, "incident", incident.id, "edited", {"victims": {"added": added}})
    return incident


def _add_victims(session: Session, incident: Incident, refs: Iterable[str]) -> list[str]:
    added = []
    for ref in refs:
        actor = resolve_actor(session, ref, create=True)
        if actor not in incident.victims:
            incident.victims.append(actor)
            added.append(actor.name)
    session.flush()
    return added


def edit_incident(
    session: Session,
    ref: str,
    *,
    name: str | None = None,
    kind: IncidentKind | str | None = None,
    started: str | None = None,
    ended: str | None = None,
    description: str | None = None,
    add_aliases: Iterable[str] = (),
    remove_aliases: Iterable[str] = (),
    add_victims: Iterable[str] = (),
    remove_victims: Iterable[str] = (),
) -> tuple[Incident, dict[str, Any]]:
    """Change an incident ('' clears an optional field); returns it and the changes recorded."""
    from tracker.services.history import changed, listed

    incident = resolve_incident(session, ref)
    changes: dict[str, Any] = {}
    directory = identity.incidents(session)
    if name is not None:
        name = clean_actor_name(name, "incident name")
        if name != incident.name:
            primary = next(n for n in incident.names if n.is_primary)
            if name_key(name) != primary.key:
                directory.check_name(name, primary=True, actor_id=incident.id)
                # The old name stays findable: it becomes an alias.
                primary.is_primary = False
                own = next((n for n in incident.names if n.key == name_key(name)), None)
                if own is None:
                    own = IncidentName(name=name, key=name_key(name))
                    incident.names.append(own)
                own.is_primary, own.name = True, name
            else:
                primary.name = name
            changes["name"] = changed(incident.name, name)
            incident.name = name
    new: dict[str, Any] = {}
    if kind is not None:
        new["kind"] = vocab.incident_kind(kind)
    if started is not None:
        new["started"] = parse_optional_date(started, "--date")
    if ended is not None:
        new["ended"] = parse_optional_date(ended, "--until")
    if description is not None:
        new["description"] = clean_optional(description, "description", limit=MAX_NOTE)
    _dates(new.get("started", incident.started), new.get("ended", incident.ended))
    for key, value in new.items():
        if getattr(incident, key) != value:
            changes[key] = changed(getattr(incident, key), value)
            setattr(incident, key, value)
    added_aliases, removed_aliases = [], []
    for alias in add_aliases:
        alias = clean_actor_name(alias, "alias")
        if name_key(alias) in {n.key for n in incident.names}:
            continue
        shared = directory.check_name(alias, primary=False, actor_id=incident.id)
        if shared:
            notify(session, f"the alias {alias!r} is also one of incident {', '.join(shared)}")
        incident.names.append(IncidentName(name=alias, key=name_key(alias), is_primary=False))
        added_aliases.append(alias)
    for alias in remove_aliases:
        entry = next(
            (n for n in incident.names if n.key == name_key(alias) and not n.is_primary), None
        )
        if entry is None:
            raise NotFound(f"incident {incident.name!r} has no alias {alias!r}")
        incident.names.remove(entry)
        removed_aliases.append(entry.name)
    if added_aliases or removed_aliases:
        changes["aliases"] = listed(added_aliases, removed_aliases)
    gone = []
    for ref_ in remove_victims:
        actor = resolve_actor(session, ref_)
        if actor not in incident.victims:
            raise NotFound(f"{actor.name!r} is not a victim of incident {incident.name!r}")
        incident.victims.remove(actor)
        gone.append(actor.name)
    added = _add_victims(session, incident, add_victims)
    if added or gone:
        changes["victims"] = listed(added, gone)
    if changes:
        session.flush()
        record(session, "incident", incident.id, "edited", changes)
    return incident, changes


def plan_merge(session: Session, keep_ref: str, other_ref: str) -> merging.Plan:
    """What folding OTHER into KEEP would change: see `merging`."""
    keep = resolve_incident(session, keep_ref)
    other = resolve_incident(session, other_ref)
    if keep.id == other.id:
        raise Conflict(f"cannot merge incident {keep.name!r} (#{keep.id}) into itself")
    return merging.plan_merge(session.connection(), "incident", keep.id, other.id)


def unmerge_incident(session: Session, ident: str) -> Incident:
    number = parse_id(ident)
    if number is None:
        raise InvalidInput(
            f"give the id of the merged incident (as 'incident history' shows it), not {ident!r}"
        )
    restored = merging.unmerge(session, "incident", number)
    incident = session.get(Incident, restored["id"])
    assert incident is not None
    return incident


def list_incidents(session: Session) -> list[dict[str, Any]]:
    claims = (
        select(ClaimIncident.incident_id, func.count().label("n"))
        .group_by(ClaimIncident.incident_id)
        .subquery()
    )
    rows = session.execute(
        select(Incident, func.coalesce(claims.c.n, 0))
        .outerjoin(claims, claims.c.incident_id == Incident.id)
        .order_by(Incident.started.is_(None), Incident.started, Incident.name, Incident.id)
    ).all()
    return [
        {
            "id": incident.id,
            "name": incident.name,
            "kind": incident.kind,
            "started": incident.started,
            "ended": incident.ended,
            "aliases": incident.aliases,
            "claims": n,
        }
        for incident, n in rows
    ]


def incident_record(session: Session, ref: str) -> dict[str, Any]:
    incident = resolve_incident(session, ref)
    claims = session.scalars(
        select(ClaimIncident.claim_id)
        .where(ClaimIncident.incident_id == incident.id)
        .order_by(ClaimIncident.claim_id)
    ).all()
    return {
        "id": incident.id,
        "uid": incident.uid,
        "name": incident.name,
        "kind": incident.kind,
        "aliases": incident.aliases,
        "started": incident.started,
        "ended": incident.ended,
        "description": incident.description,
        "victims": [{"id": a.id, "name": a.name} for a in incident.victims],
        "claims": list(claims),
        "created_at": incident.created_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
    }
