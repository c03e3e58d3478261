"""Choosing, ordering and cutting the records a list shows: `--columns`, `--sort`, `--limit`."""

from collections.abc import Iterable, Sequence
from typing import Any

from tracker.errors import UsageError


def columns(given: str | None, default: Sequence[str], available: Sequence[str]) -> list[str]:
    """The columns named in `given` ("a,b,c", in that order), else `default`."""
    if given is None:
        return list(default)
    chosen = [c.strip().lower().replace("-", "_") for c in given.split(",") if c.strip()]
    if not chosen:
        raise UsageError(f"--columns names no column; choose from {', '.join(available)}")
    unknown = [c for c in chosen if c not in available]
    if unknown:
        raise UsageError(f"--columns: no column {unknown[0]!r}; choose from {', '.join(available)}")
    return list(dict.fromkeys(chosen))


def sort_key(field: str, available: Sequence[str]) -> tuple[str, bool]:
    """The field `--sort` names and whether it is descending (`-field`)."""
    name = field.strip().lower().replace("-", "_")
    descending = field.strip().startswith("-")
    if descending:
        name = field.strip()[1:].strip().lower().replace("-", "_")
    if name not in available:
        raise UsageError(f"--sort: no field {name!r}; choose from {', '.join(available)}")
    return name, descending


def _key(value: Any) -> tuple[int, Any]:
    # Numbers before text, so that ids and counts sort as numbers; text without regard to case.
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return (1, str(value).casefold())


def sort_rows(
    rows: Iterable[dict[str, Any]], field: str, available: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows ordered by `field` (`-field`: descending); empty values last either way, ties in
    their original order."""
    name, descending = sort_key(field, available)
    rows = list(rows)
    empty = [r for r in rows if r.get(name) in (None, "", [])]
    full = [r for r in rows if r.get(name) not in (None, "", [])]
    full.sort(key=lambda r: _key(r[name]), reverse=descending)
    return full + empty
