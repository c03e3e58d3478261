"""The claim report: one flat row per claim, shared by `claim list` and `export claims`.

Rows are streamed: claims are read in id order in batches, and each batch's subjects, sources,
tags and links are fetched with one query apiece, so memory stays flat and no query runs per claim.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from tracker.dates import parse_optional_date, period_end
from tracker.errors import InvalidInput
from tracker.models import Actor, Appearance, Claim, ClaimSubject, ClaimTag, Link, Source
from tracker.services.actors import resolve_actor
from tracker.services.sources import resolve_source
from tracker.text import clean_tag
from tracker.vocab import OPPOSING, Relation, Status, Verdict

COLUMNS = [
    "id",
    "text",
    "quote",
    "claimant",
    "about",
    "stated",
    "sources",
    "first_source_url",
    "verdict",
    "status",
    "credibility",
    "tags",
    "supported_by",
    "disputed_by",
    "note",
    "uid",
    "created_at",
    "updated_at",
]
BATCH = 1000


@dataclass
class ClaimFilter:
    """The filters of `claim list` and `export claims`; references are resolved by `apply`."""

    by: Sequence[str] = ()
    about: Sequence[str] = ()
    source: Sequence[str] = ()
    tag: Sequence[str] = ()
    verdict: Sequence[Verdict | str] = ()
    status: Sequence[Status | str] = ()
    since: str | None = None
    until: str | None = None
    limit: int | None = None
    where: list[Any] = field(default_factory=list, init=False)

    def apply(self, session: Session, query: Select[Any]) -> Select[Any]:
        if self.by:
            ids = [resolve_actor(session, ref).id for ref in self.by]
            query = query.where(Claim.claimant_id.in_(ids))
        for ref in self.about:
            actor_id = resolve_actor(session, ref).id
            query = query.where(
                exists().where(ClaimSubject.claim_id == Claim.id, ClaimSubject.actor_id == actor_id)
            )
        for ref in self.source:
            source_id = resolve_source(session, ref).id
            query = query.where(
                exists().where(Appearance.claim_id == Claim.id, Appearance.source_id == source_id)
            )
        for raw in self.tag:
            query = query.where(
                exists().where(ClaimTag.claim_id == Claim.id, ClaimTag.tag == clean_tag(raw))
            )
        if self.verdict:
            query = query.where(Claim.verdict.in_([Verdict(v).value for v in self.verdict]))
        if self.status:
            query = query.where(Claim.status.in_([Status(s).value for s in self.status]))
        # A partial date stands for its whole period: keep claims whose period overlaps.
        since = parse_optional_date(self.since, "--since")
        if since:
            query = query.where(Claim.stated.is_not(None), Claim.stated + "-99" >= since)
        until = parse_optional_date(self.until, "--until")
        if until:
            query = query.where(Claim.stated.is_not(None), Claim.stated <= period_end(until))
        return query


def claim_rows(session: Session, filters: ClaimFilter | None = None) -> Iterator[dict[str, Any]]:
    """The claim report, one dict per claim in id order; list fields are Python lists.

    Filters are checked here, before the first row is asked for: a bad filter fails before
    anything (a CSV header, a JSON bracket) has been written.
    """
    filters = filters or ClaimFilter()
    if filters.limit is not None and filters.limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {filters.limit}")
    base = filters.apply(
        session,
        select(
            Claim.id,
            Claim.text,
            Claim.quote,
            Actor.name.label("claimant"),
            Claim.stated,
            Claim.verdict,
            Claim.status,
            Claim.credibility,
            Claim.note,
            Claim.uid,
            Claim.created_at,
            Claim.updated_at,
        ).join(Actor, Actor.id == Claim.claimant_id),
    ).order_by(Claim.id)
    return _stream(session, base, filters.limit)


def _stream(session: Session, base: Select[Any], limit: int | None) -> Iterator[dict[str, Any]]:
    conn = session.connection()
    remaining = limit
    last = 0
    while remaining is None or remaining > 0:
        size = BATCH if remaining is None else min(BATCH, remaining)
        batch = session.execute(base.where(Claim.id > last).limit(size)).all()
        if not batch:
            return
        ids = [row.id for row in batch]
        last = ids[-1]
        if remaining is not None:
            remaining -= len(batch)
        extras = _extras(conn, ids)
        for row in batch:
            item = row._asdict()
            item["created_at"] = row.created_at.isoformat()
            item["updated_at"] = row.updated_at.isoformat()
            sources = extras["sources"].get(row.id, [])
            item["about"] = extras["about"].get(row.id, [])
            item["sources"] = [title for title, _ in sources]
            item["first_source_url"] = next((url for _, url in sources if url), None)
            item["tags"] = extras["tags"].get(row.id, [])
            item["supported_by"] = extras["supported_by"].get(row.id, [])
            item["disputed_by"] = extras["disputed_by"].get(row.id, [])
            yield {column: item[column] for column in COLUMNS}
        if len(batch) < size:
            return


def _extras(conn: Any, ids: list[int]) -> dict[str, dict[int, list[Any]]]:
    extras: dict[str, dict[int, list[Any]]] = {
        "about": {},
        "sources": {},
        "tags": {},
        "supported_by": {},
        "disputed_by": {},
    }
    lo, hi = ids[0], ids[-1]

    def span(column: Any) -> Any:
        # A dense batch (the usual export) reads a range of the index; a sparse one, its ids.
        return and_(column >= lo, column <= hi) if hi - lo < 2 * len(ids) else column.in_(ids)

    for claim_id, name in conn.execute(
        select(ClaimSubject.claim_id, Actor.name)
        .join(Actor, Actor.id == ClaimSubject.actor_id)
        .where(span(ClaimSubject.claim_id))
        .order_by(ClaimSubject.claim_id, Actor.id)
    ):
        extras["about"].setdefault(claim_id, []).append(name)
    for claim_id, title, url in conn.execute(
        select(Appearance.claim_id, Source.title, Source.url)
        .join(Source, Source.id == Appearance.source_id)
        .where(span(Appearance.claim_id))
        .order_by(Appearance.claim_id, Appearance.position)
    ):
        extras["sources"].setdefault(claim_id, []).append((title, url))
    for claim_id, tag in conn.execute(
        select(ClaimTag.claim_id, ClaimTag.tag)
        .where(span(ClaimTag.claim_id))
        .order_by(ClaimTag.claim_id, ClaimTag.tag)
    ):
        extras["tags"].setdefault(claim_id, []).append(tag)
    for to_id, relation, from_id in conn.execute(
        select(Link.to_id, Link.relation, Link.from_id)
        .where(
            span(Link.to_id),
            Link.relation.in_([Relation.supports.value, *(r.value for r in OPPOSING)]),
        )
        .order_by(Link.to_id, Link.from_id)
    ):
        key = "supported_by" if relation == Relation.supports else "disputed_by"
        extras[key].setdefault(to_id, []).append(from_id)
    return extras


def count(session: Session, filters: ClaimFilter | None = None) -> int:
    query = (filters or ClaimFilter()).apply(session, select(func.count()).select_from(Claim))
    return session.scalar(query) or 0
