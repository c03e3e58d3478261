"""tracker claim ...: record claims, link them, rate them, and read their dossiers."""

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli.common import (
    AllOption,
    ColumnsOption,
    DossierFormatOption,
    Format,
    FormatOption,
    LimitOption,
    NewOption,
    OutputOption,
    SortOption,
    YesOption,
    confirm,
    emit_dossier,
    emit_list,
    emit_record,
    group,
    heading,
    list_limit,
    say,
    session,
    transact,
    web_of,
)
from tracker.cli.complete import actor_names, source_titles
from tracker.cli.history import emit_history, history_lines
from tracker.cli.options import COMBINING, claim_filters
from tracker.vocab import Confidence as ConfidenceLevel
from tracker.vocab import Relation, Status, Verdict

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tracker.services.claim_report import ClaimFilter

app = group("Record, link, rate and read claims.")

ClaimRef = Annotated[str, typer.Argument(metavar="CLAIM", help="Claim id (or its uid).")]
Sources = Annotated[
    list[str] | None,
    typer.Option(
        "--source",
        "-s",
        help="Source id, URL or title (repeatable; first = first appearance).",
        autocompletion=source_titles,
    ),
]
About = Annotated[
    list[str] | None,
    typer.Option(
        "--about",
        "-a",
        help="An actor the claim is about (repeatable).",
        autocompletion=actor_names,
    ),
]
Tags = Annotated[
    list[str] | None, typer.Option("--tag", "-t", metavar="TAG", help="A tag (repeatable).")
]
Stated = Annotated[
    str | None,
    typer.Option(
        "--date", "-d", metavar="DATE", help="When it was stated: YYYY, YYYY-MM or YYYY-MM-DD."
    ),
]
Quote = Annotated[
    str | None, typer.Option("--quote", "-q", metavar="TEXT", help="The verbatim quote, if any.")
]
Credibility = Annotated[
    str | None,
    typer.Option(
        metavar="1-6",
        help="Information credibility: 1 confirmed .. 5 improbable, 6 cannot be judged.",
    ),
]
Note = Annotated[
    str | None, typer.Option("--note", "-n", metavar="TEXT", help="A note for colleagues.")
]

Incidents = Annotated[
    list[str] | None,
    typer.Option(
        "--incident", "-i", metavar="INCIDENT", help="An incident the claim concerns (repeatable)."
    ),
]
Blames = Annotated[
    list[str] | None,
    typer.Option(
        "--blames",
        metavar="ACTOR",
        help="An actor the claim holds responsible (repeatable; the claimant itself: a claim "
        "of responsibility).",
        autocompletion=actor_names,
    ),
]
Clears = Annotated[
    list[str] | None,
    typer.Option(
        "--clears",
        metavar="ACTOR",
        help="An actor the claim says is not responsible (repeatable; the claimant itself or "
        "one of its parts: a denial).",
        autocompletion=actor_names,
    ),
]
SameAs = Annotated[
    list[str] | None,
    typer.Option(
        "--same-as",
        metavar="ACTOR",
        help="The claim says these actors (two or more) are one (repeatable).",
        autocompletion=actor_names,
    ),
]
Confidence = Annotated[
    ConfidenceLevel | None,
    typer.Option(help="The confidence the claimant states: low, moderate or high."),
]

LIST_COLUMNS = ["id", "claimant", "text", "stated", "verdict", "status", "sources"]


TextFile = Annotated[
    str | None,
    typer.Option(
        "--text-file",
        metavar="FILE",
        help="Read the claim text from FILE (UTF-8; - for stdin).",
    ),
]


def read_text(path: str) -> str:
    """Text from a file, or stdin for `-`: UTF-8, a byte-order mark dropped, at most what a
    claim's text may hold (a longer file is refused before it is read whole)."""
    from tracker.errors import InvalidInput, StorageError
    from tracker.text import MAX_TEXT

    name = "stdin" if path == "-" else repr(path)
    limit = 4 * MAX_TEXT + 3  # UTF-8 takes at most 4 bytes a character, plus a byte-order mark
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            data = stream.read(limit + 1) if stream else sys.stdin.read(limit + 1).encode()
        else:
            with open(path, "rb") as file:
                data = file.read(limit + 1)
    except OSError as exc:
        raise StorageError(f"cannot read {name}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InvalidInput(
            f"{name} is over {limit:,} bytes: a claim's text is at most {MAX_TEXT:,} characters"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name} is not UTF-8 text (byte {exc.start + 1})") from None


