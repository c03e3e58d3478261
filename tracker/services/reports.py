"""Reports: the whole picture, one actor, one source, and every dispute with both sides."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from tracker.models import Actor, Appearance, Claim, ClaimSubject, Link, Source
from tracker.services.actors import actor_record, resolve_actor
from tracker.services.sources import resolve_source, source_record
from tracker.vocab import OPPOSING, Relation

TOP = 10
_opposing = [r.value for r in OPPOSING]


def _disputes_count() -> Any:
    return (
        select(Link.to_id, func.count().label("disputes"))
        .where(Link.relation.in_(_opposing))
        .group_by(Link.to_id)
        .subquery()
    )


def summary(session: Session, top: int = TOP) -> dict[str, Any]:
    def total(model: Any) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    by_verdict = session.execute(
        select(func.coalesce(Claim.verdict, "(none)"), func.count())
        .group_by(Claim.verdict)
        .order_by(func.count().desc(), Claim.verdict)
    ).all()
    by_status = session.execute(
        select(Claim.status, func.count()).group_by(Claim.status).order_by(Claim.status)
    ).all()
    per_claimant = (
        select(Claim.claimant_id, func.count().label("n")).group_by(Claim.claimant_id).subquery()
    )
    by_claimant = session.execute(
        select(Actor.id, Actor.name, per_claimant.c.n)
        .join(per_claimant, per_claimant.c.claimant_id == Actor.id)
        .order_by(per_claimant.c.n.desc(), Actor.name)
        .limit(top)
    ).all()
    per_source = (
        select(Appearance.source_id, func.count().label("n"))
        .group_by(Appearance.source_id)
        .subquery()
    )
    by_source = session.execute(
        select(Source.id, Source.title, per_source.c.n)
        .join(per_source, per_source.c.source_id == Source.id)
        .order_by(per_source.c.n.desc(), Source.title)
        .limit(top)
    ).all()
    disputes = _disputes_count()
    most_disputed = session.execute(
        select(Claim.id, Claim.text, Actor.name, Claim.verdict, disputes.c.disputes)
        .join(disputes, disputes.c.to_id == Claim.id)
        .join(Actor, Actor.id == Claim.claimant_id)
        .order_by(disputes.c.disputes.desc(), Claim.id)
        .limit(top)
    ).all()
    return {
        "totals": {
            "claims": total(Claim),
            "actors": total(Actor),
            "sources": total(Source),
            "links": total(Link),
        },
        "by_verdict": [{"verdict": v, "claims": n} for v, n in by_verdict],
        "by_status": [{"status": s, "claims": n} for s, n in by_status],
        "by_claimant": [{"id": i, "claimant": name, "claims": n} for i, name, n in by_claimant],
        "by_source": [{"id": i, "source": title, "claims": n} for i, title, n in by_source],
        "most_disputed": [
            {"id": i, "text": t, "claimant": name, "verdict": v, "disputes": n}
            for i, t, name, v, n in most_disputed
        ],
    }


def _claim_table(session: Session, where: Any) -> list[dict[str, Any]]:
    disputes = _disputes_count()
    rows = session.execute(
        select(
            Claim.id,
            Claim.text,
            Actor.name,
            Claim.stated,
            Claim.verdict,
            func.coalesce(disputes.c.disputes, 0),
        )
        .join(Actor, Actor.id == Claim.claimant_id)
        .outerjoin(disputes, disputes.c.to_id == Claim.id)
        .where(where)
        .order_by(Claim.stated.is_(None), Claim.stated, Claim.id)
    ).all()
    return [
        {"id": i, "text": t, "claimant": name, "stated": d, "verdict": v, "disputes": n}
        for i, t, name, d, v, n in rows
    ]


def actor_report(session: Session, ref: str) -> dict[str, Any]:
    actor = resolve_actor(session, ref)
    about = select(ClaimSubject.claim_id).where(ClaimSubject.actor_id == actor.id)
    return {
        "actor": actor_record(actor),
        "claims_by": _claim_table(session, Claim.claimant_id == actor.id),
        "claims_about": _claim_table(session, Claim.id.in_(about)),
    }


def source_report(session: Session, ref: str) -> dict[str, Any]:
    source = resolve_source(session, ref)
    inside = select(Appearance.claim_id).where(Appearance.source_id == source.id)
    return {
        "source": source_record(session, source),
        "claims": _claim_table(session, Claim.id.in_(inside)),
    }


def disputed_report(session: Session) -> list[dict[str, Any]]:
    """Each claim that another disputes or refutes, with the opposing claims beside it."""
    target = aliased(Claim)
    opponent = aliased(Claim)
    target_actor = aliased(Actor)
    opponent_actor = aliased(Actor)
    rows = session.execute(
        select(
            target.id,
            target.text,
            target_actor.name,
            target.verdict,
            Link.relation,
            opponent.id,
            opponent.text,
            opponent_actor.name,
            opponent.verdict,
        )
        .join(Link, Link.to_id == target.id)
        .join(opponent, opponent.id == Link.from_id)
        .join(target_actor, target_actor.id == target.claimant_id)
        .join(opponent_actor, opponent_actor.id == opponent.claimant_id)
        .where(Link.relation.in_(_opposing))
        .order_by(target.id, opponent.id)
    ).all()
    report: dict[int, dict[str, Any]] = {}
    for t_id, t_text, t_by, t_verdict, relation, o_id, o_text, o_by, o_verdict in rows:
        entry = report.setdefault(
            t_id,
            {"id": t_id, "text": t_text, "claimant": t_by, "verdict": t_verdict, "opposed_by": []},
        )
        entry["opposed_by"].append(
            {
                "relation": relation,
                "id": o_id,
                "text": o_text,
                "claimant": o_by,
                "verdict": o_verdict,
            }
        )
    supporters = session.execute(
        select(Link.to_id, Link.from_id)
        .where(Link.relation == Relation.supports.value, Link.to_id.in_(list(report)))
        .order_by(Link.to_id, Link.from_id)
    ).all()
    for entry in report.values():
        entry["supported_by"] = []
    for to_id, from_id in supporters:
        report[to_id]["supported_by"].append(from_id)
    return list(report.values())
