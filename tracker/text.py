"""Cleaning and matching text: what goes into the database, and the keys names are matched by."""

import re
import unicodedata
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

# Zero-width and invisible formatting characters that would let two equal-looking names differ.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
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
    """A one-line name: inner whitespace collapsed to single spaces."""
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
    key = _SPACES.sub(" ", value.translate(_INVISIBLE)).strip()
    for _ in range(4):
        folded = unicodedata.normalize("NFKD", key.casefold())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        folded = _SPACES.sub(" ", unicodedata.normalize("NFKC", folded)).strip()
        if folded == key:
            break
        key = folded
    return key


# Several actors or tags share one cell of the flat format, separated by this.
LIST_SEPARATOR = ";"


def _no_separator(value: str, field: str) -> str:
    if LIST_SEPARATOR in value:
        raise InvalidInput(f"{field} {value!r} contains {LIST_SEPARATOR!r}, which separates lists")
    return value


@lru_cache(maxsize=1 << 16)
def clean_actor_name(value: str, field: str = "actor name") -> str:
    return _no_separator(clean_name(value, field), field)


@lru_cache(maxsize=1 << 12)
def clean_tag(value: str) -> str:
    tag = _SPACES.sub("-", clean(value, "tag", limit=MAX_TAG, multiline=False).casefold())
    _check_folded(tag, "tag", MAX_TAG)
    return _no_separator(tag, "tag")


def split_list(value: str | None) -> list[str]:
    """`a; b;; c` -> ['a', 'b', 'c']."""
    if not value:
        return []
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


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
    value = unicodedata.normalize("NFKC", value.translate(_INVISIBLE)).casefold()
    return _SPACES.sub(" ", value).strip()