def _text_given(text: str | None, text_file: str | None, hint: str) -> str | None:
    """The text from TEXT (`-` reads stdin) or --text-file; giving both is a usage error."""
    if text is not None and text_file is not None:
        raise typer.BadParameter(f"give {hint} or --text-file, not both", param_hint=hint)
    if text_file is not None:
        return read_text(text_file)
    return read_text("-") if text == "-" else text


@app.command("add")
def add(
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="TEXT",
            help="The claim, in your words; - reads it from stdin. Prompted for on a terminal.",
        ),
    ] = None,
    text_file: TextFile = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            "-b",
            help="Who made the claim (actor id, name or alias).",
            autocompletion=actor_names,
        ),
    ] = None,
    source: Sources = None,
    quote: Quote = None,
    about: About = None,
    date: Stated = None,
    tag: Tags = None,
    credibility: Credibility = None,
    note: Note = None,
    incident: Incidents = None,
    blames: Blames = None,
    clears: Clears = None,
    same_as: SameAs = None,
    confidence: Confidence = None,
    new: NewOption = False,
) -> None:
    """Record a claim; prints its id alone on stdout.

    Example: tracker claim add "PLA Unit 61398 stole data from 141 organizations"
    --by Mandiant --source "APT1 report" --about "PLA Unit 61398" --date 2013-02-19
    """
    from tracker.errors import Ambiguous, Conflict, InvalidInput, NotFound

    text = _text_given(text, text_file, "TEXT")
    values: dict[str, Any] = {
        "text": text,
        "by": by,
        "sources": source or [],
        "quote": quote,
        "about": about or [],
        "stated": date,
        "tags": tag or [],
        "credibility": credibility,
        "note": note,
        "incidents": incident or [],
        "blames": blames or [],
        "clears": clears or [],
        "same_as": same_as or [],
        "confidence": confidence,
    }
    interactive = text is None
    if interactive:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise typer.BadParameter(
                "give the claim TEXT (prompts only on a terminal)", param_hint="TEXT"
            )
        from tracker.cli.prompts import ask_for_claim

        values = ask_for_claim(values)
    if not values["by"]:
        raise typer.BadParameter("say who made the claim", param_hint="'--by'")
    while True:
        try:
            claim = _record(values, new)
            break
        except (InvalidInput, NotFound, Ambiguous, Conflict) as exc:
            # On a terminal, a refusal asks again for the answer it is about: nothing typed
            # is lost, and nothing was written.
            if not interactive:
                raise
            from tracker.cli.prompts import fix_answer

            values, again = fix_answer(values, exc)
            new = new or again
    say(f"recorded claim #{claim.id}")
    typer.echo(claim.id)


def _record(values: dict[str, Any], new: bool) -> Any:
    from tracker.services.claims import add_claim

    return transact(
        lambda s: add_claim(
            s,
            values["text"],
            by=values["by"],
            sources=values["sources"],
            quote=values["quote"],
            about=values["about"],
            stated=values["stated"],
            tags=values["tags"],
            credibility_grade=values["credibility"],
            note=values["note"],
            new=new,
            incidents=values["incidents"],
            blames=values["blames"],
            clears=values["clears"],
            same_as=values["same_as"],
            confidence=values["confidence"],
        )
    )


