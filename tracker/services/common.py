"""Helpers every service uses: user notes and id parsing; the history record is re-exported
from tracker.services.history, where its format is defined."""

from sqlalchemy.orm import Session

from tracker.services.history import current_user as current_user
from tracker.services.history import record as record


def notify(session: Session, message: str) -> None:
    """Queue a message for the user (the CLI prints these to stderr after the commit)."""
    session.info.setdefault("notes", []).append(message)


def parse_id(ref: str | int) -> int | None:
    """`12` or `#12` -> 12; anything else -> None."""
    if isinstance(ref, int):
        return ref
    text = ref.strip().removeprefix("#")
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    # Beyond a 32-bit id nothing can match (PostgreSQL would refuse the comparison itself).
    value = int(text)
    return value if value <= 2**31 - 1 else None
