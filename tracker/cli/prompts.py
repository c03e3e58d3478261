"""Interactive entry of a claim on a terminal: prompts that offer the names already known, check
each answer as it is given, and forgive.

A bad answer is asked for again with the reason, so nothing typed before it is lost; an error
only the database can find (a name resembling a known one, a claim already recorded) asks again
for the answer it is about. Ctrl-C or Ctrl-D at any prompt cancels: nothing is written.
Prompts go to stderr, so `id=$(tracker claim add)` still captures only the new claim's id.
"""

import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer

from tracker.cli.common import say
from tracker.cli.complete import actor_names, source_titles
from tracker.errors import TrackerError

SHOWN = 12
CREDIBILITY = "1 confirmed .. 5 improbable, 6 cannot be judged"


class Cancelled(typer.Exit):
    """Ctrl-C (exit 130) or Ctrl-D (exit 1) at a prompt."""


def _complete_from(names: Sequence[str]) -> None:
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


def _read(label: str) -> str:
    sys.stderr.write(f"{label}: ")
    sys.stderr.flush()
    try:
        return input()
    except KeyboardInterrupt:
        code = 130
    except EOFError:
        code = 1
    sys.stderr.write("\n")
    say("cancelled: nothing was recorded")
    raise Cancelled(code)


def ask(
    label: str,
    names: Sequence[str] | None = None,
    *,
    required: bool = False,
    check: Callable[[str], Any] | None = None,
) -> str:
    """One answer, stripped. `check` raises a TrackerError for a bad one, which is then asked
    for again with the reason."""
    _complete_from(names or [])
    if names:
        more = " ..." if len(names) > SHOWN else ""
        say(f"  known: {', '.join(sorted(names)[:SHOWN])}{more}")
    while True:
        value = _read(label).strip()
        if not value and required:
            say(f"  {label} is required")
            continue
        if value and check is not None:
            try:
                check(value)
            except TrackerError as exc:
                say(f"  {exc}; try again")
                continue
        return value


def split(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def ask_many(
    label: str, names: Sequence[str] | None = None, check: Callable[[str], Any] | None = None
) -> list[str]:
    def each(value: str) -> None:
        for item in split(value):
            if check is not None:
                check(item)

    return split(ask(f"{label} (separate several with ';', Enter for none)", names, check=each))


def _checks() -> dict[str, Callable[[str], Any]]:
    from tracker import vocab
    from tracker.dates import parse_optional_date
    from tracker.text import MAX_NOTE, MAX_TEXT, clean, clean_actor_name, clean_name, clean_tag

    return {
        "text": lambda v: clean(v, "claim text", limit=MAX_TEXT),
        "by": lambda v: clean_actor_name(v, "claimant"),
        "sources": lambda v: clean_name(v, "source"),
        "quote": lambda v: clean(v, "quote", limit=MAX_TEXT),
        "about": lambda v: clean_actor_name(v, "subject"),
        "stated": lambda v: parse_optional_date(v, "date stated"),
        "tags": clean_tag,
        "credibility": vocab.credibility,
        "note": lambda v: clean(v, "note", limit=MAX_NOTE),
    }


# Every answer a claim takes: (key, label, required, several, names offered).
QUESTIONS: list[tuple[str, str, bool, bool, str | None]] = [
    ("text", "Claim text", True, False, None),
    ("by", "Claimant", True, False, "actors"),
    ("sources", "Sources", False, True, "sources"),
    ("quote", "Verbatim quote (Enter for none)", False, False, None),
    ("about", "About", False, True, "actors"),
    ("stated", "Date stated (YYYY[-MM[-DD]], Enter for none)", False, False, None),
    ("tags", "Tags", False, True, None),
    ("credibility", f"Credibility 1-6 ({CREDIBILITY}; Enter for none)", False, False, None),
    ("note", "Note for colleagues (Enter for none)", False, False, None),
]


def _ask_one(key: str, known: dict[str, list[str]]) -> Any:
    _, label, required, several, offered = next(q for q in QUESTIONS if q[0] == key)
    check = _checks()[key]
    names = known.get(offered or "", [])
    if several:
        return ask_many(label, names, check)
    return ask(label, names, required=required, check=check) or None


def ask_for_claim(given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The answers for a new claim; what `given` already holds (from options) is not asked."""
    given = given or {}
    known = {"actors": actor_names(""), "sources": source_titles("")}
    answers = dict(given)
    for key, *_ in QUESTIONS:
        if not given.get(key):
            answers[key] = _ask_one(key, known)
    return answers


def fix_answer(answers: dict[str, Any], error: TrackerError) -> tuple[dict[str, Any], bool]:
    """After the database refused the answers: the reason, then the answer it names asked for
    again (or the person chooses which). Returns the answers, and whether a name given again
    unchanged is to be recorded as new although it resembles known ones."""
    say(f"  {error}")
    message = str(error)

    def given(key: str) -> list[Any]:
        value = answers.get(key)
        return value if isinstance(value, list) else [value]

    named = [
        key
        for key, *_ in QUESTIONS
        if any(v and (repr(v) in message or f'"{v}"' in message) for v in given(key))
    ]
    known = {"actors": actor_names(""), "sources": source_titles("")}
    if not named:
        keys = [q[0] for q in QUESTIONS]
        while True:
            choice = ask(f"Change which answer ({', '.join(keys)})", required=True)
            if choice in keys:
                named = [choice]
                break
            say(f"  no answer {choice!r}")
    if any(key in ("by", "about", "sources") for key in named):
        say("  give a known name, or the same name again to record it as a new one")
    new = False
    for key in named:
        before = answers.get(key)
        answers[key] = _ask_one(key, known)
        # The same name again: the person means it, even though it resembles known ones.
        new = new or (answers[key] == before and key in ("by", "about", "sources"))
    return answers, new
