"""Sources: the reports, articles and statements claims appear in, and what they cite."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, object_session

from tracker import vocab
from tracker.dates import parse_optional_date
from tracker.errors import Ambiguous, Conflict, NotFound
from tracker.models import Appearance, Source, SourceCitation
from tracker.services import identity
from tracker.services.actors import resolve_actor
from tracker.services.common import notify, parse_id, record
from tracker.services.editing import Editable
from tracker.text import clean_name, clean_url, name_key
from tracker.vocab import RELIABILITY_MEANING, SourceKind, reliability_grade


def _url(value: str | None) -> str | None:
    return clean_url(value) if value is not None and value.strip() else None


def find_sources(session: Session, ref: str | int) -> list[Source]:
    ident = parse_id(ref)
    if ident is not None:
        source = session.get(Source, ident)
        return [source] if source else []
    text = str(ref).strip()
    if text.lower().startswith(("http://", "https://")):
        return list(session.scalars(select(Source).where(Source.url == text).order_by(Source.id)))
    return list(
        session.scalars(
            select(Source).where(Source.title_key == name_key(text)).order_by(Source.id)
        )
    )


def label(source: Source) -> str:
    """A source as lists and errors show it: id, title, publisher and date, to tell namesakes
    apart."""
    facts = ", ".join(
        [
            source.publisher.name if source.publisher else "no publisher",
            source.published or "undated",
        ]
    )
    return f"#{source.id} {source.title!r} ({facts})"


def resolve_source(session: Session, ref: str | int, *, create: bool = False) -> Source:
    """A source by id, exact URL or title (case- and accent-insensitive). With `create`, a title
    or URL nobody has is added, unless it resembles a known title (refused with the candidates;
    `NamePolicy.new` overrides) or the policy forbids new names."""
    found = find_sources(session, ref)
    if len(found) == 1:
        return found[0]
    if found:
        raise Ambiguous("source", str(ref), [label(s) for s in found])
    if parse_id(ref) is not None:
        raise NotFound(f"no source with id {ref}")
    text = str(ref).strip()
    directory = identity.sources(session)
    if not create:
        raise NotFound(f"no source {text!r}{directory.suggestion(text)}")
    is_url = text.lower().startswith(("http://", "https://"))
    title = clean_name(text, "source title")
    directory.check_new_source(title, _url(text) if is_url else None, strict=True, new=False)
    before = len(directory.created)
    source = _create(session, title=title, url=_url(text) if is_url else None, found_ok=True)
    if len(directory.created) > before:
        notify(session, f"created source {source.title!r} (#{source.id})")
    return source


def _create(
    session: Session,
    *,
    publisher: str | None = None,
    found_ok: bool = False,
    namesake: bool = False,
    **values: Any,
) -> Source:
    """One way to make a source, whatever asked for it: the directory writes it and its history.
    `found_ok`: a source of this title and URL that another writer created meanwhile is the
    one asked for (find-or-create); otherwise that is a Conflict, unless `namesake` (--new)
    adds this one beside it."""
    publisher_actor = resolve_actor(session, publisher, create=True) if publisher else None
    if publisher_actor is not None:
        values["publisher_id"] = publisher_actor.id
    try:
        ident = identity.sources(session).create(
            values, publisher_actor.name if publisher_actor else None, namesake=namesake
        )
    except identity.NameTaken as taken:
        if not found_ok:
            raise
        ident = taken.holder
    source = session.get(Source, ident)
    assert source is not None
    return source


def add_source(
    session: Session,
    title: str,
    *,
    kind: SourceKind | str = SourceKind.other,
    publisher: str | None = None,
    authors: Sequence[str] = (),
    url: str | None = None,
    published: str | None = None,
    retrieved: str | None = None,
    reliability: str | None = None,
    cites: Sequence[str] = (),
    new: bool = False,
) -> Source:
    """Add a source. A title that a source already has needs a URL of its own (or `new`); a
    title like a known one is refused with the candidates unless `new`."""
    title = clean_name(title, "source title")
    url = _url(url)
    values: dict[str, Any] = {
        "title": title,
        "kind": vocab.source_kind(kind),
        "authors": [clean_name(a, "author") for a in authors],
        "url": url,
        "published": parse_optional_date(published, "publication date"),
        "retrieved": parse_optional_date(retrieved, "retrieved date"),
        "reliability": reliability_grade(reliability),
    }
    identity.allow_new(session, new)
    directory = identity.sources(session)
    if url is not None and directory.by_pair(title, url) is not None:
        raise Conflict(f"a source titled {title!r} with this URL exists already")
    directory.check_new_source(title, url, strict=True, new=new, explicit=True)
    source = _create(session, publisher=publisher, namesake=new, **values)
    cited = [found.id for ref in cites if (found := _cite(session, source, ref)) is not None]
    if cited:
        record(session, "source", source.id, "edited", {"cites": {"added": cited}})
    return source


def _cite(session: Session, source: Source, ref: str) -> Source | None:
    """Record that `source` cites `ref`; None if it already did."""
    cited = resolve_source(session, ref)
    if cited.id == source.id:
        raise Conflict(f"source #{source.id} cannot cite itself")
    if source.id in {s["id"] for s in citation_chain(session, cited.id)}:
        raise Conflict(f"source #{cited.id} already rests on #{source.id}: that would be a loop")
    if session.get(SourceCitation, (source.id, cited.id)) is not None:
        return None
    session.add(SourceCitation(source_id=source.id, cited_id=cited.id))
    session.flush()
    return cited


def _retitle(session: Session, source: Source, title: str) -> None:
    source.title = title
    source.title_key = name_key(title)
    _mark_namesake(session, source)


def _set_url(session: Session, source: Source, url: str | None) -> None:
    source.url = url
    _mark_namesake(session, source)


def _mark_namesake(session: Session, source: Source) -> None:
    """A source edited to the title and URL of another is that one's namesake (`twin`), as if
    added with --new; decided before the change is flushed, or the unique key would refuse it."""
    with session.no_autoflush:
        directory = identity.SourceDirectory(session.connection())
        source.twin = directory.namesake(source.title_key, source.url, other_than=source.id)


def _set_publisher(session: Session, source: Source, publisher: str) -> None:
    source.publisher = resolve_actor(session, publisher, create=True) if publisher else None


def _add_cites(session: Session, source: Source, refs: Sequence[str]) -> None:
    for ref in refs:
        _cite(session, source, ref)


def _remove_cites(session: Session, source: Source, refs: Sequence[str]) -> None:
    for ref in refs:
        cited = resolve_source(session, ref)
        link = session.get(SourceCitation, (source.id, cited.id))
        if link is None:
            raise NotFound(f"source #{source.id} does not cite #{cited.id}")
        session.delete(link)


def _cited_ids(source: Source) -> list[int]:
    session = object_session(source)
    assert session is not None
    session.flush()
    return list(
        session.scalars(
            select(SourceCitation.cited_id)
            .where(SourceCitation.source_id == source.id)
            .order_by(SourceCitation.cited_id)
        )
    )


EDITABLE = Editable(
    "source",
    scalars={
        "title": lambda _s, v: clean_name(v, "source title"),
        "kind": lambda _s, v: vocab.source_kind(v),
        "publisher": lambda _s, v: v.strip(),  # resolved (or created) when set: _set_publisher
        # `--author ''` clears them
        "authors": lambda _s, v: [clean_name(a, "author") for a in v if a.strip()],
        "url": lambda _s, v: _url(v),
        "published": lambda _s, v: parse_optional_date(v, "publication date"),
        "retrieved": lambda _s, v: parse_optional_date(v, "retrieved date"),
        "reliability": lambda _s, v: reliability_grade(v),
    },
    lists={"cites": (_add_cites, _remove_cites)},
    state=lambda s: {
        "title": s.title,
        "kind": s.kind,
        "publisher": s.publisher.name if s.publisher else None,
        "authors": list(s.authors),
        "url": s.url,
        "published": s.published,
        "retrieved": s.retrieved,
        "reliability": s.reliability,
        "cites": _cited_ids(s),
    },
    setters={"title": _retitle, "url": _set_url, "publisher": _set_publisher},
)


def edit_source(
    session: Session,
    ref: str,
    *,
    fields: Mapping[str, Any] | None = None,
    add: Mapping[str, Sequence[str]] | None = None,
    remove: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Source, dict[str, Any]]:
    """Change a source: `fields` sets title, kind, publisher, authors, url, dates, reliability
    ('' clears an optional one); `add`/`remove` change what it cites. The history records the
    difference."""
    source = resolve_source(session, ref)
    changes = EDITABLE.edit(session, source, fields, add, remove)
    return source, changes


def citation_chain(session: Session, source_id: int) -> list[dict[str, Any]]:
    """What the source rests on, transitively, nearest first, each once (loops cannot recur)."""
    chain: list[dict[str, Any]] = []
    seen = {source_id}
    frontier = [(source_id, 0)]
    while frontier:
        parents = [sid for sid, _ in frontier]
        depth = frontier[0][1] + 1
        rows = session.execute(
            select(SourceCitation.source_id, Source)
            .options(joinedload(Source.publisher))
            .join(Source, Source.id == SourceCitation.cited_id)
            .where(SourceCitation.source_id.in_(parents))
            .order_by(Source.id)
        ).all()
        frontier = []
        for via, cited in rows:
            if cited.id in seen:
                continue
            seen.add(cited.id)
            chain.append({**source_brief(cited), "depth": depth, "via": via})
            frontier.append((cited.id, depth))
    return chain


def source_brief(source: Source) -> dict[str, Any]:
    return {
        "id": source.id,
        "title": source.title,
        "kind": source.kind,
        "publisher": source.publisher.name if source.publisher else None,
        "url": source.url,
        "published": source.published,
        "reliability": source.reliability,
    }


def source_record(session: Session, source: Source) -> dict[str, Any]:
    cited_by = session.scalars(
        select(Source)
        .join(SourceCitation, SourceCitation.source_id == Source.id)
        .where(SourceCitation.cited_id == source.id)
        .order_by(Source.id)
    ).all()
    return {
        **source_brief(source),
        "uid": source.uid,
        "authors": source.authors,
        "retrieved": source.retrieved,
        "reliability_meaning": RELIABILITY_MEANING.get(source.reliability or ""),
        "cites": citation_chain(session, source.id),
        "cited_by": [{"id": s.id, "title": s.title} for s in cited_by],
        "claims": session.scalar(
            select(func.count()).select_from(Appearance).where(Appearance.source_id == source.id)
        ),
        "created_at": source.created_at.isoformat(),
        "updated_at": source.updated_at.isoformat(),
    }


def list_sources(session: Session) -> list[dict[str, Any]]:
    counts = (
        select(Appearance.source_id, func.count().label("n"))
        .group_by(Appearance.source_id)
        .subquery()
    )
    rows = session.execute(
        select(Source, func.coalesce(counts.c.n, 0))
        .options(joinedload(Source.publisher))
        .outerjoin(counts, counts.c.source_id == Source.id)
        .order_by(Source.published.is_(None), Source.published, Source.id)
    ).all()
    return [{**source_brief(s), "claims": n} for s, n in rows]
