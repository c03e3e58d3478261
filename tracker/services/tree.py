"""The organisational tree of actors (a unit is part of an agency, part of a state), walked in
SQL with recursive CTEs: one query however deep the tree."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tracker.models import ActorPart


def wholes(conn: Connection, actor_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each actor's wholes, transitively (PLA Unit 61398 -> PLA, China), itself included."""
    return _walk(conn, actor_ids, up=True)


def parts(conn: Connection, actor_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each actor's parts, transitively (China -> PLA, PLA Unit 61398), itself included."""
    return _walk(conn, actor_ids, up=False)


def _walk(conn: Connection, actor_ids: Iterable[int], *, up: bool) -> dict[int, set[int]]:
    ids = sorted(set(actor_ids))
    found: dict[int, set[int]] = {i: {i} for i in ids}
    if not ids:
        return found
    near, far = (
        (ActorPart.part_id, ActorPart.whole_id) if up else (ActorPart.whole_id, ActorPart.part_id)
    )
    seeds = select(near.label("start"), far.label("node")).where(near.in_(ids))
    walk = seeds.cte("walk", recursive=True)
    walk = walk.union(select(walk.c.start, far).join(ActorPart.__table__, near == walk.c.node))
    for origin, node in conn.execute(select(walk.c.start, walk.c.node)):
        found[origin].add(node)
    return found


def related(conn: Connection, a: int, b: int) -> bool:
    """Whether one actor is the other, or part of it, or it part of the other."""
    return b in wholes(conn, [a])[a] or a in wholes(conn, [b])[b]


def direct(conn: Connection, actor_id: int) -> dict[str, list[int]]:
    """The actor's immediate wholes and parts."""
    rows = conn.execute(
        select(ActorPart.part_id, ActorPart.whole_id).where(
            (ActorPart.part_id == actor_id) | (ActorPart.whole_id == actor_id)
        )
    ).all()
    return {
        "part_of": sorted(w for p, w in rows if p == actor_id),
        "parts": sorted(p for p, w in rows if w == actor_id),
    }
