"""schema.org ClaimReview, out and in: what fact-checkers publish and search engines read.

Out: each rated claim becomes a ClaimReview (Google's required properties: `claimReviewed`,
`reviewRating` with `alternateName`, `url`, `author`; and the recommended `itemReviewed` Claim
with its author, date and appearances). Our verdicts sit on a 1-5 scale, `worstRating` 1 and
`bestRating` 5 (RATING below); `unverifiable` and `not-a-claim` are not on the scale and carry
only their label.

In: a JSON list of ClaimReviews, one ClaimReview, a DataFeed (`dataFeedElement[].item[]`), an
`@graph`, or saved HTML pages holding them in `<script type="application/ld+json">` (read with
the standard library's html.parser; nothing in a page is ever run). Publishers' labels map to
our verdicts through LABELS (extendable with `--map LABEL=VERDICT`); a label neither knows
refuses the whole import, naming it. The label itself is kept at the start of the verdict's
note, in brackets: `[Pants on Fire] The claim ...`, and export gives it back as
`alternateName`. Everything is written in one transaction, so a bad review imports nothing,
and importing the same reviews again changes nothing.
"""

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import vocab
from tracker.dates import parse_optional_date
from tracker.errors import InvalidInput, TrackerError, UsageError
from tracker.models import Actor, Appearance, Claim, Source, VerdictEntry
from tracker.services import identity
from tracker.services.claim_report import BATCH, ClaimFilter, claim_rows
from tracker.services.claims import add_claim, edit_claim, rate_claim, text_hash
from tracker.services.common import current_user
from tracker.text import (
    MAX_NOTE,
    MAX_TEXT,
    clean,
    clean_actor_name,
    clean_name,
    clean_optional,
    clean_url,
    name_key,
)
from tracker.vocab import Verdict

CONTEXT = "https://schema.org"
WORST, BEST = 1, 5
# Our verdict -> ratingValue on the 1 (worst) .. 5 (best) scale.
RATING: dict[str, int] = {
    "false": 1,
    "misleading": 2,
    "exaggerated": 2,
    "mixed": 3,
    "mostly-true": 4,
    "true": 5,
}
# The label export gives a verdict without a publisher's label of its own.
LABEL_OF: dict[str, str] = {
    "true": "True",
    "mostly-true": "Mostly true",
    "mixed": "Mixed",
    "misleading": "Misleading",
    "exaggerated": "Exaggerated",
    "false": "False",
    "unverifiable": "Unverifiable",
    "not-a-claim": "Not a claim",
}
# Publishers' labels -> our verdicts (matched case-, accent- and spacing-insensitively).
# Documented in docs/formats.md; `--map LABEL=VERDICT` adds to or overrides it.
LABELS: dict[str, str] = {
    **{
        label: "true"
        for label in (
            "true",
            "correct",
            "accurate",
            "correct attribution",
            "vrai",
            "verdadero",
            "cierto",
            "verdadeiro",
            "wahr",
            "richtig",
            "vero",
            "geppetto checkmark",
        )
    },
    **{
        label: "mostly-true"
        for label in (
            "mostly true",
            "mostly correct",
            "mostly accurate",
            "largely accurate",
            "plutôt vrai",
            "mayormente verdadero",
            "mayormente cierto",
            "en gran parte cierto",
            "grösstenteils wahr",
            "größtenteils wahr",
            "one pinocchio",
        )
    },
    **{
        label: "mixed"
        for label in (
            "half true",
            "half-true",
            "mixture",
            "mixed",
            "partly true",
            "partly false",
            "partially true",
            "partially false",
            "half right",
            "en partie vrai",
            "en partie faux",
            "mitad verdadero",
            "verdad a medias",
            "medio verdadero",
            "teilweise wahr",
            "teilweise falsch",
            "two pinocchios",
        )
    },
    **{
        label: "misleading"
        for label in (
            "misleading",
            "mostly false",
            "missing context",
            "out of context",
            "needs context",
            "cherry picks",
            "distorts the facts",
            "trompeur",
            "engañoso",
            "enganoso",
            "sacado de contexto",
            "irreführend",
            "fuorviante",
            "three pinocchios",
            "plutôt faux",
            "mayormente falso",
        )
    },
    **{
        label: "exaggerated"
        for label in (
            "exaggerated",
            "exaggeration",
            "overstated",
            "exagéré",
            "exagerado",
            "übertrieben",
        )
    },
    **{
        label: "false"
        for label in (
            "false",
            "pants on fire",
            "pants on fire!",
            "incorrect",
            "inaccurate",
            "wrong",
            "fake",
            "fabricated",
            "hoax",
            "scam",
            "four pinocchios",
            "faux",
            "falso",
            "falsch",
            "fake news",
            "bulo",
            "fausse information",
        )
    },
    **{
        label: "unverifiable"
        for label in (
            "unverifiable",
            "unproven",
            "unverified",
            "unsupported",
            "no evidence",
            "inconclusive",
            "research in progress",
            "invérifiable",
            "sin evidencia",
            "no verificable",
            "unbelegt",
            "nicht belegt",
        )
    },
    **{
        label: "not-a-claim"
        for label in (
            "satire",
            "labeled satire",
            "opinion",
            "not a claim",
        )
    },
}

