"""Helpers every service uses: the history record, user notes and id parsing."""

import getpass
import os
from typing import Any

from sqlalchemy.orm import Session

from tracker.models import HistoryEntry


def notify(session: Session, message: str) -> None:
    """Queue a message for the user (the CLI prints these to stderr after the commit)."""
    session.info.setdefault("notes", []).append(message)


def current_user() -> str | None:
    """Who is making the change, for the history: TRACKER_USER, else the login name."""
    try:
        return os.environ.get("TRACKER_USER") or getpass.getuser()
    except (KeyError, OSError):
        return None


def record(
    session: Session,
    entity: str,
    entity_id: int,
    action: str,
    changes: dict[str, Any] | None = None,
) -> None:
    session.add(
        HistoryEntry(
            entity=entity,
            entity_id=entity_id,
            action=action,
            changes=changes or {},
            by=current_user(),
        )
    )


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
