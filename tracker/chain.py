"""The history's hash chain: how an entry is sealed when its transaction commits, and how the
chain is verified.

Each entry's `hash` is the SHA-256 of the text `<seq>:<prev_hash>:<content digest>`: its place,
the `hash` of the entry before it (empty for the first) and the SHA-256 (hex) of its content,
the canonical JSON array [uid, entity, entity_id, action, changes, by, role, at], written with
sorted keys, no spaces and no ASCII escaping, `at` in UTC with microseconds (`content_digest`,
`link`). The same text on SQLite and PostgreSQL, in a dump and in the database: a chain moves
between them unchanged.

Sealing happens once per writing transaction, just before it commits (a listener installed by
tracker.db.make_engine): it hashes the content of the transaction's new entries, then locks
the one-row `history_head`, numbers the entries after the head in id order, links each to the
one before, and moves the head. The lock is held for that last step only, so parallel writers
queue for it, not for their whole transaction. Any history insert is sealed this way, bulk
statements included, whatever code wrote it.

What the chain proves: an entry changed after it was sealed (its hash no longer matches), an
entry removed from the middle (a gap in seq), entries moved (the hash covers seq and the hash
before) and the end cut off (the head names a later entry) -- unless whoever did it also
rewrote every later hash and the head, which needs write access the database refuses (the
append-only triggers, and on PostgreSQL the privileges of `tracker db grant`). The head shown
by `tracker db status`, or kept in a dump's manifest, anchors the chain outside the database:
a rewrite is revealed against any copy of it taken before.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Text, cast, select, text

from tracker.models import HistoryEntry, HistoryHead

BATCH = 5000
# Problems named before the rest are only counted: after one break, a tampered chain may fail
# at every entry.
MAX_PROBLEMS = 20

_history = HistoryEntry.__table__
_CONTENT = [
    _history.c.id,
    _history.c.uid,
    _history.c.entity,
    _history.c.entity_id,
    _history.c.action,
    # As stored: a bulk import writes one `changes` for thousands of entries, canonicalised once.
    cast(_history.c.changes, Text).label("changes"),
    _history.c.by,
    _history.c.role,
    _history.c.at,
]


def canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# Built once: json.dumps with options makes a new encoder at every call, 10x the cost.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


@lru_cache(maxsize=4096)
def canonical_changes(stored: str) -> str:
    return _ENCODER.encode(json.loads(stored))


def content_digest(entry: Any) -> bytes:
    """The SHA-256 of an entry's content: the canonical JSON array [uid, entity, entity_id,
    action, changes, by, role, at], `changes` given as the JSON text stored."""
    first = _ENCODER.encode([entry.uid, entry.entity, entry.entity_id, entry.action])
    last = _ENCODER.encode([entry.by, entry.role, canonical_time(entry.at)])
    canonical = f"{first[:-1]},{canonical_changes(entry.changes)},{last[1:]}"
    return hashlib.sha256(canonical.encode("utf-8")).digest()


def link(seq: int, prev_hash: str | None, digest: bytes) -> str:
    """An entry's hash (hex): the SHA-256 of `seq`, the hash before it and its content's."""
    return hashlib.sha256(f"{seq}:{prev_hash or ''}:{digest.hex()}".encode()).hexdigest()


def entry_hash(seq: int, prev_hash: str | None, entry: Any) -> str:
    return link(seq, prev_hash, content_digest(entry))


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str | None


# How long a committing writer waits for another to finish sealing (PostgreSQL).
HEAD_WAIT_S = 120


def head(conn: Connection, *, lock: bool = False) -> Head:
    """The chain's recorded end (seq 0 before any entry). `lock` takes it for this transaction:
    the one point where sealing writers queue."""
    query = select(HistoryHead.seq, HistoryHead.hash).where(HistoryHead.id == 1)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return Head(row.seq, row.hash) if row is not None else Head(0, None)


def seal(conn: Connection) -> int:
    """Give every entry not yet in the chain its place, in id order; returns how many.

    Runs just before a writing transaction commits. The content of each entry is hashed first;
    then the chain's head is locked (on SQLite the transaction already holds the file's write
    lock; on PostgreSQL the head's row lock serialises this step alone), and each entry gets
    its seq and hash from the one before it: the lock lasts for that cheap step and the writes.
    """
    unsealed = _history.c.seq.is_(None)
    if conn.execute(select(_history.c.id).where(unsealed).limit(1)).first() is None:
        return 0
    # Compact: a million entries take 40 MB here, not the 200 MB of a dict of strings.
    ids, digests = array("q"), bytearray()
    for rows in _batches(conn, unsealed):
        for row in rows:
            ids.append(row.id)
            digests += content_digest(row)
    conn.execute(
        text("INSERT INTO history_head (id, seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
    )
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        # A writer that commits while a large import seals its entries queues behind it for
        # as long as that takes (seconds for a million-row import), rather than giving up
        # after the usual lock timeout with all its work lost.
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{HEAD_WAIT_S}s'")
    current = head(conn, lock=True)
    seq, prev, sealed, at = current.seq, current.hash, 0, 0
    values: list[tuple[int, int, str | None, str]] = []
    # Still unsealed now that the head is ours: a committed entry written around tracker may
    # have been sealed by another writer meanwhile, or have appeared.
    for ident in conn.execute(
        select(_history.c.id).where(unsealed).order_by(_history.c.id)
    ).scalars():
        while at < len(ids) and ids[at] < ident:
            at += 1
        if at < len(ids) and ids[at] == ident:
            digest = bytes(digests[at * 32 : at * 32 + 32])
        else:
            row = conn.execute(select(*_CONTENT).where(_history.c.id == ident)).one()
            digest = content_digest(row)
        seq += 1
        before, prev = prev, link(seq, prev, digest)
        values.append((ident, seq, before, prev))
        if len(values) >= BATCH:
            _write_seals(conn, values, postgres=postgres)
            sealed += len(values)
            values = []
    if values:
        _write_seals(conn, values, postgres=postgres)
        sealed += len(values)
    conn.execute(
        text("UPDATE history_head SET seq = :seq, hash = :hash WHERE id = 1"),
        {"seq": seq, "hash": prev},
    )
    return sealed


def _batches(conn: Connection, where: Any) -> Iterator[Sequence[Any]]:
    """The content of the entries `where` selects, in id order, a batch at a time."""
    last_id = 0
    while True:
        rows = conn.execute(
            select(*_CONTENT)
            .where(where, _history.c.id > last_id)
            .order_by(_history.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def _write_seals(
    conn: Connection, values: Sequence[tuple[int, int, str | None, str]], *, postgres: bool
) -> None:
    if postgres:
        # One statement per batch: an executemany of single-row UPDATEs is ~10x slower there.
        ids, seqs, prevs, hashes = (list(column) for column in zip(*values, strict=True))
        conn.execute(
            text(
                "UPDATE history AS h SET seq = v.seq, prev_hash = v.prev, hash = v.hash"
                " FROM unnest(CAST(:ids AS integer[]), CAST(:seqs AS integer[]),"
                " CAST(:prevs AS varchar[]), CAST(:hashes AS varchar[])) AS v(id, seq, prev, hash)"
                " WHERE h.id = v.id"
            ),
            {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes},
        )
        return
    conn.exec_driver_sql(
        "UPDATE history SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?",
        [(s, p, h, i) for i, s, p, h in values],
    )


def _label(entry_id: int, seq: int) -> str:
    return f"history entry #{entry_id} (seq {seq})"


def verify(conn: Connection, recorded: Head | None = None) -> list[str]:
    """Every break in the chain, as sentences naming the entry (the first MAX_PROBLEMS, then a
    count). `recorded` is the head to hold the chain to; by default the database's own."""
    problems: list[str] = []
    for problem in _breaks(conn, recorded if recorded is not None else head(conn)):
        problems.append(problem)
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], f"history: {more} more break(s) in the chain"]
    return problems


