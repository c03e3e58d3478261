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


_SQLITE = text(
    """
    SELECT c.id, c.text, a.name AS claimant, c.verdict,
           snippet(claim_fts, -1, '[', ']', '…', 12) AS match
    FROM claim_fts
    JOIN claim c ON c.id = claim_fts.rowid
    JOIN actor a ON a.id = c.claimant_id
    WHERE claim_fts MATCH :query
    ORDER BY claim_fts.rank, c.id
    LIMIT :limit
    """
)

_POSTGRES = text(
    """
    SELECT c.id, c.text, a.name AS claimant, c.verdict,
           ts_headline('tracker_search', c.text, q, 'StartSel=[,StopSel=],MaxWords=24') AS match
    FROM claim c
    JOIN actor a ON a.id = c.claimant_id,
         plainto_tsquery('tracker_search', :query) q
    WHERE c.search @@ q
    ORDER BY ts_rank(c.search, q) DESC, c.id
    LIMIT :limit
    """
)


def search_claims(session: Session, query: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """The best-ranked claims matching every word of `query`."""
    if limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {limit}")
    if session.get_bind().dialect.name == "sqlite":
        rows = session.execute(_SQLITE, {"query": fts5_query(query), "limit": limit})
    else:
        rows = session.execute(_POSTGRES, {"query": " ".join(words(query)), "limit": limit})
    return [row._asdict() for row in rows]