@app.command(
    "list",
    help=f"""List claims, filtered.

    {COMBINING}

    Example: tracker claim list --about China --since 2013-02 --verdict unverifiable
    """,
)
@claim_filters
def list_(
    filters: "ClaimFilter",
    columns: ColumnsOption = None,
    sort: SortOption = None,
    limit: LimitOption = None,
    every: AllOption = False,
    fmt: FormatOption = Format.table,
) -> None:
    from tracker.services.claim_report import COLUMNS, claim_rows, count

    shown = list_limit(fmt, limit, every)
    with session(write=False) as s:
        total = None
        if sort is None and shown is not None:
            # Only the rows shown are read; the rest are counted.
            filters.limit = shown
            rows = claim_rows(s, filters)
            total = count(s, filters)
        else:
            rows = claim_rows(s, filters)
        emit_list(
            rows,
            fmt,
            default=LIST_COLUMNS if fmt is Format.table else COLUMNS,
            available=COLUMNS,
            columns=columns,
            sort=sort,
            limit=shown,
            total=total,
        )


def dossier_lines(d: dict[str, Any]) -> list[str]:
    from tracker.render.dossiers import named

    lines = [heading(f"Claim #{d['id']}") + f"  [{d['status']}; verdict: {d['verdict'] or 'none'}]"]
    lines.append(f"  {d['text']}")
    if d["quote"]:
        lines.append(f'  quote: "{d["quote"]}"')
    lines.append(f"  claimant: {named(d['claimant'])}")
    if d["about"]:
        lines.append("  about: " + ", ".join(named(a) for a in d["about"]))
    for key in ("stated", "tags", "note"):
        if d[key]:
            lines.append(f"  {key}: {', '.join(d[key]) if isinstance(d[key], list) else d[key]}")
    if d["credibility"]:
        lines.append(f"  credibility: {d['credibility']} ({d['credibility_meaning']})")
    lines.extend(attribution_lines(d))
    lines.append(heading("Sources"))
    if not d["sources"]:
        lines.append("  (none recorded)")
    for src in d["sources"]:
        first = "  [first appearance]" if src["first"] else ""
        detail = ", ".join(str(src[k]) for k in ("publisher", "published") if src[k])
        grade = f", reliability {src['reliability']}" if src["reliability"] else ""
        facts = ", ".join([src["kind"], *([detail] if detail else [])]) + grade
        lines.append(f"  #{src['id']} {src['title']} ({facts}){first}")
        if src["url"]:
            lines.append(f"      {src['url']}")
        for cited in src["chain"]:
            indent = "    " * cited["depth"]
            lines.append(f"  {indent}<- rests on #{cited['id']} {cited['title']}")
    lines.extend(evidence_lines(d["evidence"]))
    lines.append(heading("Links"))
    if not (d["links_in"] or d["links_out"]):
        lines.append("  (none)")
    for link in d["links_in"]:
        lines.append(
            f"  #{link['id']} ({link['claimant']}) {link['relation']} this: {link['text']}"
            + _link_note(link)
        )
    for link in d["links_out"]:
        lines.append(
            f"  this {link['relation']} #{link['id']} ({link['claimant']}): {link['text']}"
            + _link_note(link)
        )
    lines.append(heading("Verdicts"))
    if not d["verdicts"]:
        lines.append("  (not rated)")
    for v in d["verdicts"]:
        who = f" by {v['reviewer']}" if v["reviewer"] else ""
        why = f": {v['note']}" if v["note"] else ""
        lines.append(f"  {v['at'][:19]} {v['verdict']}{who}{why}")
    lines.append(heading("History"))
    lines.extend(history_lines(d["history"]))
    return lines


def attribution_lines(d: dict[str, Any]) -> list[str]:
    """Incidents, blame, clearing and sameness, and what they amount to."""
    lines = []
    if d["incidents"]:
        lines.append(
            "  incidents: " + ", ".join(f"{i['name']} (#{i['id']})" for i in d["incidents"])
        )
    for key in ("blames", "clears", "same_as"):
        if d[key]:
            listed = ", ".join(f"{a['name']} (#{a['id']})" for a in d[key])
            lines.append(f"  {key.replace('_', '-')}: {listed}")
    if d["confidence"]:
        lines.append(f"  stated confidence: {d['confidence']}")
    if d["claim_of_responsibility"]:
        lines.append("  a claim of responsibility: the claimant blames itself")
    if d["denial"]:
        lines.append("  a denial: the claimant clears itself")
    return lines


