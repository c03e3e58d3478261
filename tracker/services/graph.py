"""The web around a claim, an actor, an incident or a tag, as a plain graph for the renderers.

The walk starts from the focus claims and follows links between claims (supports, disputes,
repeats ...) `depth` steps in either direction; each claim brings its claimant, the actors it
is about, blames or clears, its incidents, and the sources it appears in with their `cites`
chains down to their origins (evidence.walk). Every step is one set-based query. Past
`max_nodes` the claims farthest from the focus are left out, and the graph says how many.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.models import (
    Actor,
    Appearance,
    Claim,
    ClaimIncident,
    ClaimStance,
    ClaimSubject,
    Incident,
    Link,
    Source,
    SourceCitation,
)
from tracker.services import evidence, tree
from tracker.services.actors import resolve_actor
from tracker.services.attribution import stance_kinds
from tracker.services.claim_report import ClaimFilter
from tracker.services.claims import resolve_claim
from tracker.services.incidents import resolve_incident

DEFAULT_DEPTH = 2
MAX_NODES = 300
# The edge kinds besides the claim relations (vocab.Relation) and the stances.
CLAIMANT = "claimant"
ABOUT = "about"
APPEARS_IN = "appears-in"
RESTS_ON = "rests-on"
CONCERNS = "concerns"
PART_OF = "part-of"


@dataclass(frozen=True)
class Node:
    kind: str  # claim, actor, source or incident
    id: int
    label: str  # one line: the claim's text, the actor's name, the source's title ...
    detail: str = ""  # a second, shorter line: claimant and date, kind, publisher ...
    url: str | None = None  # a source's URL, when it is http(s)
    focus: bool = False

    @property
    def key(self) -> str:
        """An id made of the kind and the number only: renderers use it, never user text."""
        return f"{self.kind[0]}{self.id}"


@dataclass(frozen=True)
class Edge:
    source: str  # Node.key
    target: str
    kind: str  # a Relation, a stance kind (attribution.stance_kinds) or one of the above


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    # origin source key -> the keys of the sources resting on it alone (the origin included)
    clusters: dict[str, list[str]] = field(default_factory=dict)
    title: str = ""
    left_out: int = 0  # claims not drawn
    note: str = ""  # says what was left out and how to narrow, when anything was


def _http(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _focus_claims(
    session: Session,
    *,
    claim: str | None,
    actor: str | None,
    incident: str | None,
    tag: str | None,
) -> tuple[Any, str]:
    """The query of the focus claims' ids, and the graph's title."""
    if claim is not None:
        found = resolve_claim(session, claim)
        return select(Claim.id).where(Claim.id == found.id), f"claim #{found.id}"
    if actor is not None:
        who = resolve_actor(session, actor)
        query = select(Claim.id).where(
            or_(
                Claim.claimant_id == who.id,
                Claim.id.in_(select(ClaimSubject.claim_id).where(ClaimSubject.actor_id == who.id)),
                Claim.id.in_(select(ClaimStance.claim_id).where(ClaimStance.actor_id == who.id)),
            )
        )
        return query, who.name
    if incident is not None:
        what = resolve_incident(session, incident)
        query = select(ClaimIncident.claim_id).where(ClaimIncident.incident_id == what.id)
        return query, what.name
    if tag is not None:
        return ClaimFilter(tag=[tag]).apply(session, select(Claim.id)), f"tag {tag.strip()}"
    return select(Claim.id), "all claims"


def _walk(session: Session, start: list[int], depth: int, enough: int) -> tuple[list[int], int]:
    """Claims in the order they are reached: the focus, then each step along links; at most
    `enough` of them (the cap could not draw more), and how many more were reached (a lower
    bound: the walk stops there)."""
    order = list(start)
    seen = set(order)
    frontier = set(order)
    for _ in range(depth):
        if not frontier or len(order) >= enough:
            break
        ids = sorted(frontier)
        rows = session.execute(
            select(Link.from_id, Link.to_id).where(or_(Link.from_id.in_(ids), Link.to_id.in_(ids)))
        ).all()
        reached = sorted({c for row in rows for c in row} - seen)
        order += reached
        seen.update(reached)
        frontier = set(reached)
    return order[:enough], max(0, len(order) - enough)


def build_graph(
    session: Session,
    *,
    claim: str | None = None,
    actor: str | None = None,
    incident: str | None = None,
    tag: str | None = None,
    depth: int = DEFAULT_DEPTH,
    max_nodes: int = MAX_NODES,
) -> Graph:
    """The graph around one focus (at most one of claim, actor, incident and tag; none: the
    whole database), at most `max_nodes` nodes."""
    query, title = _focus_claims(session, claim=claim, actor=actor, incident=incident, tag=tag)
    focused = claim is not None or actor is not None or incident is not None or tag is not None
    total_focus = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    start = list(session.scalars(query.order_by(query.selected_columns[0]).limit(max_nodes)))
    walked, beyond = _walk(session, start, depth if focused else 0, max_nodes)
    graph = _draw(session, walked, set(start), max_nodes, focused)
    graph.title = title
    graph.left_out += total_focus - len(start) + beyond
    if graph.left_out:
        narrow = "a smaller --depth" if focused else "a focus (--claim, --actor, --incident, --tag)"
        graph.note = (
            f"{'at least ' if beyond else ''}{graph.left_out} claim(s) left out to keep the "
            f"picture under {max_nodes} nodes: draw less with {narrow}, or raise --max-nodes"
        )
    return graph


@dataclass
class _Rows:
    """What the claims bring, read in one query each."""

    claims: dict[int, Any]
    subjects: list[tuple[int, int]]
    stances: list[tuple[int, int, str]]
    incidents: list[tuple[int, int]]
    appearances: list[tuple[int, int]]
    links: list[tuple[int, str, int]]
    reach: dict[int, evidence.Evidence]
    cites: dict[int, set[int]]  # source -> the sources it cites, for every source reached


def _read(session: Session, ids: list[int]) -> _Rows:
    def pairs(*columns: Any) -> list[Any]:
        return [tuple(r) for r in session.execute(select(*columns).where(columns[0].in_(ids)))]

    claims = {
        r.id: r
        for r in session.execute(
            select(Claim.id, Claim.text, Claim.stated, Claim.verdict, Claim.claimant_id).where(
                Claim.id.in_(ids)
            )
        )
    }
    links = [
        tuple(r)
        for r in session.execute(
            select(Link.from_id, Link.relation, Link.to_id)
            .where(Link.from_id.in_(ids), Link.to_id.in_(ids))
            .order_by(Link.id)
        )
    ]
    reach = evidence.walk(session.connection(), ids)
    sources = sorted(set().union(*(ev.sources for ev in reach.values())))
    cites: dict[int, set[int]] = {s: set() for s in sources}
    for a, b in session.execute(
        select(SourceCitation.source_id, SourceCitation.cited_id).where(
            SourceCitation.source_id.in_(sources)
        )
    ):
        cites[a].add(b)
    return _Rows(
        claims=claims,
        subjects=pairs(ClaimSubject.claim_id, ClaimSubject.actor_id),
        stances=stance_kinds(session, ids),
        incidents=pairs(ClaimIncident.claim_id, ClaimIncident.incident_id),
        appearances=pairs(Appearance.claim_id, Appearance.source_id),
        links=links,  # type: ignore[arg-type]
        reach=reach,
        cites=cites,
    )


def _draw(
    session: Session, walked: list[int], start: set[int], max_nodes: int, focused: bool
) -> Graph:
    rows = _read(session, walked)
    # Each claim's own nodes (actors, incidents, sources down to origins), to count the cap.
    brings: dict[int, set[str]] = {c: {f"c{c}", f"a{rows.claims[c].claimant_id}"} for c in walked}
    for c, a in rows.subjects:
        brings[c].add(f"a{a}")
    for c, a, _kind in rows.stances:
        brings[c].add(f"a{a}")
    for c, i in rows.incidents:
        brings[c].add(f"i{i}")
    for c in walked:
        # The sources it appears in and what they rest on; a supporting claim's sources come
        # with that claim, when it is drawn.
        brings[c] |= {f"s{s}" for s in _below(rows.reach[c].own, rows.cites)}
    kept: list[int] = []
    keys: set[str] = set()
    for c in walked:
        if len(keys | brings[c]) > max_nodes:
            continue
        kept.append(c)
        keys |= brings[c]
    graph = _assemble(session, rows, kept, start if focused else set(), keys)
    graph.left_out = len(walked) - len(kept)
    return graph


def _assemble(
    session: Session, rows: _Rows, kept: list[int], start: set[int], keys: set[str]
) -> Graph:
    def wanted(prefix: str) -> list[int]:
        return sorted(int(k[1:]) for k in keys if k[0] == prefix)

    actors = dict(
        session.execute(select(Actor.id, Actor.name).where(Actor.id.in_(wanted("a")))).all()
    )
    kinds = dict(
        session.execute(select(Actor.id, Actor.kind).where(Actor.id.in_(wanted("a")))).all()
    )
    incidents = session.execute(
        select(Incident.id, Incident.name, Incident.kind).where(Incident.id.in_(wanted("i")))
    ).all()
    publisher = Actor.__table__.alias("publisher")
    sources = session.execute(
        select(Source.id, Source.title, Source.url, Source.published, publisher.c.name)
        .outerjoin(publisher, publisher.c.id == Source.publisher_id)
        .where(Source.id.in_(wanted("s")))
        .order_by(Source.id)
    ).all()
    nodes: list[Node] = []
    for c in sorted(kept):
        r = rows.claims[c]
        facts = [actors[r.claimant_id], r.stated, r.verdict and f"rated {r.verdict}"]
        nodes.append(
            Node("claim", c, r.text, f"#{c} " + ", ".join(f for f in facts if f), None, c in start)
        )
    nodes += [Node("actor", a, name, kinds[a]) for a, name in sorted(actors.items())]
    nodes += [Node("incident", i, name, f"incident, {kind}") for i, name, kind in incidents]
    for s, title, url, published, by in sources:
        detail = ", ".join(x for x in (by, published) if x)
        nodes.append(Node("source", s, title, detail, _http(url)))
    return Graph(
        nodes=nodes,
        edges=_edges(rows, set(kept), keys) + _parts(session, set(actors)),
        clusters=_clusters(rows.cites, keys),
    )


def _edges(rows: _Rows, kept: set[int], keys: set[str]) -> list[Edge]:
    edges: list[Edge] = []
    stance = {(c, a): kind for c, a, kind in rows.stances if c in kept}
    for c in sorted(kept):
        edges.append(Edge(f"a{rows.claims[c].claimant_id}", f"c{c}", CLAIMANT))
    # An actor the claim blames or clears is shown so, not merely as what it is about.
    edges += [
        Edge(f"c{c}", f"a{a}", ABOUT)
        for c, a in sorted(rows.subjects)
        if c in kept and (c, a) not in stance
    ]
    edges += [Edge(f"c{c}", f"a{a}", kind) for (c, a), kind in sorted(stance.items())]
    edges += [Edge(f"c{c}", f"i{i}", CONCERNS) for c, i in sorted(rows.incidents) if c in kept]
    edges += [Edge(f"c{c}", f"s{s}", APPEARS_IN) for c, s in sorted(rows.appearances) if c in kept]
    edges += [
        Edge(f"c{a}", f"c{b}", relation) for a, relation, b in rows.links if a in kept and b in kept
    ]
    sources = {int(k[1:]) for k in keys if k[0] == "s"}
    edges += [
        Edge(f"s{a}", f"s{b}", RESTS_ON)
        for a in sorted(sources)
        for b in sorted(rows.cites[a] & sources)
    ]
    return edges


def _parts(session: Session, actors: set[int]) -> list[Edge]:
    """An actor drawn `part-of` the nearest drawn actors it is part of (PLA Unit 61398 -> China
    when the PLA between them is not drawn)."""
    up = tree.wholes(session.connection(), actors)
    edges = []
    for actor in sorted(actors):
        wholes = (up[actor] & actors) - {actor}
        # A whole of a drawn whole is reached through it: no second arrow.
        nearest = {w for w in wholes if not any(w in up[o] for o in wholes - {w})}
        edges += [Edge(f"a{actor}", f"a{w}", PART_OF) for w in sorted(nearest)]
    return edges


def _clusters(cites: dict[int, set[int]], keys: set[str]) -> dict[str, list[str]]:
    """Sources grouped under the one origin they rest on (a source resting on several stays
    outside every group); only groups of two or more."""
    groups: dict[str, list[str]] = {}
    for s in sorted(int(k[1:]) for k in keys if k[0] == "s"):
        origins = {o for o in _below([s], cites) if not cites[o]}
        if len(origins) == 1:
            groups.setdefault(f"s{origins.pop()}", []).append(f"s{s}")
    return {o: members for o, members in groups.items() if len(members) > 1}


def _below(start: Iterable[int], cites: dict[int, set[int]]) -> set[int]:
    """The sources `start` and every source they rest on, however deep (cycles included)."""
    seen = set(start)
    todo = list(seen)
    while todo:
        for nxt in cites[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen
