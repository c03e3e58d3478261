"""Dossiers and reports as documents, for Markdown and HTML (tracker.render.markdown / html).

Each function takes the very record the command prints with `--format json` (built once, by
tracker.services) and arranges it for a reader: nothing is queried or decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tracker.render.document import (
    Block,
    Bullets,
    Document,
    Facts,
    Inline,
    Item,
    Link,
    Paragraph,
    Quote,
    Section,
    Table,
    plain,
)

CLAIM_COLUMNS = ["id", "claimant", "text", "stated", "verdict", "disputes"]
# The tables of `report summary`: key in the report -> its columns.
SUMMARY_TABLES = {
    "by_verdict": ["verdict", "claims"],
    "by_status": ["status", "claims"],
    "by_claimant": ["id", "claimant", "claims"],
    "by_source": ["id", "source", "claims"],
    "most_disputed": ["id", "claimant", "text", "verdict", "disputes"],
}


def named(actor: Mapping[str, Any]) -> str:
    """`Lazarus Group (as "Guardians of Peace") (#5)`: the actor, and the alias the claim used."""
    given = f' (as "{actor["as"]}")' if actor.get("as") else ""
    return f"{actor['name']}{given} (#{actor['id']})"


def who(entries: Iterable[Mapping[str, Any]], flag: str, word: str) -> str:
    """Claims blaming or clearing someone, in one line: `#4 Mandiant (2013, high confidence)`."""
    listed = []
    for e in entries:
        facts = ", ".join(
            x for x in (e["stated"], e["confidence"] and f"{e['confidence']} confidence") if x
        )
        mark = f" [{word}]" if e.get(flag) else ""
        via = f" via #{e['via']}" if e.get("via") else ""
        listed.append(
            f"#{e['claim_id']} {e['claimant']}" + (f" ({facts})" if facts else "") + via + mark
        )
    return "; ".join(listed) or "-"


def _header(name: str) -> str:
    return name.replace("_", " ").capitalize()


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], empty: str) -> Block:
    """Records as a table (one column a field), or a line saying there are none."""
    if not rows:
        return Paragraph(empty, kind="empty")
    return Table(
        [_header(c) for c in columns], [[plain(row.get(c)) for c in columns] for row in rows]
    )


def _facts(pairs: Iterable[tuple[str, Inline | None]]) -> Facts:
    """The pairs that have a value."""
    return Facts([(k, v) for k, v in pairs if v])


def _source(src: Mapping[str, Any]) -> list[str | Link]:
    detail = ", ".join(str(src[k]) for k in ("kind", "publisher", "published") if src.get(k))
    grade = f", reliability {src['reliability']}" if src.get("reliability") else ""
    return [f"#{src['id']} ", Link(src["title"], src.get("url")), f" ({detail}{grade})"]


def _history(entries: Iterable[Mapping[str, Any]]) -> Block:
    from tracker.services.history import entry_line

    items = [Item(entry_line(e)) for e in entries]
    return Bullets(items) if items else Paragraph("No changes recorded.", kind="empty")


def _actors(actors: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(named(a) for a in actors)


def claim_document(d: Mapping[str, Any]) -> Document:
    """`claim show`: the claim, who made it about whom, its sources and their chains, the
    evidence they amount to, links both ways, verdicts and history."""
    blocks: list[Block] = [Paragraph(d["text"], kind="lead")]
    if d["quote"]:
        blocks.append(Quote(d["quote"]))
    credibility = d["credibility"] and f"{d['credibility']} ({d['credibility_meaning']})"
    blocks.append(
        _facts(
            [
                ("Claimant", named(d["claimant"])),
                ("About", _actors(d["about"])),
                ("Stated", d["stated"]),
                ("Status", d["status"]),
                ("Verdict", d["verdict"] or "not rated"),
                ("Credibility", credibility),
                ("Tags", ", ".join(d["tags"])),
                ("Incidents", ", ".join(f"{i['name']} (#{i['id']})" for i in d["incidents"])),
                ("Blames", _actors(d["blames"])),
                ("Clears", _actors(d["clears"])),
                ("Same as", _actors(d["same_as"])),
                ("Stated confidence", d["confidence"]),
                (
                    "Claim of responsibility",
                    d["claim_of_responsibility"] and "yes: the claimant blames itself",
                ),
                ("Denial", d["denial"] and "yes: the claimant clears itself"),
                ("Note", d["note"]),
                ("Uid", d["uid"]),
            ]
        )
    )
    sources: list[Item] = []
    for src in d["sources"]:
        first = [" — first appearance"] if src["first"] else []
        sources.append(Item([*_source(src), *first]))
        sources += [Item(["rests on ", *_source(c)], c["depth"]) for c in src["chain"]]
    blocks.append(
        Section(
            "Sources",
            [Bullets(sources) if sources else Paragraph("None recorded.", kind="empty")],
        )
    )
    blocks.append(evidence_section(d["evidence"]))
    links = [
        Item(f"#{x['id']} ({x['claimant']}) {x['relation']} this: {x['text']}" + _note(x))
        for x in d["links_in"]
    ] + [
        Item(f"This {x['relation']} #{x['id']} ({x['claimant']}): {x['text']}" + _note(x))
        for x in d["links_out"]
    ]
    blocks.append(Section("Links", [Bullets(links) if links else Paragraph("None.", kind="empty")]))
    verdicts = [{**v, "at": v["at"][:19]} for v in d["verdicts"]]
    blocks.append(
        Section("Verdicts", [table(verdicts, ["at", "verdict", "reviewer", "note"], "Not rated.")])
    )
    blocks.append(Section("History", [_history(d["history"])]))
    return Document(f"Claim #{d['id']} by {d['claimant']['name']}", blocks)


def _note(link: Mapping[str, Any]) -> str:
    return f" — note: {link['note']}" if link["note"] else ""


def evidence_notes(ev: Mapping[str, Any]) -> list[str]:
    """What to beware of in a claim's evidence, one phrase each."""
    notes = ["single origin: several sources, all resting on one"] if ev["single_origin"] else []
    if ev["self_sourced"]:
        notes.append("self-sourced: every origin is published by the claimant itself")
    return notes + [f"warning: {w}" for w in ev["warnings"]]


