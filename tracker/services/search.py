"""Full-text search over claim text, quotes and notes (SQLite FTS5, PostgreSQL tsvector).

The user's words are searched literally: each word becomes a quoted FTS5 string, so operators,
quotes, parentheses, `*`, `-`, `:` and SQL never change the query's meaning.
"""

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from tracker.errors import InvalidInput

_WORD = re.compile(r"\w+")
MAX_WORDS = 32


def words(query: str) -> list[str]:
    found = [w for w in _WORD.findall(query) if w.strip("_")]
    if not found:
        raise InvalidInput(f"nothing to search for in {query!r}: give at least one word")
    return found[:MAX_WORDS]


def fts5_query(query: str) -> str:
    """Every word as a quoted string, all required (implicit AND)."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words(query))


# Rank inside the index first and join only the best `limit` rows: ranking every match after
# a join costs twice as much. bm25() directly is faster than FTS5's `rank` column here.
_SQLITE = text(
    """
    WITH hits AS (
        SELECT rowid AS id, bm25(claim_fts) AS score FROM claim_fts
        WHERE claim_fts MATCH :query ORDER BY score LIMIT :limit
    )
    SELECT c.id, c.text, a.name AS claimant, c.verdict
    FROM hits
    JOIN claim c ON c.id = hits.id
    JOIN actor a ON a.id = c.claimant_id
    ORDER BY hits.score, c.id
    """
)
# snippet() needs the MATCH in its own query; on a handful of rowids it is cheap.
_SQLITE_SNIPPETS = """
    SELECT rowid, snippet(claim_fts, -1, '[', ']', '…', 12) FROM claim_fts
    WHERE claim_fts MATCH :query AND rowid IN ({ids})
"""

_POSTGRES = text(
    """
    WITH q AS (SELECT plainto_tsquery('tracker_search', :query) AS q),
    hits AS (
        SELECT c.id, ts_rank(c.search, q.q) AS score FROM claim c, q
        WHERE c.search @@ q.q ORDER BY score DESC, c.id LIMIT :limit
    )
    SELECT c.id, c.text, a.name AS claimant, c.verdict,
           ts_headline('tracker_search', c.text, q.q, 'StartSel=[,StopSel=],MaxWords=24') AS match
    FROM hits
    JOIN claim c ON c.id = hits.id
    JOIN actor a ON a.id = c.claimant_id,
         q
    ORDER BY hits.score DESC, c.id
    """
)


def search_claims(session: Session, query: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """The best-ranked claims matching every word of `query`."""
    if limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {limit}")
    if session.get_bind().dialect.name != "sqlite":
        rows = session.execute(_POSTGRES, {"query": " ".join(words(query)), "limit": limit})
        return [row._asdict() for row in rows]
    match = fts5_query(query)
    found = [row._asdict() for row in session.execute(_SQLITE, {"query": match, "limit": limit})]
    if found:
        ids = ",".join(str(int(row["id"])) for row in found)
        snippets = dict(
            session.execute(text(_SQLITE_SNIPPETS.format(ids=ids)), {"query": match}).all()
        )
        for row in found:
            row["match"] = snippets.get(row["id"], row["text"])
    return found