def evidence_lines(ev: dict[str, Any]) -> list[str]:
    """Origins (sources that rest on nothing recorded) and what rests on each."""
    count = ev["independent_origins"]
    lines = [heading("Evidence") + f"  {count} independent origin{'s' if count != 1 else ''}"]
    for origin in ev["origins"]:
        facts = ", ".join(str(origin[k]) for k in ("publisher", "published") if origin[k])
        lines.append(
            f"  origin #{origin['source_id']} {origin['title']}" + (f" ({facts})" if facts else "")
        )
        resting = [f"source #{i}" for i in origin["sources"]] + [
            f"supporting claim #{i}" for i in origin["claims"]
        ]
        lines.append("      rested on by " + ", ".join(resting))
    from tracker.render.dossiers import evidence_notes

    return lines + [f"  {note}" for note in evidence_notes(ev)]


def _link_note(link: dict[str, Any]) -> str:
    return f" — note: {link['note']}" if link["note"] else ""


@app.command("show")
def show(claim: ClaimRef, fmt: DossierFormatOption = None, output: OutputOption = "-") -> None:
    """Show a claim's dossier: sources and their chain, links both ways, verdicts, history.

    --format markdown or html (or -o FILE.md / FILE.html) writes it as a document to hand
    over: Markdown for a wiki or a ticket, HTML as one self-contained page that prints cleanly.

    Example: tracker claim show 1 -o claim-1.html
    """
    from tracker.render.dossiers import claim_document
    from tracker.services.claims import claim_dossier

    with session(write=False) as s:
        dossier = claim_dossier(s, claim)
    emit_dossier(
        fmt,
        output,
        lambda f: emit_record(dossier, f, dossier_lines(dossier)),
        lambda: claim_document(dossier),
        web_of("Who says what around this claim", claim=str(dossier["id"])),
    )


@app.command("edit")
def edit(
    claim: ClaimRef,
    text: Annotated[
        str | None, typer.Option(metavar="TEXT", help="New claim text; - reads it from stdin.")
    ] = None,
    text_file: TextFile = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", "-b", metavar="ACTOR", help="New claimant.", autocompletion=actor_names
        ),
    ] = None,
    quote: Quote = None,
    date: Stated = None,
    note: Note = None,
    credibility: Credibility = None,
    status: Annotated[Status | None, typer.Option(help="Workflow status.")] = None,
    source: Sources = None,
    remove_source: Annotated[
        list[str] | None, typer.Option(help="Remove a source (repeatable).")
    ] = None,
    about: About = None,
    remove_about: Annotated[
        list[str] | None, typer.Option(help="Remove a subject (repeatable).")
    ] = None,
    tag: Tags = None,
    remove_tag: Annotated[list[str] | None, typer.Option(help="Remove a tag (repeatable).")] = None,
    incident: Incidents = None,
    remove_incident: Annotated[
        list[str] | None, typer.Option(metavar="INCIDENT", help="Remove an incident (repeatable).")
    ] = None,
    blames: Blames = None,
    remove_blames: Annotated[
        list[str] | None, typer.Option(metavar="ACTOR", help="Remove a blame (repeatable).")
    ] = None,
    clears: Clears = None,
    remove_clears: Annotated[
        list[str] | None, typer.Option(metavar="ACTOR", help="Remove a clearing (repeatable).")
    ] = None,
    same_as: SameAs = None,
    remove_same_as: Annotated[
        list[str] | None, typer.Option(metavar="ACTOR", help="Remove a same-as actor.")
    ] = None,
    confidence: Annotated[
        str | None,
        typer.Option(metavar="LEVEL", help="Stated confidence: low, moderate, high ('' clears)."),
    ] = None,
    new: NewOption = False,
) -> None:
    """Change a claim; every change is kept in its history ('' clears an optional field).

    An edit that changes nothing says so and records nothing.

    Example: tracker claim edit 1 --source "Globe article" --tag cyber --status in-progress
    """
    from tracker.services.claims import edit_claim
    from tracker.services.identity import allow_new

    text = _text_given(text, text_file, "'--text'")

    def work(s: "Session") -> tuple[int, Any]:
        allow_new(s, new)
        return edit_claim(
            s,
            claim,
            fields={
                "text": text,
                "claimant": by,
                "quote": quote,
                "stated": date,
                "note": note,
                "credibility": credibility,
                "status": status,
                "confidence": confidence,
            },
            add={
                "sources": source or [],
                "about": about or [],
                "tags": tag or [],
                "incidents": incident or [],
                "blames": blames or [],
                "clears": clears or [],
                "same_as": same_as or [],
            },
            remove={
                "sources": remove_source or [],
                "about": remove_about or [],
                "tags": remove_tag or [],
                "incidents": remove_incident or [],
                "blames": remove_blames or [],
                "clears": remove_clears or [],
                "same_as": remove_same_as or [],
            },
        )

    ident, changes = transact(work)
    say(f"updated claim #{ident}" if changes else f"claim #{ident}: nothing to change")