def evidence_section(ev: Mapping[str, Any]) -> Section:
    """Origins (sources that rest on nothing recorded) and what rests on each."""
    count = ev["independent_origins"]
    blocks: list[Block] = [Paragraph(f"{count} independent origin{'s' if count != 1 else ''}.")]
    items = []
    for origin in ev["origins"]:
        facts = ", ".join(str(origin[k]) for k in ("publisher", "published") if origin[k])
        resting = [f"source #{i}" for i in origin["sources"]] + [
            f"supporting claim #{i}" for i in origin["claims"]
        ]
        items.append(
            Item(
                f"Origin #{origin['source_id']} {origin['title']}"
                + (f" ({facts})" if facts else "")
                + (f", rested on by {', '.join(resting)}" if resting else "")
            )
        )
    if items:
        blocks.append(Bullets(items))
    blocks += [Paragraph(f"{n[0].upper()}{n[1:]}.") for n in evidence_notes(ev)]
    return Section("Evidence", blocks)


def actor_document(d: Mapping[str, Any]) -> Document:
    """`actor show`."""
    reliability = d.get("reliability")
    facts = _facts(
        [
            ("Kind", d["kind"]),
            ("Also known as", ", ".join(d["aliases"])),
            ("Description", d["description"]),
            ("Reliability", reliability),
            ("Part of", _actors(d.get("part_of", []))),
            ("Parts", _actors(d.get("parts", []))),
            # Counted by `actor show`; a report lists the claims themselves instead.
            *(
                (label, str(d[key]))
                for key, label in (
                    ("claims_made", "Claims made"),
                    ("claims_about", "Claims about it"),
                    ("sources_published", "Sources published"),
                    ("appearances", "Appearances in sources"),
                )
                if key in d
            ),
            ("Uid", d["uid"]),
        ]
    )
    return Document(f"{d['name']} (#{d['id']})", [facts])


def _source_facts(d: Mapping[str, Any]) -> Facts:
    reliability = d.get("reliability")
    meaning = d.get("reliability_meaning")
    return _facts(
        [
            ("Kind", d["kind"]),
            ("Publisher", d["publisher"]),
            ("Authors", ", ".join(d.get("authors", []))),
            ("URL", d["url"] and Link(d["url"], d["url"])),
            ("Published", d["published"]),
            ("Retrieved", d.get("retrieved")),
            ("Reliability", reliability and (f"{reliability} ({meaning})" if meaning else "")),
            ("Claims", str(d["claims"])),
            ("Uid", d.get("uid")),
        ]
    )


