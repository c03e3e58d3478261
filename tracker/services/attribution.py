"""Attribution reports: who blames whom for what, on how many independent origins, and who
denies it; accusations met by denials; how an attribution spread over time."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tracker.models import (
    Actor,
    Appearance,
    Claim,
    ClaimIncident,
    ClaimStance,
    Incident,
    Link,
    Source,
    VerdictEntry,
)
from tracker.services import evidence, tree
from tracker.services.actors import resolve_actor
from tracker.services.claim_report import ClaimFilter
from tracker.services.incidents import resolve_incident
from tracker.vocab import CONFIDENCE_RANK, OPPOSING, Stance, Verdict


@dataclass(frozen=True)
class Fold:
    """Which `same-as` claims a report may act on: only on request, and on the analyst's terms
    (undisputed ones only; at least so many independent origins)."""

    undisputed: bool = False
    min_origins: int = 0


def equivalences(session: Session, fold: Fold) -> tuple[dict[int, int], list[dict[str, Any]]]:
    """The actors `same-as` claims equate, under `fold`'s terms: each actor -> the one it folds
    into (the lowest id of its group), and the equivalences used, for the report to list."""
    rows = session.execute(
        select(ClaimStance.claim_id, ClaimStance.actor_id, Claim.verdict, Actor.name)
        .join(Claim, Claim.id == ClaimStance.claim_id)
        .join(Actor, Actor.id == ClaimStance.actor_id)
        .where(ClaimStance.stance == Stance.same_as.value)
        .order_by(ClaimStance.claim_id, ClaimStance.actor_id)
    ).all()
    claims: dict[int, list[tuple[int, str]]] = {}
    verdicts: dict[int, str | None] = {}
    for claim_id, actor_id, verdict, name in rows:
        claims.setdefault(claim_id, []).append((actor_id, name))
        verdicts[claim_id] = verdict
    opposed = set(
        session.scalars(
            select(Link.to_id).where(
                Link.to_id.in_(list(claims)), Link.relation.in_([r.value for r in OPPOSING])
            )
        )
    )
    walked = evidence.walk(session.connection(), claims)
    parent: dict[int, int] = {}

    def root(actor: int) -> int:
        while parent.get(actor, actor) != actor:
            actor = parent[actor]
        return actor

    used = []
    members: set[int] = set()
    for claim_id, actors in claims.items():
        disputed = claim_id in opposed or verdicts[claim_id] == Verdict.false.value
        origins = len(walked[claim_id].origins)
        if (fold.undisputed and disputed) or origins < fold.min_origins:
            continue
        ids = [a for a, _ in actors]
        members.update(ids)
        for other in ids[1:]:
            a, b = root(ids[0]), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
        used.append(
            {
                "claim_id": claim_id,
                "actors": [n for _, n in actors],
                "disputed": disputed,
                "independent_origins": origins,
            }
        )
    return {actor: root(actor) for actor in members}, used


def speaks_for(
    up: dict[int, set[int]], down: dict[int, set[int]], claimant_id: int, actor_id: int
) -> bool:
    """Whether the claimant is the actor, one of its parts or what it is part of (`up` and
    `down` from tree.wholes and tree.parts): its blame is then a claim of responsibility, its
    clearing a denial."""
    return claimant_id in up[actor_id] | down[actor_id]


# What a stance is when the claimant speaks for the actor it blames or clears.
OWN_STANCE = {Stance.blames.value: "responsibility", Stance.clears.value: "denial"}


def stance_kinds(session: Session, claim_ids: Iterable[int]) -> list[tuple[int, int, str]]:
    """Every stance of the claims as (claim, actor, kind), in one query: `blames`, `clears` or
    `same-as`, except that blame by the actor itself is `responsibility` and clearing itself is
    a `denial` (speaks_for)."""
    ids = sorted(set(claim_ids))
    if not ids:
        return []
    rows = session.execute(
        select(ClaimStance.claim_id, ClaimStance.actor_id, ClaimStance.stance, Claim.claimant_id)
        .join(Claim, Claim.id == ClaimStance.claim_id)
        .where(ClaimStance.claim_id.in_(ids))
        .order_by(ClaimStance.claim_id, ClaimStance.actor_id)
    ).all()
    conn = session.connection()
    actors = {r.actor_id for r in rows} | {r.claimant_id for r in rows}
    up, down = tree.wholes(conn, actors), tree.parts(conn, actors)
    return [
        (
            claim,
            actor,
            OWN_STANCE[stance]
            if stance in OWN_STANCE and speaks_for(up, down, claimant, actor)
            else stance,
        )
        for claim, actor, stance, claimant in rows
    ]


def stance_marks(session: Session, claim_ids: Iterable[int]) -> dict[int, str]:
    """Each claim's strongest stance kind, to mark it by in pictures: a denial, a claim of
    responsibility, blame or clearing (in that order); claims with none are left out."""
    order = ("denial", "responsibility", "blames", "clears")
    found: dict[int, str] = {}
    for claim, _actor, kind in stance_kinds(session, claim_ids):
        if kind in order and order.index(kind) < order.index(found.get(claim, "clears")):
            found[claim] = kind
        elif kind == "clears":
            found.setdefault(claim, kind)
    return found


@dataclass(frozen=True)
class _Stance:
    claim_id: int
    claimant_id: int
    claimant: str
    text: str
    stated: str | None
    confidence: str | None
    verdict: str | None
    actor_id: int
    stance: str
    incident_id: int | None


def _stances(session: Session, *where: Any) -> list[_Stance]:
    claimant = aliased(Actor)
    rows = session.execute(
        select(
            Claim.id,
            Claim.claimant_id,
            claimant.name,
            Claim.text,
            Claim.stated,
            Claim.confidence,
            Claim.verdict,
            ClaimStance.actor_id,
            ClaimStance.stance,
            ClaimIncident.incident_id,
        )
        .join(Claim, Claim.id == ClaimStance.claim_id)
        .join(claimant, claimant.id == Claim.claimant_id)
        .outerjoin(ClaimIncident, ClaimIncident.claim_id == Claim.id)
        .where(ClaimStance.stance.in_([Stance.blames.value, Stance.clears.value]), *where)
        .order_by(Claim.stated.is_(None), Claim.stated, Claim.id)
    ).all()
    columns: list[tuple[Any, ...]] = [tuple(row) for row in rows]
    return [_Stance(*values) for values in columns]


def _names(session: Session, model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(wanted))).all())


def _entry(s: _Stance, origins: dict[int, evidence.Evidence]) -> dict[str, Any]:
    return {
        "claim_id": s.claim_id,
        "claimant": s.claimant,
        "claimant_id": s.claimant_id,
        "stated": s.stated,
        "confidence": s.confidence,
        "verdict": s.verdict,
        "independent_origins": len(origins[s.claim_id].origins),
    }


def _rows(
    session: Session,
    stances: list[_Stance],
    key: Any,
    rollup: bool,
    same: dict[int, int] | None = None,
) -> dict[Any, dict[str, Any]]:
    """Blame and clearing grouped by `key(stance, actor)`; with `rollup`, blaming or clearing a
    part counts for each of its wholes too; actors `same` folds count as the one they fold
    into."""
    conn = session.connection()
    if same:
        stances = [
            replace(
                s,
                actor_id=same.get(s.actor_id, s.actor_id),
                claimant_id=same.get(s.claimant_id, s.claimant_id),
            )
            for s in stances
        ]
    actor_ids = {s.actor_id for s in stances} | {s.claimant_id for s in stances}
    up = tree.wholes(conn, actor_ids)
    down = tree.parts(conn, actor_ids)
    walked = evidence.walk(conn, {s.claim_id for s in stances})
    grouped: dict[Any, dict[str, Any]] = {}
    seen: set[tuple[Any, int, str]] = set()
    for s in stances:
        targets = up[s.actor_id] if rollup else {s.actor_id}
        for target in targets:
            group_key = key(s, target)
            if (group_key, s.claim_id, s.stance) in seen:
                continue
            seen.add((group_key, s.claim_id, s.stance))
            row = grouped.setdefault(
                group_key,
                {"actor_id": target, "blamed_by": [], "cleared_by": [], "_origins": set()},
            )
            entry = _entry(s, walked)
            if target != s.actor_id:
                entry["via"] = s.actor_id
            own = speaks_for(up, down, s.claimant_id, s.actor_id)
            if s.stance == Stance.blames:
                entry["claim_of_responsibility"] = own
                row["blamed_by"].append(entry)
                row["_origins"] |= set(walked[s.claim_id].origins)
            else:
                entry["denial"] = own
                row["cleared_by"].append(entry)
    names = _names(session, Actor, [r["actor_id"] for r in grouped.values()])
    for row in grouped.values():
        row["actor"] = names[row["actor_id"]]
        blames = row["blamed_by"]
        row["claimed_responsibility"] = any(e["claim_of_responsibility"] for e in blames)
        row["denied"] = any(e["denial"] for e in row["cleared_by"])
        row["independent_origins"] = len(row.pop("_origins"))
        dates = [e["stated"] for e in blames if e["stated"]]
        row["first_stated"] = min(dates) if dates else None
        row["verdicts"] = sorted({e["verdict"] for e in blames if e["verdict"]})
        row["confidence"] = max(
            (e["confidence"] for e in blames if e["confidence"]),
            key=CONFIDENCE_RANK.__getitem__,
            default=None,
        )
    return grouped


def _strongest(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        -row["independent_origins"],
        -len(row["blamed_by"]),
        -CONFIDENCE_RANK.get(row["confidence"] or "", 0),
        row["actor"],
    )


def incident_attribution(
    session: Session, ref: str, *, rollup: bool = False, fold: Fold | None = None
) -> dict[str, Any]:
    """One row per actor blamed or cleared for the incident, strongest first. With `fold`,
    actors that `same-as` claims equate (on its terms) share one row."""
    incident = resolve_incident(session, ref)
    same, folded = equivalences(session, fold) if fold is not None else ({}, [])
    stances = _stances(session, ClaimIncident.incident_id == incident.id)
    grouped = _rows(session, stances, lambda _s, actor: actor, rollup, same)
    rows = sorted(grouped.values(), key=_strongest)
    names = _names(session, Actor, same)
    for row in rows:
        row["folded"] = sorted(
            names[a] for a, into in same.items() if into == row["actor_id"] and a != into
        )
    label = {"id": incident.id, "name": incident.name}
    return {
        "incident": label,
        "rollup": rollup,
        "folded": folded,
        "rows": [{"incident": incident.name, **_ordered(row)} for row in rows],
    }


def actor_attribution(
    session: Session, ref: str, *, rollup: bool = False, fold: Fold | None = None
) -> dict[str, Any]:
    """Every incident the actor (with `rollup`, or any of its parts; with `fold`, or any actor
    `same-as` claims equate with it) is blamed or cleared for; claims that name no incident are
    grouped as blame "in general"."""
    actor = resolve_actor(session, ref)
    conn = session.connection()
    same, folded = equivalences(session, fold) if fold is not None else ({}, [])
    group = {a for a, into in same.items() if into == same.get(actor.id, actor.id)} | {actor.id}
    wanted = set().union(*tree.parts(conn, group).values()) if rollup else group
    stances = _stances(session, ClaimStance.actor_id.in_(sorted(wanted)))
    grouped = _rows(session, stances, lambda s, _actor: s.incident_id, False)
    names = _names(session, Incident, grouped)
    out = []
    for incident_id, row in sorted(
        grouped.items(),
        key=lambda kv: (kv[1]["first_stated"] is None, kv[1]["first_stated"] or "", kv[0] or 0),
    ):
        accused = sorted({e.get("via", row["actor_id"]) for e in row["blamed_by"]})
        blamed = {s.actor_id for s in stances if s.incident_id == incident_id}
        row.pop("actor_id"), row.pop("actor")
        out.append(
            {
                "incident": names.get(incident_id) if incident_id else None,
                "incident_id": incident_id,
                "actors": [
                    {"id": i, "name": n}
                    for i, n in sorted(_names(session, Actor, blamed | set(accused)).items())
                ],
                **row,
            }
        )
    return {
        "actor": {"id": actor.id, "name": actor.name},
        "rollup": rollup,
        "folded": folded,
        "rows": out,
    }


def _ordered(row: dict[str, Any]) -> dict[str, Any]:
    keys = [
        "actor",
        "actor_id",
        "blamed_by",
        "cleared_by",
        "claimed_responsibility",
        "denied",
        "independent_origins",
        "first_stated",
        "confidence",
        "verdicts",
        "folded",
    ]
    return {k: row[k] for k in keys}


def contested(session: Session) -> list[dict[str, Any]]:
    """Blame met by a denial from the accused, one of its parts, or what it is part of (an
    accusation of a state's unit, denied by the state), side by side with their origins and
    verdicts; claims about different incidents are not paired."""
    stances = _stances(session)
    conn = session.connection()
    actor_ids = {s.actor_id for s in stances} | {s.claimant_id for s in stances}
    up, down = tree.wholes(conn, actor_ids), tree.parts(conn, actor_ids)

    def line(actor_id: int) -> set[int]:
        return up[actor_id] | down[actor_id]

    incidents: dict[int, set[int]] = {}
    for s in stances:
        if s.incident_id is not None:
            incidents.setdefault(s.claim_id, set()).add(s.incident_id)
    denials = [
        s
        for s in stances
        if s.stance == Stance.clears and speaks_for(up, down, s.claimant_id, s.actor_id)
    ]
    blames = [s for s in stances if s.stance == Stance.blames]
    walked = evidence.walk(conn, {s.claim_id for s in denials + blames})
    names = _names(session, Actor, actor_ids)
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    for denial in denials:
        for blame in blames:
            if blame.claim_id == denial.claim_id:
                continue
            accused = line(blame.actor_id)
            if denial.actor_id not in accused or denial.claimant_id not in accused:
                continue
            a, b = incidents.get(blame.claim_id), incidents.get(denial.claim_id)
            if a and b and not a & b:
                continue
            key = (blame.claim_id, denial.claim_id)
            if key in pairs:
                continue
            pairs[key] = {
                "accused": {"id": blame.actor_id, "name": names[blame.actor_id]},
                "accusation": _side(session, blame, walked),
                "denial": _side(session, denial, walked),
                "incidents": sorted(
                    _names(session, Incident, (a or set()) | (b or set())).values()
                ),
            }
    return list(pairs.values())


def _side(session: Session, s: _Stance, walked: dict[int, evidence.Evidence]) -> dict[str, Any]:
    origins = sorted(walked[s.claim_id].origins)
    return {
        "claim_id": s.claim_id,
        "claimant": s.claimant,
        "text": s.text,
        "stated": s.stated,
        "confidence": s.confidence,
        "verdict": s.verdict,
        "independent_origins": len(origins),
        "origins": origins,
    }


_ORDER = {"claim": 0, "appearance": 1, "verdict": 2}


def timeline(
    session: Session,
    *,
    incident: str | None = None,
    about: Iterable[str] = (),
    tags: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Every claim, appearance and verdict in date order; partial dates keep their precision
    and sort where they belong (`2013-03` after `2013-02-19`); undated events come last."""
    query = ClaimFilter(about=list(about), tag=list(tags)).apply(session, select(Claim.id))
    if incident is not None:
        found = resolve_incident(session, incident)
        query = query.where(
            Claim.id.in_(
                select(ClaimIncident.claim_id).where(ClaimIncident.incident_id == found.id)
            )
        )
    ids = query.subquery()
    events: list[dict[str, Any]] = []
    claimant = aliased(Actor)
    for ident, text, who, stated in session.execute(
        select(Claim.id, Claim.text, claimant.name, Claim.stated)
        .join(claimant, claimant.id == Claim.claimant_id)
        .where(Claim.id.in_(select(ids.c.id)))
    ):
        events.append(
            {"date": stated, "event": "claim", "claim_id": ident, "who": who, "what": text}
        )
    for ident, source_id, title, published in session.execute(
        select(Appearance.claim_id, Source.id, Source.title, Source.published)
        .join(Source, Source.id == Appearance.source_id)
        .where(Appearance.claim_id.in_(select(ids.c.id)))
    ):
        events.append(
            {
                "date": published,
                "event": "appearance",
                "claim_id": ident,
                "who": None,
                "what": f"appears in source #{source_id} {title}",
            }
        )
    for ident, verdict, reviewer, at in session.execute(
        select(
            VerdictEntry.claim_id,
            VerdictEntry.verdict,
            VerdictEntry.reviewer,
            VerdictEntry.created_at,
        ).where(VerdictEntry.claim_id.in_(select(ids.c.id)))
    ):
        events.append(
            {
                "date": at.date().isoformat(),
                "event": "verdict",
                "claim_id": ident,
                "who": reviewer,
                "what": f"rated {verdict}",
            }
        )
    events.sort(
        key=lambda e: (e["date"] is None, e["date"] or "", _ORDER[e["event"]], e["claim_id"])
    )
    return events


def check_chronology(session: Session) -> list[str]:
    """Chronology warnings over the whole database (for `db check`)."""
    return evidence.chronology(session.connection(), None, None)
