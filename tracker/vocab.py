"""The field's controlled vocabularies (see docs/domain.md). Kept free of heavy imports: the CLI
reads these to build its options before any database code is loaded."""

from enum import StrEnum

from tracker.errors import InvalidInput


class ActorKind(StrEnum):
    person = "person"
    organization = "organization"
    government = "government"
    company = "company"
    media = "media"
    group = "group"
    other = "other"


class SourceKind(StrEnum):
    report = "report"
    article = "article"
    statement = "statement"
    interview = "interview"
    post = "post"
    dataset = "dataset"
    other = "other"


class Relation(StrEnum):
    """How one claim bears on another (CiTO / PROV / Meedan Check vocabulary)."""

    supports = "supports"
    disputes = "disputes"
    refutes = "refutes"
    repeats = "repeats"
    cites = "cites"
    qualifies = "qualifies"
    supersedes = "supersedes"


# Relations that count against the claim they point at.
OPPOSING = (Relation.disputes, Relation.refutes)


class Verdict(StrEnum):
    true = "true"
    mostly_true = "mostly-true"
    mixed = "mixed"
    misleading = "misleading"
    exaggerated = "exaggerated"
    false = "false"
    unverifiable = "unverifiable"
    not_a_claim = "not-a-claim"


class Status(StrEnum):
    """Workflow status, kept apart from the verdict."""

    unreviewed = "unreviewed"
    in_progress = "in-progress"
    reviewed = "reviewed"


class Reliability(StrEnum):
    """Admiralty source reliability: A completely reliable .. E unreliable, F cannot be judged."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


RELIABILITY_MEANING = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "cannot be judged",
}

CREDIBILITY_MEANING = {
    1: "confirmed by other sources",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "cannot be judged",
}


def reliability_grade(value: str | None) -> str | None:
    """An Admiralty reliability grade, upper-cased; blank clears it."""
    if value is None or not value.strip():
        return None
    grade = value.strip().upper()
    if grade not in Reliability.__members__:
        raise InvalidInput(
            f"reliability {value!r} is not a grade: use A (completely reliable) .. "
            f"E (unreliable) or F (cannot be judged)"
        )
    return grade
