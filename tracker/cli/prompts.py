"""Interactive entry of a claim on a terminal: prompts that offer the names already known."""

from typing import Any

import typer

from tracker.cli.common import say
from tracker.cli.complete import actor_names, source_titles

SHOWN = 12


def _complete_from(names: list[str]) -> None:
    """Tab completes from `names` (case-insensitively) where readline is available."""
    try:
        import readline
    except ImportError:
        return
    options = sorted(names)

    def complete(text: str, state: int) -> str | None:
        matches = [n for n in options if n.lower().startswith(text.lower())]
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims("")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")


def ask(label: str, names: list[str] | None = None, *, required: bool = False) -> str:
    _complete_from(names or [])
    if names:
        more = " ..." if len(names) > SHOWN else ""
        say(f"  known: {', '.join(sorted(names)[:SHOWN])}{more}")
    while True:
        value: str = typer.prompt(label, default="", show_default=False)
        if value.strip() or not required:
            return value.strip()
        say(f"  {label} is required")


def ask_many(label: str, names: list[str]) -> list[str]:
    values = ask(f"{label} (separate several with ';', Enter for none)", names)
    return [v.strip() for v in values.split(";") if v.strip()]


def ask_for_claim() -> dict[str, Any]:
    actors, sources = actor_names(""), source_titles("")
    return {
        "text": ask("Claim text", required=True),
        "by": ask("Claimant", actors, required=True),
        "sources": ask_many("Sources", sources),
        "quote": ask("Verbatim quote (Enter for none)") or None,
        "about": ask_many("About", actors),
        "stated": ask("Date stated (YYYY[-MM[-DD]], Enter for none)") or None,
    }
