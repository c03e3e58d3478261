"""Evidence behind claims: origins and their independence, walked in SQL.

A source that cites another rests on it; one that cites nothing recorded is an **origin**. A
claim rests on the sources it appears in and, through the claims that `support` it (and those
that support them), on theirs; claims that `repeat` or `cite` it add speakers, not evidence.
Both walks are recursive CTEs: one statement whatever the depth of the citation chains.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Connection

from tracker.dates import period_end
from tracker.models import Actor, Claim, Source, SourceCitation
from tracker.vocab import Relation

# (root claim, the claim whose source it is, the source it appears in, an origin under it)
_WALK = text(
    """
    WITH RECURSIVE ev(root, cid) AS (
        SELECT id, id FROM claim WHERE id IN :ids
        UNION
        SELECT ev.root, l.from_id FROM ev
        JOIN link l ON l.to_id = ev.cid AND l.relation = :supports
    ),
    src(root, cid, start, node) AS (
        SELECT ev.root, ev.cid, a.source_id, a.source_id FROM ev
        JOIN appearance a ON a.claim_id = ev.cid
        UNION
        SELECT src.root, src.cid, src.start, sc.cited_id FROM src
        JOIN source_citation sc ON sc.source_id = src.node
    )
    SELECT root, cid, start, node,
           NOT EXISTS (SELECT 1 FROM source_citation x WHERE x.source_id = src.node) AS origin
    FROM src
    """
).bindparams(bindparam("ids", expanding=True))


@dataclass
class Evidence:
    """What one claim rests on."""

    claim_id: int
    # origin source id -> the claim's own sources resting on it, and the supporting claims
    origins: dict[int, dict[str, set[int]]] = field(default_factory=dict)
    sources: set[int] = field(default_factory=set)  # every source it appears in, or rests on
    own: set[int] = field(default_factory=set)  # sources the claim itself appears in
    supporters: set[int] = field(default_factory=set)  # claims whose sources it borrows


def walk(conn: Connection, claim_ids: Iterable[int]) -> dict[int, Evidence]:
    """The evidence of each claim, in one statement."""
    ids = sorted(set(claim_ids))
    found = {i: Evidence(i) for i in ids}
    if not ids:
        return found
    rows = conn.execute(_WALK, {"ids": ids, "supports": Relation.supports.value})
    for root, cid, start, node, origin in rows:
        ev = found[root]
        ev.sources.update((start, node))
        if cid == root:
            ev.own.add(start)
        else:
            ev.supporters.add(cid)
        if origin:
            entry = ev.origins.setdefault(node, {"sources": set(), "claims": set()})
            if cid == root:
                entry["sources"].add(start)
            else:
                entry["claims"].add(cid)
    return found


def evidence_record(conn: Connection, claim_id: int, claimant_id: int) -> dict[str, Any]:
    """The dossier's `evidence` object: origins, independence, and the flags an analyst looks
    for (one origin behind several sources; a claimant resting only on its own publications)."""
    ev = walk(conn, [claim_id])[claim_id]
    info = _sources(conn, ev.sources)
    origins = [
        {
            "source_id": origin,
            "title": info[origin]["title"],
            "publisher": info[origin]["publisher"],
            "publisher_id": info[origin]["publisher_id"],
            "published": info[origin]["published"],
            "sources": sorted(entry["sources"]),
            "claims": sorted(entry["claims"]),
        }
        for origin, entry in sorted(ev.origins.items())
    ]
    return {
        "origins": origins,
        "independent_origins": len(origins),
        "sources": len(ev.own | {s for e in ev.origins.values() for s in e["sources"]}),
        "single_origin": len(ev.sources) > 1 and len(origins) == 1,
        "self_sourced": bool(origins) and all(o["publisher_id"] == claimant_id for o in origins),
        "supported_by": sorted(ev.supporters),
        "warnings": chronology(conn, [claim_id], ev.sources),
    }


def _sources(conn: Connection, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    rows = conn.execute(
        select(Source.id, Source.title, Source.published, Source.publisher_id, Actor.name)
        .outerjoin(Actor, Actor.id == Source.publisher_id)
        .where(Source.id.in_(sorted(set(ids))))
    )
    return {
        ident: {"title": title, "published": published, "publisher_id": pid, "publisher": name}
        for ident, title, published, pid, name in rows
    }


def _before(a: str, b: str) -> bool:
    """Whether the whole period `a` names ends before the period `b` names begins."""
    return period_end(a) < b


def chronology(
    conn: Connection, claim_ids: Sequence[int] | None, source_ids: Iterable[int] | None
) -> list[str]:
    """Dates that cannot be right, as warnings: a source dated before a source it cites; a claim
    stated before the earliest source it rests on was published. None: the whole database."""
    cited = Source.__table__.alias("cited")
    citing = Source.__table__.alias("citing")
    query = (
        select(citing.c.id, citing.c.published, cited.c.id, cited.c.published)
        .select_from(SourceCitation)
        .join(citing, citing.c.id == SourceCitation.source_id)
        .join(cited, cited.c.id == SourceCitation.cited_id)
        .where(citing.c.published.is_not(None), cited.c.published.is_not(None))
        .order_by(citing.c.id, cited.c.id)
    )
    if source_ids is not None:
        query = query.where(SourceCitation.source_id.in_(sorted(set(source_ids))))
    warnings = [
        f"source #{a} ({a_date}) cites source #{b}, published later ({b_date})"
        for a, a_date, b, b_date in conn.execute(query)
        if _before(a_date, b_date)
    ]
    if claim_ids is None:
        claims = conn.execute(
            select(Claim.id, Claim.stated).where(Claim.stated.is_not(None)).order_by(Claim.id)
        ).all()
    else:
        claims = conn.execute(
            select(Claim.id, Claim.stated).where(Claim.id.in_(list(claim_ids)))
        ).all()
        claims = [(i, d) for i, d in claims if d]
    for start in range(0, len(claims), 1000):
        batch = claims[start : start + 1000]
        evidence = walk(conn, [i for i, _ in batch])
        dates = _sources(conn, {s for e in evidence.values() for s in e.sources})
        for ident, stated in batch:
            published = [
                (dates[s]["published"], s)
                for s in evidence[ident].sources
                if dates.get(s, {}).get("published")
            ]
            if published:
                earliest, which = min(published)
                if _before(stated, earliest):
                    warnings.append(
                        f"claim #{ident} was stated ({stated}) before the earliest source it "
                        f"rests on was published (#{which}, {earliest})"
                    )
    return warnings