MAX_INPUT = 256 * 1024**2  # a feed larger than this is refused, never half-read
MAX_DEPTH = 64  # nesting followed when looking for ClaimReviews
_LABEL_NOTE = re.compile(r"\A\[([^\[\]\n]{1,300})\](?: (.*))?\Z", re.DOTALL)
_SCHEMA = re.compile(r"\A(?:https?://schema\.org/|schema:)")
# schema.org types -> our source kinds (others are `other`).
_SOURCE_KIND = {
    "NewsArticle": "article",
    "Article": "article",
    "ReportageNewsArticle": "article",
    "OpinionNewsArticle": "article",
    "BlogPosting": "post",
    "SocialMediaPosting": "post",
    "DiscussionForumPosting": "post",
    "Report": "report",
    "Dataset": "dataset",
    "Interview": "interview",
}
_ACTOR_KIND = {
    "Person": "person",
    "Organization": "organization",
    "GovernmentOrganization": "government",
    "Corporation": "company",
    "NewsMediaOrganization": "media",
}


def label_note(label: str, explanation: str | None) -> str:
    """The verdict note keeping a publisher's label: `[Pants on Fire] explanation`."""
    return f"[{label}]" + (f" {explanation}" if explanation else "")


def split_note(note: str | None) -> tuple[str | None, str | None]:
    """(label, explanation) from a verdict note written by label_note; (None, note) otherwise."""
    if note:
        found = _LABEL_NOTE.match(note)
        if found:
            return found.group(1), found.group(2)
    return None, note


def parse_maps(pairs: Sequence[str]) -> dict[str, str]:
    """`--map LABEL=VERDICT` options -> {label key: verdict}; a usage error names a bad one."""
    table: dict[str, str] = {}
    for pair in pairs:
        label, sep, verdict = pair.rpartition("=")
        if not sep or not label.strip():
            raise UsageError(f"--map {pair!r}: give LABEL=VERDICT, e.g. 'Pants on Fire=false'")
        try:
            table[name_key(label)] = vocab.verdict(verdict)
        except InvalidInput as exc:
            raise UsageError(f"--map {pair!r}: {exc}") from None
    return table


# ---------------------------------------------------------------------------------------- out


def _drop_empty(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v not in (None, "", [])}


def _creative_work(title: str, url: str | None, date: str | None, publisher: str | None) -> Any:
    return _drop_empty(
        {
            "@type": "CreativeWork",
            "url": url,
            "headline": title,
            "datePublished": date,
            "publisher": {"@type": "Organization", "name": publisher} if publisher else None,
        }
    )


def review_url(template: str | None, publisher_url: str | None, claim: dict[str, Any]) -> str:
    if template:
        return template.replace("{id}", str(claim["id"])).replace("{uid}", claim["uid"])
    assert publisher_url is not None
    return f"{publisher_url}#claim-{claim['uid']}"


