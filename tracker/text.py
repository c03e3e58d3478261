"""Cleaning and matching text: what goes into the database, and the keys names are matched by."""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from tracker.errors import InvalidInput

# Documented limits (docs/cli.md). PostgreSQL enforces the column lengths; we check first so both
# backends refuse the same input with the same message.
MAX_NAME = 300
MAX_TEXT = 10_000
MAX_NOTE = 10_000
MAX_URL = 2_000
MAX_TAG = 100

# Invisible characters (Unicode's format characters, variation selectors, the grapheme joiner)
# that would let two equal-looking names differ: names are matched without them.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufe00-\ufe0f\ufeff"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef]"
)
# Bidirectional overrides and isolates reorder what is displayed (a name can show as another):
# refused in names outright.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_INLINE = re.compile(r"[\x00-\x1f\x7f]")


def clean(value: str, field: str, *, limit: int = MAX_TEXT, multiline: bool = True) -> str:
    """Return value NFC-normalized and stripped; refuse control characters, emptiness, excess."""
    bad = (_CONTROL if multiline else _CONTROL_INLINE).search(value)
    if bad:
        raise InvalidInput(
            f"{field} contains a control character (U+{ord(bad.group()):04X}) at position "
            f"{bad.start() + 1}"
        )
    if not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    value = value.strip()
    if not value:
        raise InvalidInput(f"{field} is empty")
    if len(value) > limit:
        raise InvalidInput(f"{field} is {len(value)} characters long; the limit is {limit}")
    return value


def clean_optional(
    value: str | None, field: str, *, limit: int = MAX_TEXT, multiline: bool = True
) -> str | None:
    if value is None or not value.strip():
        return None
    return clean(value, field, limit=limit, multiline=multiline)


@lru_cache(maxsize=1 << 16)  # names, titles and tags repeat across a bulk import
def clean_name(value: str, field: str = "name") -> str:
    """A one-line name: inner whitespace collapsed to single spaces; any printable text."""
    bidi = _BIDI.search(value)
    if bidi:
        raise InvalidInput(
            f"{field} contains a bidirectional control character (U+{ord(bidi.group()):04X}) at "
            f"position {bidi.start() + 1}, which can make it display as another name"
        )
    name = _SPACES.sub(" ", clean(value, field, limit=MAX_NAME, multiline=False))
    _check_folded(name_key(name), field, MAX_NAME)
    return name


def _check_folded(folded: str, field: str, limit: int) -> None:
    # Folding can lengthen text (ß -> ss, ﬃ -> ffi); the folded form is stored too.
    if len(folded) > limit:
        raise InvalidInput(
            f"{field} is {len(folded)} characters long once case and accents are folded; "
            f"the limit is {limit}"
        )


@lru_cache(maxsize=1 << 16)  # bulk imports repeat the same few thousand names
def name_key(value: str) -> str:
    """The key names and titles are matched by: case-, accent- and spacing-insensitive.

    Case is folded first (ᾀ folds to ἀι), then NFKD splits accents off their letters so they
    can be dropped, and NFKC makes the key canonical. Folding can itself produce a combining
    mark (İ folds to i + dot), so the steps repeat until the key is stable: keys are idempotent.
    """
    key = _SPACES.sub(" ", _INVISIBLE.sub("", value)).strip()
    if key.isascii():
        return key.lower()  # ASCII has no accents, and NFKC leaves it as it is
    for _ in range(4):
        folded = unicodedata.normalize("NFKD", key.casefold())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        folded = _SPACES.sub(" ", unicodedata.normalize("NFKC", folded)).strip()
        if folded == key:
            break
        key = folded
    return key


# Several names or tags share one cell of a CSV file, separated by `;`. A backslash escapes the
# next `;` or backslash, so any name survives: `Sadowski, J\; Hall, R; Norse` is two names.
LIST_SEPARATOR = ";"
LIST_ESCAPE = "\\"


def join_list(values: Iterable[str]) -> str:
    """['a;b', 'c'] -> 'a\\;b; c': the cell split_list reads back exactly."""
    return "; ".join(
        v.replace(LIST_ESCAPE, LIST_ESCAPE * 2).replace(LIST_SEPARATOR, LIST_ESCAPE + ";")
        if LIST_ESCAPE in v or LIST_SEPARATOR in v
        else v
        for v in values
    )


def split_list(value: str | None) -> list[str]:
    """`a; b;; c` -> ['a', 'b', 'c']; `\\;` is a `;` inside a value, `\\\\` a backslash (any other
    backslash is kept as typed)."""
    if not value:
        return []
    if LIST_ESCAPE not in value:
        return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
    parts: list[str] = []
    current: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == LIST_ESCAPE:
            following = next(chars, "")
            if following in (LIST_SEPARATOR, LIST_ESCAPE):
                current.append(following)
            else:
                current.append(char + following)
        elif char == LIST_SEPARATOR:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def clean_actor_name(value: str, field: str = "actor name") -> str:
    return clean_name(value, field)


@lru_cache(maxsize=1 << 12)
def clean_tag(value: str) -> str:
    tag = _SPACES.sub("-", clean(value, "tag", limit=MAX_TAG, multiline=False).casefold())
    _check_folded(tag, "tag", MAX_TAG)
    return tag


_URL_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")


@lru_cache(maxsize=1 << 14)
def clean_url(value: str) -> str:
    """An absolute http(s) URL with a host; nothing urlsplit would silently alter."""
    value = value.strip()
    if not value:
        raise InvalidInput("URL is empty")
    if _URL_UNSAFE.search(value):
        raise InvalidInput(f"URL {value!r} contains whitespace or a control character")
    if len(value) > MAX_URL:
        raise InvalidInput(f"URL is {len(value)} characters long; the limit is {MAX_URL}")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidInput(f"URL {value!r} is malformed: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput(f"URL {value!r} must start with http:// or https://")
    if not host:
        raise InvalidInput(f"URL {value!r} has no host")
    return value


def claim_key(value: str) -> str:
    """What makes two claim texts the same claim: Unicode form, case and spacing aside."""
    value = unicodedata.normalize("NFKC", _INVISIBLE.sub("", value)).casefold()
    return _SPACES.sub(" ", value).strip()
