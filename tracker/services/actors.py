"""Actors: the people, organizations and governments who make claims or are their subjects."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import vocab
from tracker.errors import Conflict, InvalidInput, NotFound
from tracker.models import Actor, ActorName, ActorPart, Appearance, Claim, ClaimSubject, Source
from tracker.services import identity, tree
from tracker.services.common import notify, parse_id, record
from tracker.services.editing import Editable
from tracker.text import clean_actor_name, clean_optional, name_key
from tracker.vocab import ActorKind, reliability_grade


def find_actor(session: Session, ref: str | int) -> Actor | None:
    """The actor with this id, or whose name or alias matches exactly after normalization
    (ambiguous if several actors share the alias)."""
    ident = parse_id(ref)
    if ident is not None:
        return session.get(Actor, ident)
    found = identity.actors(session).find(str(ref))
    return session.get(Actor, found[0]) if found else None


def resolve_actor(session: Session, ref: str | int, *, create: bool = False) -> Actor:
    return resolve_actor_as(session, ref, create=create)[0]


def resolve_actor_as(
    session: Session, ref: str | int, *, create: bool = False
) -> tuple[Actor, str | None]:
    """An actor by id, name or alias, and the alias it was named by (None for its own name or
    an id). With `create`, a name nobody has is added — unless it resembles a known one (refused
    with the candidates; `NamePolicy.new` overrides) or the policy forbids new names."""
    ident = parse_id(ref)
    if ident is not None:
        actor = session.get(Actor, ident)
        if actor is None:
            raise NotFound(f"no actor with id {ref}")
        return actor, None
    directory = identity.actors(session)
    actor_id, given_as = directory.resolve(str(ref), create=create)
    actor = session.get(Actor, actor_id)
    assert actor is not None
    if (
        directory.created
        and directory.created[-1] == actor_id
        and actor_id not in _announced(session)
    ):
        _announced(session).add(actor_id)
        notify(session, f"created actor {actor.name!r} (#{actor.id})")
    return actor, given_as


def _announced(session: Session) -> set[int]:
    return session.info.setdefault("announced_actors", set())  # type: ignore[no-any-return]


def _claim_name(session: Session, actor: Actor, name: str, primary: bool) -> ActorName:
    """A name for `actor`: the directory's rule decides whether it may have it."""
    key = name_key(name)
    if not key:
        raise InvalidInput(f"name {name!r} has no letters or digits")
    shared = identity.actors(session).check_name(name, primary=primary, actor_id=actor.id)
    own = next((n for n in actor.names if n.key == key), None)
    if own is not None:
        return own
    if shared:
        notify(session, f"the alias {name!r} is also one of actor {', '.join(shared)}")
    entry = ActorName(name=name, key=key, is_primary=primary)
    actor.names.append(entry)
    return entry


def add_actor(
    session: Session,
    name: str,
    *,
    kind: ActorKind | str = ActorKind.other,
    aliases: Sequence[str] = (),
    description: str | None = None,
    reliability: str | None = None,
    new: bool = False,
) -> Actor:
    """Add an actor. A name like a known one (`Norse` beside `Norse Corp`) is refused with the
    candidates unless `new` says it is a different actor."""
    name = clean_actor_name(name)
    kind = vocab.actor_kind(kind)
    description = clean_optional(description, "description")
    reliability = reliability_grade(reliability)
    aliases = [clean_actor_name(alias, "alias") for alias in aliases]
    directory = identity.actors(session)
    directory.check_name(name, primary=True)
    directory.check_new(name, strict=True, new=new, explicit=True)
    shared = sorted({a for alias in aliases for a in directory.check_name(alias, primary=False)})
    actor_id = directory.create(
        name, kind=kind, description=description, reliability=reliability, aliases=aliases
    )
    if shared:
        notify(
            session, f"an alias is also one of actor {', '.join(shared)}: looking it up lists both"
        )
    actor = session.get(Actor, actor_id)
    assert actor is not None
    return actor


def _rename(session: Session, actor: Actor, name: str) -> None:
    if name == actor.name:
        return
    primary = next(n for n in actor.names if n.is_primary)
    if name_key(name) != primary.key:
        # The old name stays findable: it becomes an alias.
        primary.is_primary = False
        _claim_name(session, actor, name, True).is_primary = True
    else:
        primary.name = name
    actor.name = name


def _add_aliases(session: Session, actor: Actor, aliases: Sequence[str]) -> None:
    for alias in aliases:
        alias = clean_actor_name(alias, "alias")
        if name_key(alias) not in {n.key for n in actor.names}:
            _claim_name(session, actor, alias, False)


def _remove_aliases(session: Session, actor: Actor, aliases: Sequence[str]) -> None:
    for alias in aliases:
        key = name_key(alias)
        entry = next((n for n in actor.names if n.key == key and not n.is_primary), None)
        if entry is None:
            raise NotFound(f"actor {actor.name!r} has no alias {alias!r}")
        actor.names.remove(entry)