def _breaks(conn: Connection, recorded: Head) -> Iterator[str]:
    expected, prev = 1, None
    columns = [*_CONTENT, _history.c.seq, _history.c.prev_hash, _history.c.hash]
    last = 0
    while True:
        rows = conn.execute(
            select(*columns).where(_history.c.seq > last).order_by(_history.c.seq).limit(BATCH)
        ).all()
        for row in rows:
            if row.seq > expected:
                missing = (
                    f"seq {expected}"
                    if row.seq == expected + 1
                    else f"seq {expected} to {row.seq - 1}"
                )
                yield f"history: {missing} missing (deleted): {_label(row.id, row.seq)} follows"
            elif row.prev_hash != prev:
                yield (
                    f"{_label(row.id, row.seq)}: does not follow the entry before it "
                    "(prev_hash differs) — moved or replaced"
                )
            if row.hash is None or entry_hash(row.seq, row.prev_hash, row) != row.hash:
                yield f"{_label(row.id, row.seq)}: hash does not match its content — altered"
            expected, prev = row.seq + 1, row.hash
        if len(rows) < BATCH:
            break
        last = rows[-1].seq
    end = expected - 1
    if recorded.seq > end:
        cut = f"seq {end + 1}" if recorded.seq == end + 1 else f"seq {end + 1} to {recorded.seq}"
        yield (
            f"history: chain head is seq {recorded.seq} but the entries end at seq {end}: "
            f"{cut} missing (cut off)"
        )
    elif recorded.seq < end:
        yield (
            f"history: entries go on to seq {end} past the chain head (seq {recorded.seq}): "
            "the head was moved back"
        )
    elif end and recorded.hash != prev:
        yield f"history: chain head (seq {recorded.seq}) does not match its entry's hash"


def unsealed(conn: Connection) -> list[int]:
    """Ids of committed entries not in the chain: written around tracker, straight in SQL.
    The next change made through tracker seals them."""
    return list(
        conn.execute(
            select(_history.c.id).where(_history.c.seq.is_(None)).order_by(_history.c.id).limit(10)
        ).scalars()
    )
