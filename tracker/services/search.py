"""Search as people type: claims by text, quote and note (SQLite FTS5, PostgreSQL tsvector);
actors and incidents by name, alias and description; sources by title, URL, publisher and author.

Every word matches as a prefix (`korea` finds "North Korean"), and all must match. The user's
words are searched literally: each is reduced to letters and digits and becomes a quoted FTS5
string with `*` (SQLite) or a quoted `'word':*` lexeme (PostgreSQL), so operators, quotes,
parentheses, `*`, `-`, `:` and SQL never change the query's meaning. SQLite keeps prefix
indexes for 2 to 4 characters (migration 0006), so a short prefix costs what a word costs.

Ranking (bm25 on SQLite, ts_rank on PostgreSQL) costs a few microseconds for every matching
claim, whatever the limit: a word found in 165,000 of a million claims took 200-300 ms to rank
in full. So by default only the newest `RANK_WINDOW` matches are ranked, newest by id, i.e. by when
they were recorded; a search with fewer matches (names, rare words, several words) is ranked in
full, and `SearchResult.more` says when older matches were left out. `rank_all=True` ranks every
match.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tracker.errors import InvalidInput
from tracker.models import Actor, ActorName, Incident, IncidentName, Source
from tracker.text import name_key

# Runs of letters and digits: `_` separates words, as it does in both search indexes.
_WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 32
RANK_WINDOW = 1000


@dataclass
class SearchResult:
    hits: list[dict[str, Any]]  # id, text, claimant, verdict, match; best first
    more: bool  # older matches exist that were not ranked (see RANK_WINDOW)
    window: int | None  # how many of the newest matches were ranked at most; None: all
    matched: int = 0  # how many claims match (when `more`, at least this many)


def words(query: str) -> list[str]:
    found = [w for w in _WORD.findall(query) if w.strip("_")]
    if not found:
        raise InvalidInput(f"nothing to search for in {query!r}: give at least one word")
    return found[:MAX_WORDS]


def fts5_query(query: str) -> str:
    """Every word as a quoted prefix, all required (implicit AND)."""
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words(query))


def tsquery(query: str) -> str:
    """Every word as a quoted prefix lexeme, all required: `'north':* & 'kor':*`. The words are
    runs of letters and digits (words()), so nothing in them is tsquery syntax."""
    return " & ".join(f"'{w}':*" for w in words(query))


# Rank inside the index first and join only the best `limit` rows: ranking every match after
# a join costs twice as much. bm25() directly is faster than FTS5's `rank` column here. FTS5
# walks its doclist backwards for ORDER BY rowid DESC, so the window costs what it ranks. The
# window takes one match more than it ranks: if it finds it, older matches were left out.
_SQLITE = """
    WITH candidates AS MATERIALIZED (
        SELECT rowid AS id, bm25(claim_fts) AS score FROM claim_fts
        WHERE claim_fts MATCH :query {newest}
    ),
    hits AS (SELECT id, score FROM {ranked} ORDER BY score, id LIMIT :limit)
    SELECT c.id, c.text, a.name AS claimant, c.verdict,
           (SELECT count(*) FROM candidates) AS considered
    FROM hits
    JOIN claim c ON c.id = hits.id
    JOIN actor a ON a.id = c.claimant_id
    ORDER BY hits.score, c.id
"""
_SQLITE_NEWEST = "ORDER BY rowid DESC LIMIT :window + 1"
# snippet() needs the MATCH in its own query. FTS5 takes a rowid range but not an IN list
# (which it would test on every match, at about 0.5 µs each), hence both, the list made
# opaque (+rowid) so that the planner keeps the range.
_SQLITE_SNIPPETS = """
    SELECT rowid, snippet(claim_fts, -1, '[', ']', '…', 12) FROM claim_fts
    WHERE claim_fts MATCH :query AND rowid BETWEEN :low AND :high AND +rowid IN ({ids})
"""

# The tsquery is written out, not taken from a CTE, so the planner sees the words and picks the
# plan: the GIN index for rare words, the primary key backwards for common ones.
_TSQUERY = "to_tsquery('tracker_search', :query)"
_POSTGRES = f"""
    WITH candidates AS MATERIALIZED (
        SELECT c.id, c.search FROM claim c WHERE c.search @@ {_TSQUERY} {{newest}}
    ),
    hits AS (
        SELECT id, ts_rank(search, {_TSQUERY}) AS score FROM {{ranked}}
        ORDER BY score DESC, id LIMIT :limit
    )
    SELECT c.id, c.text, a.name AS claimant, c.verdict,
           ts_headline('tracker_search', c.text, {_TSQUERY},
                       'StartSel=[,StopSel=],MaxWords=24') AS match,
           (SELECT count(*) FROM candidates) AS considered
    FROM hits
    JOIN claim c ON c.id = hits.id
    JOIN actor a ON a.id = c.claimant_id
    ORDER BY hits.score DESC, c.id
