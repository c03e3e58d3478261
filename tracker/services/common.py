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
    return int(text) if text.isdigit() and len(text) < 12 else None