def check_export_options(publisher: str, publisher_url: str | None, template: str | None) -> None:
    clean_name(publisher, "publisher")
    if publisher_url:
        clean_url(publisher_url)
    if template:
        if "{id}" not in template and "{uid}" not in template:
            raise UsageError(
                f"--url-template {template!r} must hold {{id}} or {{uid}}, so each review "
                "has its own URL"
            )
        clean_url(template.replace("{id}", "1").replace("{uid}", "0" * 36))
    if not template and not publisher_url:
        raise UsageError(
            "each ClaimReview needs its own url: give --url-template "
            "'https://example.org/checks/{id}' or --publisher-url"
        )


def claim_reviews(
    session: Session,
    filters: ClaimFilter | None,
    *,
    publisher: str,
    publisher_url: str | None = None,
    url_template: str | None = None,
) -> Iterator[dict[str, Any]]:
    """One ClaimReview per rated claim, in claim id order, read in batches."""
    check_export_options(publisher, publisher_url, url_template)
    pending: list[dict[str, Any]] = []
    for claim in claim_rows(session, filters):
        if claim["verdict"] is None:
            continue
        pending.append(claim)
        if len(pending) >= BATCH:
            yield from _reviews_of(session, pending, publisher, publisher_url, url_template)
            pending = []
    if pending:
        yield from _reviews_of(session, pending, publisher, publisher_url, url_template)


def _reviews_of(
    session: Session,
    claims: list[dict[str, Any]],
    publisher: str,
    publisher_url: str | None,
    template: str | None,
) -> Iterator[dict[str, Any]]:
    ids = [c["id"] for c in claims]
    kinds = dict(
        session.execute(
            select(Claim.id, Actor.kind)
            .join(Actor, Actor.id == Claim.claimant_id)
            .where(Claim.id.in_(ids))
        ).all()
    )
    newest = (
        select(func.max(VerdictEntry.id))
        .where(VerdictEntry.claim_id.in_(ids))
        .group_by(VerdictEntry.claim_id)
    )
    verdicts = {
        v.claim_id: v
        for v in session.scalars(select(VerdictEntry).where(VerdictEntry.id.in_(newest)))
    }
    publisher_of = Actor.__table__.alias("publisher")
    seen: dict[int, list[Any]] = {}
    for row in session.execute(
        select(Appearance.claim_id, Source.title, Source.url, Source.published, publisher_of.c.name)
        .join(Source, Source.id == Appearance.source_id)
        .outerjoin(publisher_of, publisher_of.c.id == Source.publisher_id)
        .where(Appearance.claim_id.in_(ids))
        .order_by(Appearance.claim_id, Appearance.position)
    ):
        seen.setdefault(row[0], []).append(_creative_work(*row[1:]))
    author = _drop_empty({"@type": "Organization", "name": publisher, "url": publisher_url})
    for claim in claims:
        entry = verdicts.get(claim["id"])
        label, explanation = split_note(entry.note if entry else None)
        verdict = claim["verdict"]
        rating: dict[str, Any] = {"@type": "Rating", "alternateName": label or LABEL_OF[verdict]}
        if verdict in RATING:
            rating.update(ratingValue=RATING[verdict], worstRating=WORST, bestRating=BEST)
        if explanation:
            rating["ratingExplanation"] = explanation
        kind = "Person" if kinds.get(claim["id"]) == "person" else "Organization"
        works = seen.get(claim["id"], [])
        item = _drop_empty(
            {
                "@type": "Claim",
                "author": {"@type": kind, "name": claim["claimant_as"] or claim["claimant"]},
                "datePublished": claim["stated"],
                "appearance": works,
                "firstAppearance": works[0] if works else None,
            }
        )
        yield _drop_empty(
            {
                "@context": CONTEXT,
                "@type": "ClaimReview",
                "url": review_url(template, publisher_url, claim),
                "claimReviewed": claim["text"],
                "datePublished": entry.created_at.date().isoformat() if entry else None,
                "author": author,
                "reviewRating": rating,
                "itemReviewed": item,
            }
        )


