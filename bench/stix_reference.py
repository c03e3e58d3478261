"""The reference loader for the STIX benchmark: a STIX 2.1 bundle into the tracker's own schema
with nothing but the standard library (json, sqlite3, hashlib, re, unicodedata).

What a competent programmer would write to load ATT&CK once, and the floor `tracker import
stix` is measured against. The database is a new, empty tracker database (schema made by the
tracker's migrations, so the same tables, indexes, foreign keys and search-index triggers); the
loader fills it with the same mapping, minimally:

- intrusion-set, threat-actor, identity, malware, tool, attack-pattern -> actor with its names
  (name, aliases, x_mitre_aliases and ATT&CK ids, each once by a normalized key);
- campaign, incident -> incident with its names and first/last seen dates;
- every relationship with a description whose two ends were loaded -> a claim by its creator,
  the text with `(Citation: X)` and Markdown links taken out, about both ends, tagged with its
  type; attributed-to blames its target (and links a campaign); each external reference -> a
  source (once per citation name), an appearance of the claim;
- the STIX id of every record in `external_id`.

It reads the whole bundle with `json.load`, keeps ids in dicts and writes with `executemany`,
in one transaction, with SQLite's defaults. What it does not do, and the tracker does: check
each property (types, timestamps, lengths, control characters) and name the object and property
at fault, match names against a database that already holds some (and flag near-misses), map
reports, notes and opinions, update on a newer `modified`, write the audit history.

Usage: python bench/stix_reference.py BUNDLE.json EMPTY-TRACKER.db
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import sys
import time
import unicodedata
import uuid
from datetime import UTC, datetime

ACTOR_KIND = {
    "intrusion-set": "group",
    "threat-actor": "group",
    "identity": "organization",
    "malware": "malware",
    "tool": "tool",
    "attack-pattern": "technique",
}
CITATION = re.compile(r"\s*\(Citation: ([^()]*)\)")
LINK = re.compile(r"\[([^\[\]\n]+)\]\((?:https?://[^()\s]*)\)")
SPACES = re.compile(r"\s+")
CONFIDENCE = ((70, "high"), (30, "moderate"), (0, "low"))


def key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", SPACES.sub(" ", name).strip().casefold())
    return unicodedata.normalize("NFKC", "".join(c for c in folded if not unicodedata.combining(c)))


def main(bundle_path: str, db_path: str) -> None:
    started = time.perf_counter()
    with open(bundle_path, encoding="utf-8") as f:
        objects = json.load(f)["objects"]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA foreign_keys = ON")
    actors, actor_names, incidents, incident_names, ids = [], [], [], [], []
    by_stix: dict[str, tuple[str, int]] = {}
    taken: set[str] = set()
    next_actor = next_incident = 1
    for obj in objects:
        if obj.get("revoked") or obj.get("x_mitre_deprecated"):
            continue
        kind = obj["type"]
        if kind not in ACTOR_KIND and kind not in ("campaign", "incident"):
            continue
        name = obj["name"]
        aliases = [*obj.get("aliases", []), *obj.get("x_mitre_aliases", [])]
        aliases += [
            r["external_id"]
            for r in obj.get("external_references", [])
            if r.get("source_name") == "mitre-attack" and r.get("external_id")
        ]
        description = obj.get("description")
        if description:
            description = LINK.sub(r"\1", CITATION.sub("", description)).strip()
        if key(name) in taken:
            name = f"{name} ({aliases[-1] if aliases else kind})"
        keys = {key(name)}
        taken.add(key(name))
        if kind in ACTOR_KIND:
            ident = next_actor
            next_actor += 1
            actors.append((ident, str(uuid.uuid4()), name, ACTOR_KIND[kind], description, now))
            names, entity = actor_names, "actor"
        else:
            ident = next_incident
            next_incident += 1
            first, last = obj.get("first_seen"), obj.get("last_seen")
            incidents.append(
                (
                    ident,
                    str(uuid.uuid4()),
                    name,
                    description,
                    first and first[:10],
                    last and last[:10],
                    now,
                )
            )
            names, entity = incident_names, "incident"
        names.append((ident, name, key(name), 1))
        for alias in aliases:
            if key(alias) not in keys:
                keys.add(key(alias))
                names.append((ident, alias, key(alias), 0))
        by_stix[obj["id"]] = (entity, ident)
        ids.append((obj["id"], obj.get("modified"), entity, ident))

    sources: dict[str, int] = {}
    source_rows, claims, subjects, appearances, tags, stances, claim_incidents = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    claim_ids: dict[tuple[int, str], int] = {}
    for obj in objects:
        if obj["type"] != "relationship" or not obj.get("description"):
            continue
        if obj.get("revoked") or obj.get("x_mitre_deprecated"):
            continue
        ends = [by_stix.get(obj["source_ref"]), by_stix.get(obj["target_ref"])]
        if None in ends:
            continue
        claimant = by_stix.get(obj.get("created_by_ref", ""), ("actor", 1))[1]
        text = LINK.sub(r"\1", CITATION.sub("", obj["description"])).strip()
        digest = hashlib.sha256(SPACES.sub(" ", text).strip().casefold().encode()).hexdigest()
        claim_id = claim_ids.get((claimant, digest))
        if claim_id is None:
            claim_id = claim_ids[(claimant, digest)] = len(claim_ids) + 1
            confidence = obj.get("confidence")
            if confidence is not None:
                confidence = next(w for floor, w in CONFIDENCE if confidence >= floor)
            claims.append(
                (
                    claim_id,
                    str(uuid.uuid4()),
                    text,
                    digest,
                    claimant,
                    obj.get("created", "")[:10] or None,
                    confidence,
                    now,
                )
            )
            for entity, ident in ends:
                if entity == "actor":
                    subjects.append((claim_id, ident))
                else:
                    claim_incidents.append((claim_id, ident))
            tags.append((claim_id, obj["relationship_type"]))
            if obj["relationship_type"] == "attributed-to" and ends[1][0] == "actor":
                stances.append((claim_id, ends[1][1], "blames"))
        ids.append((obj["id"], obj.get("modified"), "claim", claim_id))
        for position, ref in enumerate(obj.get("external_references", [])):
            citation = ref.get("source_name")
            source_id = sources.get(citation)
            if source_id is None:
                source_id = sources[citation] = len(sources) + 1
                title = (ref.get("description") or citation)[:300]
                source_rows.append(
                    (source_id, str(uuid.uuid4()), title, key(title), ref.get("url"), now)
                )
                ids.append((citation, None, "source", source_id))
            appearances.append((claim_id, source_id, position))

    db.executemany(
        "INSERT INTO actor (id, uid, name, kind, description, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?6)",
        actors,
    )
    db.executemany(
        "INSERT INTO actor_name (actor_id, name, key, is_primary) VALUES (?, ?, ?, ?)", actor_names
    )
    db.executemany(
        "INSERT INTO incident (id, uid, name, kind, description, started, ended, created_at, "
        "updated_at) VALUES (?, ?, ?, 'other', ?, ?, ?, ?, ?7)",
        incidents,
    )
    db.executemany(
        "INSERT INTO incident_name (incident_id, name, key, is_primary) VALUES (?, ?, ?, ?)",
        incident_names,
    )
    db.executemany(
        "INSERT INTO source (id, uid, title, title_key, kind, authors, url, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 'other', '[]', ?, ?, ?6)",
        source_rows,
    )
    db.executemany(
        "INSERT INTO claim (id, uid, text, text_hash, claimant_id, stated, confidence, status, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'unreviewed', ?, ?8)",
        claims,
    )
    db.executemany("INSERT INTO claim_subject (claim_id, actor_id) VALUES (?, ?)", subjects)
    db.executemany("INSERT OR IGNORE INTO appearance VALUES (?, ?, ?)", appearances)
    db.executemany("INSERT INTO claim_tag VALUES (?, ?)", tags)
    db.executemany("INSERT INTO claim_stance VALUES (?, ?, ?)", stances)
    db.executemany("INSERT INTO claim_incident VALUES (?, ?)", claim_incidents)
    db.executemany(
        "INSERT INTO external_id (scheme, value, modified, actor_id, incident_id, source_id, "
        "claim_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                "stix-citation" if entity == "source" else "stix",
                value,
                modified,
                *(ident if entity == e else None for e in ("actor", "incident", "source", "claim")),
            )
            for value, modified, entity, ident in ids
        ],
    )
    db.commit()
    db.close()
    print(
        f"reference: {len(actors):,} actors, {len(incidents):,} incidents, "
        f"{len(source_rows):,} sources, {len(claims):,} claims in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