def _source_blocks(d: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = [_source_facts(d)]
    cites = [Item(_source(c), c["depth"] - 1) for c in d["cites"]]
    if cites:
        blocks.append(Section("Rests on", [Bullets(cites)]))
    cited = [Item(_source(c)) for c in d["cited_by"]]
    if cited:
        blocks.append(Section("Cited by", [Bullets(cited)]))
    return blocks


def source_document(d: Mapping[str, Any]) -> Document:
    """`source show`: the source and the chain of sources it rests on."""
    return Document(f"Source #{d['id']}: {d['title']}", _source_blocks(d))


def incident_document(d: Mapping[str, Any]) -> Document:
    """`incident show`."""
    when = (d["started"] or d["ended"]) and f"{d['started'] or '?'} .. {d['ended'] or '?'}"
    blocks: list[Block] = []
    if d["description"]:
        blocks.append(Paragraph(d["description"], kind="lead"))
    blocks.append(
        _facts(
            [
                ("Kind", d["kind"]),
                ("Also known as", ", ".join(d["aliases"])),
                ("When", when),
                ("Victims", ", ".join(f"{v['name']} (#{v['id']})" for v in d["victims"])),
                ("Claims", ", ".join(f"#{c}" for c in d["claims"]) or "none"),
                ("Uid", d["uid"]),
            ]
        )
    )
    return Document(f"Incident #{d['id']}: {d['name']}", blocks)


def summary_document(report: Mapping[str, Any]) -> Document:
    """`report summary`."""
    totals = report["totals"]
    blocks: list[Block] = [Facts([(_header(k), f"{n:,}") for k, n in totals.items()])]
    blocks += [
        Section(_header(key), [table(report[key], columns, "None.")])
        for key, columns in SUMMARY_TABLES.items()
    ]
    return Document("Summary", blocks)


def actor_report_document(report: Mapping[str, Any]) -> Document:
    """`report actor`: the actor, the claims it made and those about it."""
    actor = actor_document(report["actor"])
    return Document(
        actor.title,
        [
            *actor.blocks,
            Section("Claims by", [table(report["claims_by"], CLAIM_COLUMNS, "None.")]),
            Section("Claims about", [table(report["claims_about"], CLAIM_COLUMNS, "None.")]),
        ],
    )


def source_report_document(report: Mapping[str, Any]) -> Document:
    """`report source`: the source, what it rests on, the claims that appear in it."""
    src = report["source"]
    return Document(
        f"Source #{src['id']}: {src['title']}",
        [
            *_source_blocks(src),
            Section("Claims", [table(report["claims"], CLAIM_COLUMNS, "None.")]),
        ],
    )


def disputed_document(report: Sequence[Mapping[str, Any]]) -> Document:
    """`report disputed`: each disputed claim, its opponents beside it."""
    blocks: list[Block] = []
    for entry in report:
        inner: list[Block] = [
            Paragraph(entry["text"], kind="lead"),
            Facts([("Verdict", entry["verdict"] or "not rated")]),
        ]
        opposed = [
            Item(f"{o['relation']} by #{o['id']} {o['claimant']}: {o['text']}")
            for o in entry["opposed_by"]
        ]
        if entry["supported_by"]:
            supporters = ", ".join(f"#{i}" for i in entry["supported_by"])
            opposed.append(Item(f"supported by {supporters}"))
        inner.append(Bullets(opposed))
        blocks.append(Section(f"#{entry['id']} {entry['claimant']}", inner, keep=True))
    if not blocks:
        blocks.append(Paragraph("No disputed claims.", kind="empty"))
    return Document("Disputed claims", blocks)


def folded_line(same: Mapping[str, Any]) -> str:
    """Actors folded together as one, and on what: `APT1 = Comment Crew (claim #7, 2 origin(s))`."""
    terms = f"claim #{same['claim_id']}, {same['independent_origins']} origin(s)"
    terms += ", disputed" if same["disputed"] else ""
    return f"{' = '.join(same['actors'])} ({terms})"


def attribution_document(
    report: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str
) -> Document:
    """`report attribution`: the rows as the table shows them, and what was folded together."""
    blocks: list[Block] = [table(rows, columns, "Nobody is blamed or cleared.")]
    folded = [Item(folded_line(same)) for same in report["folded"]]
    if folded:
        blocks.append(Section("Folded together", [Bullets(folded)]))
    return Document(title, blocks)


def contested_document(report: Sequence[Mapping[str, Any]]) -> Document:
    """`report contested`: accusation and denial side by side."""
    blocks: list[Block] = []
    for pair in report:
        where = f" ({', '.join(pair['incidents'])})" if pair["incidents"] else ""
        inner: list[Block] = []
        for side in ("accusation", "denial"):
            c = pair[side]
            facts = [
                ("Claim", f"#{c['claim_id']} by {c['claimant']}"),
                ("Stated", c["stated"]),
                ("Confidence", c["confidence"]),
                ("Independent origins", str(c["independent_origins"])),
                ("Verdict", c["verdict"] or "not rated"),
            ]
            inner.append(Section(side.capitalize(), [Paragraph(c["text"]), _facts(facts)]))
        blocks.append(Section(f"{pair['accused']['name']}{where}", inner, keep=True))
    if not blocks:
        blocks.append(Paragraph("No contested attributions.", kind="empty"))
    return Document("Contested attributions", blocks)


def timeline_document(events: Sequence[Mapping[str, Any]]) -> Document:
    """`report timeline`: every event in date order."""
    rows = [{**e, "claim": f"#{e['claim_id']}"} for e in events]
    return Document(
        "Timeline", [table(rows, ["date", "event", "claim", "who", "what"], "No events.")]
    )