def write_reviews(reviews: Iterator[dict[str, Any]], out: IO[str]) -> int:
    """A JSON array, element by element. `<`, `>` and `&` are written as \\u escapes (the same
    JSON value), so the output can be pasted into a page's <script> and never closes it."""
    n = 0
    out.write("[")
    for review in reviews:
        text = json.dumps(review, ensure_ascii=False, indent=2)
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        out.write(("\n" if n == 0 else ",\n") + text)
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n


# ----------------------------------------------------------------------------------------- in


class _LdJson(HTMLParser):
    """The text of every <script type="application/ld+json"> in a page. html.parser only
    tokenizes: no script runs, nothing is fetched."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            kind = (dict(attrs).get("type") or "").split(";")[0].strip().lower()
            self._open = [] if kind == "application/ld+json" else None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open is not None:
            self.blocks.append("".join(self._open))
            self._open = None


class ReviewError(InvalidInput):
    """The reviews cannot be imported: nothing was."""


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("@type", node.get("type"))
    listed = kind if isinstance(kind, list) else [kind]
    return [_SCHEMA.sub("", k) for k in listed if isinstance(k, str)]


def _collect(node: Any, found: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, list):
        for item in node:
            _collect(item, found, depth + 1)
        return
    if not isinstance(node, dict):
        return
    if "ClaimReview" in _types(node):
        found.append(node)
        return
    for key in ("@graph", "dataFeedElement", "item", "mainEntity", "hasPart", "review"):
        if key in node:
            _collect(node[key], found, depth + 1)


def read_reviews(stream: IO[bytes], name: str) -> list[dict[str, Any]]:
    """Every ClaimReview object in a JSON document or an HTML page, in document order."""
    data = stream.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise ReviewError(f"{name}: larger than {MAX_INPUT // 1024**2} MiB; split it")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReviewError(
            f"{name}: is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    if not text.strip():
        raise ReviewError(f"{name}: is empty")
    if "\x00" in text:
        raise ReviewError(f"{name}: contains a NUL character; is this a text file?")
    if text.lstrip()[:1] == "<":
        parser = _LdJson()
        parser.feed(text)
        parser.close()
        blocks = parser.blocks
        if not blocks:
            raise ReviewError(f'{name}: the page holds no <script type="application/ld+json">')
    else:
        blocks = [text]
    found: list[dict[str, Any]] = []
    for number, block in enumerate(blocks, start=1):
        where = f"{name}, JSON-LD block {number}" if len(blocks) > 1 else name
        try:
            _collect(json.loads(block), found)
        except json.JSONDecodeError as exc:
            raise ReviewError(
                f"{where}: is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        except RecursionError:
            raise ReviewError(f"{where}: is not valid JSON: nested too deeply") from None
        except ValueError as exc:
            raise ReviewError(f"{where}: {exc}") from None
    if not found:
        raise ReviewError(f"{name}: holds no ClaimReview")
    return found


@dataclass
class Work:
    title: str
    url: str | None
    date: str | None
    publisher: str | None
    kind: str


@dataclass
class Review:
    number: int
    text: str
    claimant: str
    claimant_kind: str
    stated: str | None
    works: list[Work]
    verdict: str
    note: str
    reviewer: str | None


@dataclass
class ReviewReport:
    reviews: int = 0
    claims_created: int = 0
    verdicts_added: int = 0
    appearances_added: int = 0
    actors_created: int = 0
    sources_created: int = 0
    resembling: list[identity.Resemblance] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.reviews:,} reviews: {self.claims_created:,} claims created, "
            f"{self.verdicts_added:,} verdicts and {self.appearances_added:,} appearances added, "
            f"{self.actors_created:,} actors and {self.sources_created:,} sources created"
        )


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _name(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("alternateName")
        value = _first(value)
    if isinstance(value, str) and value.strip():
        return value
    if value is None or isinstance(value, str):
        return None
    raise InvalidInput(f"{str(value)[:100]!r} is not a name")


def _string(value: Any, what: str) -> str | None:
    value = _first(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} is {type(value).__name__}, not text")
    return value


def _date(value: Any) -> str | None:
    text = _string(value, "the date")
    if text is None:
        return None
    # ISO 8601 date-times keep their date part: the tracker records days, not instants.
    found = re.match(r"\A(\d{4}(?:-\d{2}(?:-\d{2})?)?)(?:[T ].*)?\Z", text.strip())
    if not found:
        raise InvalidInput(f"date {text[:40]!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    return parse_optional_date(found.group(1), "date")


def _work(node: Any) -> Work | None:
    if isinstance(node, str):
        node = {"url": node}
    if not isinstance(node, dict):
        return None
    url = _string(node.get("url"), "url")
    url = clean_url(url.strip()) if url else None
    title = _string(node.get("headline"), "headline") or _name(node) or url
    if title is None:
        return None
    kinds = [_SOURCE_KIND[t] for t in _types(node) if t in _SOURCE_KIND]
    publisher = _name(node.get("publisher")) or _name(node.get("author"))
    return Work(
        title=clean_name(title, "source title"),
        url=url,
        date=_date(node.get("datePublished")),
        publisher=clean_actor_name(publisher, "publisher") if publisher else None,
        kind=kinds[0] if kinds else "article",
    )


def _review(number: int, node: dict[str, Any], labels: dict[str, str]) -> Review:
    where = "claimReviewed"
    try:
        text = clean(
            _string(node.get("claimReviewed"), where) or "", "claimReviewed", limit=MAX_TEXT
        )
        where = "itemReviewed"
        item = _first(node.get("itemReviewed")) or {}
        if not isinstance(item, dict):
            raise InvalidInput("is not an object")
        where = "itemReviewed.author"
        author = _first(item.get("author"))
        claimant = _name(author)
        if claimant is None:
            raise InvalidInput("names no claimant (the author of the claim)")
        claimant = clean_actor_name(claimant, "claimant")
        kinds = (
            [_ACTOR_KIND[t] for t in _types(author) if t in _ACTOR_KIND]
            if isinstance(author, dict)
            else []
        )
        where = "itemReviewed.appearance"
        works: list[Work] = []
        first = item.get("firstAppearance")
        more = item.get("appearance")
        for candidate in [
            *(first if isinstance(first, list) else [first]),
            *(more if isinstance(more, list) else [more]),
        ]:
            work = _work(candidate)
            if work and all((w.title, w.url) != (work.title, work.url) for w in works):
                works.append(work)
        where = "itemReviewed.datePublished"
        stated = _date(item.get("datePublished"))
        if stated is None and works:
            stated = works[0].date
        where = "reviewRating"
        rating = _first(node.get("reviewRating"))
        if not isinstance(rating, dict):
            raise InvalidInput("is missing: each ClaimReview needs its rating")
        where = "reviewRating.alternateName"
        label = _string(rating.get("alternateName"), where) or _string(rating.get("name"), where)
        if label is None:
            raise InvalidInput("is missing: the publisher's rating label is needed")
        label = clean_name(" ".join(label.split()), "rating label")
        verdict = labels.get(name_key(label)) or LABELS_BY_KEY.get(name_key(label))
        if verdict is None:
            raise InvalidInput(
                f"rating label {label!r} maps to no verdict: add --map '{label}=VERDICT' "
                f"(verdicts: {', '.join(v.value for v in Verdict)})"
            )
        where = "reviewRating.ratingExplanation"
        explanation = _string(rating.get("ratingExplanation"), where)
        note = clean_optional(label_note(label, explanation), "note", limit=MAX_NOTE) or ""
        where = "author"
        reviewer = _name(node.get("author"))
        reviewer = current_user(reviewer)  # checked as every reviewer name is
    except (InvalidInput, ValueError) as exc:
        raise InvalidInput(f"review {number} ({where}): {exc}") from None
    return Review(
        number=number,
        text=text,
        claimant=claimant,
        claimant_kind=kinds[0] if kinds else "other",
        stated=stated,
        works=works,
        verdict=verdict,
        note=note,
        reviewer=reviewer,
    )


LABELS_BY_KEY = {name_key(label): verdict for label, verdict in LABELS.items()}


def parse_reviews(nodes: list[dict[str, Any]], name: str, labels: dict[str, str]) -> list[Review]:
    """Every review checked and mapped before anything is written; ReviewError names the
    first that is wrong (and how many more are), so nothing is half-done."""
    reviews: list[Review] = []
    errors: list[str] = []
    for number, node in enumerate(nodes, start=1):
        try:
            reviews.append(_review(number, node, labels))
        except InvalidInput as exc:
            errors.append(str(exc))
    if errors:
        more = f"; and {len(errors) - 1:,} more" if len(errors) > 1 else ""
        raise ReviewError(f"{name}: nothing imported: {errors[0]}{more}")
    return reviews


def import_reviews(session: Session, reviews: list[Review], name: str) -> ReviewReport:
    """Write the reviews through the same identity rules as every command (in the caller's
    transaction: an error rolls everything back)."""
    report = ReviewReport(reviews=len(reviews))
    for review in reviews:
        try:
            _import_one(session, review, report)
        except TrackerError as exc:
            raise ReviewError(f"{name}: review {review.number}: {exc}; nothing imported") from None
    report.resembling = [
        *identity.actors(session).resembling,
        *identity.sources(session).resembling,
    ]
    return report


def _actor(session: Session, name: str, kind: str, report: ReviewReport) -> None:
    """Make sure an actor of this name exists; a new one gets the kind the review gives."""
    actors = identity.actors(session)
    if actors.find(name) is None:
        actors.check_new(name, strict=False, new=False)
        actors.create(name, kind=kind)
        report.actors_created += 1


def _source(session: Session, work: Work, report: ReviewReport) -> int:
    sources = identity.sources(session)
    found = sources.by_pair(work.title, work.url)
    if found is not None:
        return found
    publisher_id = None
    if work.publisher:
        _actor(session, work.publisher, "organization", report)
        located = identity.actors(session).find(work.publisher)
        publisher_id = located[0] if located else None
    sources.check_new_source(work.title, work.url, strict=False, new=False)
    report.sources_created += 1
    return sources.create(
        {
            "title": work.title,
            "kind": work.kind,
            "url": work.url,
            "published": work.date,
            "publisher_id": publisher_id,
        },
        publisher=work.publisher,
    )


def _import_one(session: Session, review: Review, report: ReviewReport) -> None:
    _actor(session, review.claimant, review.claimant_kind, report)
    source_refs = [f"#{_source(session, work, report)}" for work in review.works]
    found = identity.actors(session).find(review.claimant)
    assert found is not None
    claim = session.scalar(
        select(Claim).where(
            Claim.claimant_id == found[0], Claim.text_hash == text_hash(review.text)
        )
    )
    if claim is None:
        claim = add_claim(
            session, review.text, by=review.claimant, sources=source_refs, stated=review.stated
        )
        report.claims_created += 1
        report.appearances_added += len(source_refs)
    else:
        present = {a.source_id for a in claim.appearances}
        missing = [ref for ref in source_refs if int(ref[1:]) not in present]
        if missing:
            edit_claim(session, str(claim.id), add={"sources": missing})
            report.appearances_added += len(missing)
    already = session.scalar(
        select(VerdictEntry.id).where(
            VerdictEntry.claim_id == claim.id,
            VerdictEntry.verdict == review.verdict,
            VerdictEntry.reviewer.is_not_distinct_from(review.reviewer),
            VerdictEntry.note == review.note,
        )
    )
    if already is None:
        rate_claim(
            session, str(claim.id), review.verdict, note=review.note, reviewer=review.reviewer
        )
        report.verdicts_added += 1