@app.command("delete")
def delete(
    claim: ClaimRef,
    force: Annotated[bool, typer.Option(help="Delete even if other claims link to it.")] = False,
    yes: YesOption = False,
) -> None:
    """Delete a claim (its history is kept). Refused while other claims link to it.

    Shows what goes with it (links, verdicts, appearances) and asks first; off a terminal,
    give --yes.

    Example: tracker claim delete 4 --force --yes
    """
    from tracker.services.claims import delete_claim, deletion_preview

    with session(write=False) as s:
        preview = deletion_preview(s, claim, force=force)
    confirm(preview, "Delete?", yes)
    ident = transact(lambda s: delete_claim(s, claim, force=force))
    say(f"deleted claim #{ident}; 'tracker claim history {ident}' still shows it")


@app.command("link")
def link(
    claim: ClaimRef,
    relation: Annotated[
        Relation,
        typer.Argument(
            metavar="RELATION", help="How CLAIM bears on OTHER: " + ", ".join(Relation) + "."
        ),
    ],
    other: Annotated[str, typer.Argument(metavar="OTHER", help="The claim it bears on.")],
    note: Note = None,
) -> None:
    """Link two claims; reads as a sentence.

    Example: tracker claim link 3 disputes 1
    """
    from tracker.services.claims import link_claims

    made = transact(lambda s: link_claims(s, claim, relation, other, note))
    say(f"linked: #{made.from_id} {made.relation} #{made.to_id}")


@app.command("unlink")
def unlink(
    claim: ClaimRef,
    relation: Annotated[
        Relation, typer.Argument(metavar="RELATION", help="The relation to remove.")
    ],
    other: Annotated[str, typer.Argument(metavar="OTHER", help="The other claim.")],
) -> None:
    """Remove a link between two claims.

    Example: tracker claim unlink 3 disputes 1
    """
    from tracker.services.claims import unlink_claims

    transact(lambda s: unlink_claims(s, claim, relation, other))
    say(f"unlinked: #{claim} {relation.value} #{other}")


@app.command("rate")
def rate(
    claim: ClaimRef,
    verdict: Annotated[
        Verdict, typer.Argument(metavar="VERDICT", help="One of: " + ", ".join(Verdict) + ".")
    ],
    note: Annotated[
        str | None,
        typer.Option("--note", "-n", metavar="TEXT", help="Why: the reasoning or evidence."),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            "-b",
            metavar="NAME",
            help="Reviewer's name (also the history's author); default: TRACKER_USER, else "
            "your login name.",
        ),
    ] = None,
) -> None:
    """Give a claim a verdict; earlier verdicts stay in its history.

    Example: tracker claim rate 3 unverifiable --note "No evidence offered" --by "Desk A"
    """
    from tracker.services.claims import rate_claim

    entry = transact(lambda s: rate_claim(s, claim, verdict, note=note, reviewer=by))
    say(f"rated claim #{entry.claim_id}: {entry.verdict}")


@app.command("history")
def history(claim: ClaimRef, fmt: FormatOption = Format.table) -> None:
    """Show every change to a claim, oldest first (deleted claims too).

    Example: tracker claim history 1
    """
    from tracker.services.claims import claim_history

    with session(write=False) as s:
        entries = claim_history(s, claim)
    emit_history(entries, fmt)