EDITABLE = Editable(
    "actor",
    scalars={
        "name": lambda _s, v: clean_actor_name(v),
        "kind": lambda _s, v: vocab.actor_kind(v),
        "description": lambda _s, v: clean_optional(v, "description"),
        "reliability": lambda _s, v: reliability_grade(v),
    },
    lists={"aliases": (_add_aliases, _remove_aliases)},
    state=lambda a: {
        "name": a.name,
        "kind": a.kind,
        "description": a.description,
        "reliability": a.reliability,
        "aliases": a.aliases,
    },
    setters={"name": _rename},
)


def edit_actor(
    session: Session,
    ref: str,
    *,
    fields: Mapping[str, Any] | None = None,
    add: Mapping[str, Sequence[str]] | None = None,
    remove: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Actor, dict[str, Any]]:
    """Change an actor: `fields` sets name, kind, description, reliability ('' clears an
    optional one); `add`/`remove` change its aliases. The history records the difference."""
    actor = resolve_actor(session, ref)
    changes = EDITABLE.edit(session, actor, fields, add, remove)
    return actor, changes


def relate_actors(session: Session, part_ref: str, whole_ref: str) -> tuple[Actor, Actor]:
    """Record that PART is part of WHOLE (a unit of an agency); a cycle is refused."""
    part = resolve_actor(session, part_ref)
    whole = resolve_actor(session, whole_ref)
    if part.id == whole.id:
        raise Conflict(f"actor {part.name!r} cannot be part of itself")
    conn = session.connection()
    if part.id in tree.wholes(conn, [whole.id])[whole.id]:
        raise Conflict(f"{whole.name!r} is already part of {part.name!r}: that would be a cycle")
    if session.get(ActorPart, (part.id, whole.id)) is not None:
        raise Conflict(f"{part.name!r} is already part of {whole.name!r}")
    session.add(ActorPart(part_id=part.id, whole_id=whole.id))
    session.flush()
    record(session, "actor", part.id, "edited", {"part_of": {"added": [whole.name]}})
    record(session, "actor", whole.id, "edited", {"parts": {"added": [part.name]}})
    return part, whole


def unrelate_actors(session: Session, part_ref: str, whole_ref: str) -> tuple[Actor, Actor]:
    part = resolve_actor(session, part_ref)
    whole = resolve_actor(session, whole_ref)
    found = session.get(ActorPart, (part.id, whole.id))
    if found is None:
        raise NotFound(f"{part.name!r} is not recorded as part of {whole.name!r}")
    session.delete(found)
    session.flush()
    record(session, "actor", part.id, "edited", {"part_of": {"removed": [whole.name]}})
    record(session, "actor", whole.id, "edited", {"parts": {"removed": [part.name]}})
    return part, whole


def list_actors(session: Session) -> list[dict[str, Any]]:
    made = select(Claim.claimant_id, func.count().label("n")).group_by(Claim.claimant_id).subquery()
    about = (
        select(ClaimSubject.actor_id, func.count().label("n"))
        .group_by(ClaimSubject.actor_id)
        .subquery()
    )
    rows = session.execute(
        select(Actor, func.coalesce(made.c.n, 0), func.coalesce(about.c.n, 0))
        .outerjoin(made, made.c.claimant_id == Actor.id)
        .outerjoin(about, about.c.actor_id == Actor.id)
        .order_by(Actor.name, Actor.id)
    ).all()
    aliases: dict[int, list[str]] = {}
    for actor_id, alias in session.execute(
        select(ActorName.actor_id, ActorName.name)
        .where(ActorName.is_primary.is_(False))
        .order_by(ActorName.id)
    ):
        aliases.setdefault(actor_id, []).append(alias)
    return [
        {
            "id": actor.id,
            "name": actor.name,
            "kind": actor.kind,
            "aliases": aliases.get(actor.id, []),
            "claims_made": made_n,
            "claims_about": about_n,
        }
        for actor, made_n, about_n in rows
    ]


def actor_record(actor: Actor) -> dict[str, Any]:
    return {
        "id": actor.id,
        "uid": actor.uid,
        "name": actor.name,
        "kind": actor.kind,
        "aliases": actor.aliases,
        "description": actor.description,
        "reliability": actor.reliability,
        "created_at": actor.created_at.isoformat(),
        "updated_at": actor.updated_at.isoformat(),
    }


def actor_detail(session: Session, ref: str) -> dict[str, Any]:
    actor = resolve_actor(session, ref)
    detail = actor_record(actor)
    near = tree.direct(session.connection(), actor.id)
    names = dict(
        session.execute(
            select(Actor.id, Actor.name).where(Actor.id.in_(near["part_of"] + near["parts"]))
        ).all()
    )
    detail["part_of"] = [{"id": i, "name": names[i]} for i in near["part_of"]]
    detail["parts"] = [{"id": i, "name": names[i]} for i in near["parts"]]
    detail["claims_made"] = session.scalar(
        select(func.count()).select_from(Claim).where(Claim.claimant_id == actor.id)
    )
    detail["claims_about"] = session.scalar(
        select(func.count()).select_from(ClaimSubject).where(ClaimSubject.actor_id == actor.id)
    )
    detail["sources_published"] = session.scalar(
        select(func.count()).select_from(Source).where(Source.publisher_id == actor.id)
    )
    detail["appearances"] = session.scalar(
        select(func.count())
        .select_from(Appearance)
        .join(Claim, Claim.id == Appearance.claim_id)
        .where(Claim.claimant_id == actor.id)
    )
    return detail
