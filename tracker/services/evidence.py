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
from tracker.models import Actor, Source, SourceCitation
from tracker.vocab import Relation

# (root claim, the claim whose source it is, the source it appears in, an origin under it).
# The range `x BETWEEN y AND y` and `relation || ''` are equalities SQLite's planner does not
# turn into a Bloom filter over the whole table (built on every call once the database has
# been ANALYZEd: 40 ms at a million claims, against 0.1 ms for the index look-ups it needs).
_WALK = text(
    """
    WITH RECURSIVE ev(root, cid) AS (
        SELECT id, id FROM claim WHERE id IN :ids
        UNION
        SELECT ev.root, l.from_id FROM ev
        JOIN link l ON l.to_id BETWEEN ev.cid AND ev.cid AND l.relation || '' = :supports
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


# Each claim's earliest dated source among those it appears in and all they rest on (not its
# supporters': evidence that came later is no error), in one set-based statement (the range
# join: see _WALK).
_EARLIEST = """
    WITH RECURSIVE reach(start, node) AS (
        SELECT DISTINCT a.source_id, a.source_id FROM appearance a {claims}
        UNION
        SELECT reach.start, sc.cited_id FROM reach
        JOIN source_citation sc ON sc.source_id = reach.node
    ),
    earliest AS (
        SELECT reach.start, min(s.published) AS published FROM reach
        JOIN source s ON s.id BETWEEN reach.node AND reach.node
        WHERE s.published IS NOT NULL
        GROUP BY reach.start
    )
    SELECT c.id, c.stated, min(e.published) FROM claim c
    JOIN appearance a ON a.claim_id = c.id
    JOIN earliest e ON e.start = a.source_id
    WHERE c.stated IS NOT NULL {claims_again}
    GROUP BY c.id, c.stated
    ORDER BY c.id
"""


def chronology(
    conn: Connection, claim_ids: Sequence[int] | None, source_ids: Iterable[int] | None
) -> list[str]:
    """Dates that cannot be right, as warnings: a source dated before a source it cites (among
    `source_ids`); a claim stated before the earliest source it rests on was published (among
    `claim_ids`). None: the whole database."""
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
        earliest = text(_EARLIEST.format(claims="", claims_again=""))
        rows = conn.execute(earliest)
    else:
        earliest = text(
            _EARLIEST.format(claims="WHERE a.claim_id IN :ids", claims_again="AND c.id IN :ids")
        ).bindparams(bindparam("ids", expanding=True))
        rows = conn.execute(earliest, {"ids": sorted(set(claim_ids))})
    warnings += [
        f"claim #{ident} was stated ({stated}) before the earliest source it rests on was "
        f"published ({published})"
        for ident, stated, published in rows
        if _before(stated, published)
    ]
    return warnings