"""
_POSTGRES_NEWEST = "ORDER BY c.id DESC LIMIT :window + 1"
# The same, through the GIN index: every match is fetched and the newest kept (`+ 0` keeps the
# primary key out of the ordering). See _through_index.
_POSTGRES_NEWEST_INDEXED = "ORDER BY c.id + 0 DESC LIMIT :window + 1"
_ESTIMATE = text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM claim WHERE search @@ {_TSQUERY}")
_CLAIMS = text("SELECT reltuples FROM pg_class WHERE oid = 'claim'::regclass")
_CLAIMS_KEY = "tracker.search.claims"
# Testing a claim in a backward walk of the primary key costs about an eighth of fetching a
# match through the GIN index (1.3 and 10 µs at 1M claims on a busy machine: the walk reads
# pages in order, the fetches all over the table).
_WALK_PER_FETCH = 0.12
# All candidates but the extra, oldest one.
_RANKED = "(SELECT * FROM candidates ORDER BY id DESC LIMIT :window) AS newest"
# By (on SQLite, windowed).
_STATEMENTS = {
    (True, False): text(_SQLITE.format(newest="", ranked="candidates")),
    (True, True): text(_SQLITE.format(newest=_SQLITE_NEWEST, ranked=_RANKED)),
    (False, False): text(_POSTGRES.format(newest="", ranked="candidates")),
    (False, True): text(_POSTGRES.format(newest=_POSTGRES_NEWEST, ranked=_RANKED)),
}
_POSTGRES_INDEXED = text(_POSTGRES.format(newest=_POSTGRES_NEWEST_INDEXED, ranked=_RANKED))


def _through_index(session: Session, match: str, window: int) -> bool:
    """Whether the newest `window` matches are cheaper to find through the GIN index than by
    walking the claims back from the newest. The walk tests about window / share claims; the
    index fetches every match, share * claims. PostgreSQL's planner knows the share (its
    statistics) but prices the index's fetches as reads from disk (random_page_cost): for a
    word in 0.6% of a million claims it walked back 163,000 claims (213 ms on a busy machine)
    where the index fetches 6,200 (60 ms). The crossover is where both cost the same: about
    11,000 matches in a million claims.
    A table never analyzed (reltuples -1) is left to the planner."""
    plan = session.execute(_ESTIMATE, {"query": match}).scalar_one()
    matches = float(plan[0]["Plan"]["Plan Rows"])
    # Once per session: a round trip costs more than the figure changes between searches.
    claims = session.info.get(_CLAIMS_KEY)
    if claims is None:
        claims = session.info[_CLAIMS_KEY] = float(session.execute(_CLAIMS).scalar_one())
    return matches * matches < _WALK_PER_FETCH * window * max(claims, 0.0)


@contextmanager
def _unprepared(session: Session) -> Iterator[None]:
    """psycopg prepares a statement run 5 times on a connection, and PostgreSQL then plans it
    once for any words: the walk or the index, whichever the first words needed, for every
    word after them (a common word then took a second, a rare one a walk). Sent unprepared,
    each search is planned for its words. Client-side: no round trip."""
    raw: Any = session.connection().connection.dbapi_connection
    if not hasattr(raw, "prepare_threshold"):
        yield
        return
    threshold = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = threshold


def search_claims(
    session: Session, query: str, *, limit: int | None = 20, rank_all: bool = False
) -> SearchResult:
    """The best-ranked claims matching every word of `query` (as prefixes), among the newest
    RANK_WINDOW matches (at least `limit`), or among all of them with `rank_all`; `limit=None`
    returns every match, all ranked."""
    if limit is not None and limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {limit}")
    window = None if rank_all or limit is None else max(RANK_WINDOW, limit)
    sqlite = session.get_bind().dialect.name == "sqlite"
    match = fts5_query(query) if sqlite else tsquery(query)
    # No limit: -1 on SQLite, NULL (LIMIT ALL) on PostgreSQL.
    rows = limit if limit is not None else (-1 if sqlite else None)
    params = {"query": match, "limit": rows, "window": window}
    statement = _STATEMENTS[sqlite, window is not None]
    with _unprepared(session):
        if not sqlite and window is not None and _through_index(session, match, window):
            statement = _POSTGRES_INDEXED
        hits = [row._asdict() for row in session.execute(statement, params)]
    considered = hits[0]["considered"] if hits else 0
    for row in hits:
        del row["considered"]
    if sqlite and hits:
        found = [int(row["id"]) for row in hits]
        snippets: dict[int, str] = dict(
            session.execute(
                text(_SQLITE_SNIPPETS.format(ids=",".join(map(str, found)))),
                {"query": match, "low": min(found), "high": max(found)},
            ).all()
        )
        for row in hits:
            row["match"] = snippets.get(row["id"], row["text"])
    more = window is not None and considered > window
    return SearchResult(hits, more, window, window if more and window else considered)


def _keyed_words(query: str) -> list[str]:
    return [w for w in _WORD.findall(name_key(query)) if w.strip("_")]


def _found(wanted: list[str], fields: list[tuple[str, str | None]]) -> str | None:
    """The first field (as "field: value") in which a word starts with some wanted word, if
    every wanted word starts a word of some field; else None."""
    tokens = [(label, value, _WORD.findall(name_key(value))) for label, value in fields if value]
    first: str | None = None
    for want in wanted:
        where = next(
            (
                (label, value)
                for label, value, words in tokens
                if any(w.startswith(want) for w in words)
            ),
            None,
        )
        if where is None:
            return None
        # Found in the name or title (listed first) says just that; elsewhere, what it was.
        first = first or (where[0] if where[0] == fields[0][0] else f"{where[0]}: {where[1]}")
    return first


def search_actors(session: Session, query: str, *, limit: int | None = 20) -> SearchResult:
    """Actors whose name, aliases or description hold every word of `query` as a prefix;
    those matched by their name first, then by name."""
    return _search_named(session, query, Actor, ActorName, ActorName.actor_id, limit)


def search_incidents(session: Session, query: str, *, limit: int | None = 20) -> SearchResult:
    """Incidents whose name, aliases or description hold every word of `query` as a prefix;
    those matched by their name first, then by name."""
    return _search_named(session, query, Incident, IncidentName, IncidentName.incident_id, limit)


def _search_named(
    session: Session,
    query: str,
    record: type[Actor] | type[Incident],
    names: type[ActorName] | type[IncidentName],
    owner: Any,
    limit: int | None,
) -> SearchResult:
    wanted = _keyed_words(" ".join(words(query)))
    aliases: dict[int, list[str]] = {}
    for ident, alias in session.execute(
        select(owner, names.name).where(names.is_primary.is_(False)).order_by(names.id)
    ):
        aliases.setdefault(ident, []).append(alias)
    hits = []
    for ident, name, kind, description in session.execute(
        select(record.id, record.name, record.kind, record.description)
    ):
        fields = [
            ("name", name),
            *(("alias", a) for a in aliases.get(ident, [])),
            ("description", description),
        ]
        where = _found(wanted, fields)
        if where is not None:
            hits.append(
                {
                    "id": ident,
                    "name": name,
                    "kind": kind,
                    "aliases": aliases.get(ident, []),
                    "match": where,
                }
            )
    return _ranked(hits, "name", limit)


def search_sources(session: Session, query: str, *, limit: int | None = 20) -> SearchResult:
    """Sources whose title, URL, publisher or authors hold every word of `query` as a prefix;
    those matched by their title first, then by title."""
    wanted = _keyed_words(" ".join(words(query)))
    hits = []
    for ident, title, kind, url, published, authors, publisher in session.execute(
        select(
            Source.id,
            Source.title,
            Source.kind,
            Source.url,
            Source.published,
            Source.authors,
            Actor.name,
        ).outerjoin(Actor, Actor.id == Source.publisher_id)
    ):
        fields = [
            ("title", title),
            ("url", url),
            ("publisher", publisher),
            *(("author", a) for a in authors or []),
        ]
        where = _found(wanted, fields)
        if where is not None:
            hits.append(
                {
                    "id": ident,
                    "title": title,
                    "kind": kind,
                    "publisher": publisher,
                    "published": published,
                    "url": url,
                    "match": where,
                }
            )
    return _ranked(hits, "title", limit)


def _ranked(hits: list[dict[str, Any]], main: str, limit: int | None) -> SearchResult:
    if limit is not None and limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {limit}")
    hits.sort(key=lambda h: (h["match"] != main, name_key(h[main]), h["id"]))
    return SearchResult(hits[:limit], False, None, len(hits))
