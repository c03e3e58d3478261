"""The field's controlled vocabularies (see docs/domain.md). Kept free of heavy imports: the CLI
reads these to build its options before any database code is loaded."""

from enum import StrEnum
from typing import TypeVar

from tracker.errors import InvalidInput


class ActorKind(StrEnum):
    person = "person"
    organization = "organization"
    government = "government"
    company = "company"
    media = "media"
    group = "group"
    # Not actors in the everyday sense, but what threat-intelligence claims are about (STIX
    # malware, tool, attack-pattern): recorded as actors so that every name rule, subject
    # filter, search and report works for them unchanged.
    malware = "malware"
    tool = "tool"
    technique = "technique"
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


class IncidentKind(StrEnum):
    """What happened (STIX incident / campaign; the CFR Cyber Operations Tracker's types)."""

    intrusion = "intrusion"
    data_theft = "data-theft"
    leak = "leak"
    destructive = "destructive"
    ransomware = "ransomware"
    influence_operation = "influence-operation"
    espionage = "espionage"
    denial_of_service = "denial-of-service"
    other = "other"


class Confidence(StrEnum):
    """The confidence a claimant states in its own judgement (ICD 203)."""

    low = "low"
    moderate = "moderate"
    high = "high"


# Strongest first, for sorting reports.
CONFIDENCE_RANK = {"high": 3, "moderate": 2, "low": 1}


class Stance(StrEnum):
    """A claim's stance toward an actor's responsibility: it holds the actor responsible, says
    it is not, or says it is the same actor as the claim's other `same-as` actors."""

    blames = "blames"
    clears = "clears"
    same_as = "same-as"


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


E = TypeVar("E", bound=StrEnum)


def _choices(kind: type[StrEnum]) -> str:
    return ", ".join(member.value for member in kind)


def parse_choice(kind: type[E], value: E | str, field: str) -> E:
    """A member of a controlled vocabulary, or InvalidInput naming the field and the choices.

    Every path that takes such a value (commands, bulk import, dumps, the library) comes here,
    so each vocabulary is checked once, with one message.
    """
    if isinstance(value, kind):
        return value
    text = value.strip() if isinstance(value, str) else value
    try:
        return kind(text)
    except ValueError:
        raise InvalidInput(f"{field} {value!r} is not one of: {_choices(kind)}") from None


def actor_kind(value: ActorKind | str) -> str:
    return parse_choice(ActorKind, value, "actor kind").value


def source_kind(value: SourceKind | str | None) -> str:
    """A source kind; blank means `other`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return SourceKind.other.value
    return parse_choice(SourceKind, value, "source kind").value


def relation(value: Relation | str) -> str:
    return parse_choice(Relation, value, "relation").value


def incident_kind(value: IncidentKind | str | None) -> str:
    """An incident kind; blank means `other`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return IncidentKind.other.value
    return parse_choice(IncidentKind, value, "incident kind").value


def confidence(value: Confidence | str | None) -> str | None:
    """A stated confidence; blank clears it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_choice(
        Confidence, value.lower() if isinstance(value, str) else value, "confidence"
    ).value


def stance(value: Stance | str) -> str:
    return parse_choice(Stance, value, "stance").value


def verdict(value: Verdict | str) -> str:
    return parse_choice(Verdict, value, "verdict").value


def optional_verdict(value: Verdict | str | None) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return verdict(value)


def status(value: Status | str) -> str:
    return parse_choice(Status, value, "status").value


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


def credibility(value: int | str | None) -> int | None:
    """An information-credibility grade 1-6; blank clears it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        number = 0
    elif isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        number = int(text) if text in {"1", "2", "3", "4", "5", "6"} else 0
    if not 1 <= number <= 6:
        raise InvalidInput(
            f"credibility {value!r} is not a grade: use 1 (confirmed) .. 5 (improbable) "
            f"or 6 (cannot be judged)"
        )
    return number
