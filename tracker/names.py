"""When two names are the same, and when a new name only looks like one we know.

A name matches exactly by its key (`tracker.text.name_key`: case, accents, spacing and invisible
characters aside). A name that is not exact is still *similar* to a known one, and so is never
silently a new record, when it is:

- the same once punctuation, spacing and confusable characters are set aside (`F.B.I.` = `FBI`,
  a `Mandiant` spelt with Cyrillic letters = `Mandiant`: Unicode UTS #39 skeletons);
- a typo away: at most one slip (a wrong, missing, extra or swapped letter) in a name under eight
  characters, two in a longer one;
- a subset of the other's words (`Norse` and `Norse Corp`, `Obama` and `Barack Obama`), or a
  prefix of it (`Norse Corp` and `Norse Corporation`).

Names whose numbers differ are never similar: APT28 and APT29, Unit 61398 and Unit 61486 are
different groups. The index answers from postings (words, character trigrams), not by comparing
a name with every known one, so a bulk import can check thousands of new names quickly.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from tracker.text import name_key

TYPO_RATIO = 0.8
MIN_PREFIX = 4
# Words too common in names to make two names alike on their own.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "de",
        "del",
        "der",
        "des",
        "di",
        "du",
        "el",
        "en",
        "et",
        "for",
        "la",
        "le",
        "les",
        "of",
        "on",
        "the",
        "to",
        "van",
        "von",
        "y",
    ]
)
_WORD = re.compile(r"\w+")
_NOT_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`\u00b4")


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """UTS #39's confusables: each character to the prototype it may be mistaken for."""
    table: dict[str, str] = {}
    data = resources.files("tracker").joinpath("data/confusables.txt").read_text("utf-8")
    for line in data.splitlines():
        if not line or line.startswith("#"):
            continue
        source, target = line.split(";")
        table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in target.split())
    return table


def skeleton(text: str) -> str:
    """UTS #39 skeleton: NFD, each character replaced by its prototype, NFD again."""
    table = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(table.get(c, c) for c in decomposed))


@lru_cache(maxsize=1 << 16)
def loose_key(name: str) -> str:
    """The name with case, accents, punctuation, spacing and look-alike characters set aside."""
    # Look-alikes are mapped before case is folded (Cyrillic capital em is Latin M, not m)
    # and after.
    key = name_key(skeleton(name).translate(_APOSTROPHES))
    return _NOT_WORD.sub("", skeleton(key)).casefold()


@lru_cache(maxsize=1 << 16)
def words(name: str) -> frozenset[str]:
    """The name's words in loose form, common words left out."""
    key = name_key(skeleton(name).translate(_APOSTROPHES))
    found = {_NOT_WORD.sub("", skeleton(w)).casefold() for w in _WORD.findall(key)}
    return frozenset(w for w in found if w and w not in STOP_WORDS)


def numbers(name: str) -> list[str]:
    return _DIGITS.findall(name_key(name))


def edits(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance (insertions, deletions, substitutions, swaps), or
    bound + 1 as soon as it must exceed `bound`. Only the diagonal band |i - j| <= bound is
    computed: the cost grows with the length times the bound, not with the length squared."""
    n, m = len(a), len(b)
    over = bound + 1
    if abs(n - m) > bound:
        return over
    previous2: list[int] = []
    previous = [j if j <= bound else over for j in range(m + 1)]
    for i in range(1, n + 1):
        current = [over] * (m + 1)
        current[0] = i if i <= bound else over
        low, high = max(1, i - bound), min(m, i + bound)
        ca = a[i - 1]
        best = current[0]
        for j in range(low, high + 1):
            cb = b[j - 1]
            value = previous[j - 1] + (ca != cb)
            if previous[j] + 1 < value:
                value = previous[j] + 1
            if current[j - 1] + 1 < value:
                value = current[j - 1] + 1
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = min(value, over)
            best = min(best, current[j])
        if best > bound:
            return over
        previous2, previous = previous, current
    return previous[m]


def allowed_edits(loose: str) -> int:
    return 1 if len(loose) < 8 else 2


def _grams(loose: str) -> list[str]:
    padded = f"\x01\x01{loose}\x02\x02"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


@dataclass(frozen=True)
class Similar:
    """A known record that a name resembles, and why."""

    ident: int
    label: str
    reason: str  # "same but for punctuation or look-alike characters", "a typo", ...


@dataclass
class _Entry:
    label: str
    loose: str
    words: frozenset[str]
    numbers: tuple[str, ...]
    grams: frozenset[str]


class SimilarityIndex:
    """Known names (several may belong to one record), searchable for names like a new one."""

    def __init__(self) -> None:
        self._entries: list[tuple[int, _Entry]] = []
        self._by_loose: dict[str, list[int]] = {}
        self._by_gram: dict[str, list[int]] = {}
        self._by_word: dict[str, list[int]] = {}
        self._by_head: dict[str, list[int]] = {}  # first MIN_PREFIX characters
        # Each entry once, under its longest (so rarest-looking) word: finds the entries whose
        # words are all in a new name without walking the postings of common words.
        self._by_key_word: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, ident: int, name: str, label: str) -> None:
        loose = loose_key(name)
        entry = _Entry(label, loose, words(name), tuple(numbers(name)), frozenset(_grams(loose)))
        index = len(self._entries)
        self._entries.append((ident, entry))
        self._by_loose.setdefault(loose, []).append(index)
        for gram in entry.grams:
            self._by_gram.setdefault(gram, []).append(index)
        for word in entry.words:
            self._by_word.setdefault(word, []).append(index)
        if len(loose) >= MIN_PREFIX:
            self._by_head.setdefault(loose[:MIN_PREFIX], []).append(index)
        if entry.words:
            key_word = max(entry.words, key=lambda w: (len(w), w))
            self._by_key_word.setdefault(key_word, []).append(index)

    def add_many(self, rows: Iterable[tuple[int, str, str]]) -> None:
        for ident, name, label in rows:
            self.add(ident, name, label)

    def similar(self, name: str, limit: int = 3) -> list[Similar]:
        """Records with a name like `name` (exact matches are the caller's business), best first."""
        if not self._entries:
            return []  # nothing to resemble: spare the keys of a name (long titles cost)
        loose = loose_key(name)
        if not loose:
            return []
        mine = tuple(numbers(name))
        found: dict[int, tuple[int, str, str]] = {}  # ident -> (rank, label, reason)

        def hit(index: int, rank: int, reason: str) -> None:
            ident, entry = self._entries[index]
            if entry.numbers != mine:
                return
            if ident not in found or found[ident][0] > rank:
                found[ident] = (rank, entry.label, reason)

        for index in self._by_loose.get(loose, ()):
            hit(index, 0, "the same but for punctuation, spacing or look-alike characters")
        for index in self._typos(loose, mine):
            hit(index, 1, "a typo away")
        for index in self._word_subsets(words(name)):
            hit(index, 2, "the same words, fewer or more")
        for index in self._prefixes(loose):
            hit(index, 3, "the beginning of the other")
        ranked = sorted(found.items(), key=lambda item: (item[1][0], item[1][1], item[0]))
        return [Similar(ident, label, reason) for ident, (_, label, reason) in ranked[:limit]]

    def _typos(self, loose: str, mine_numbers: tuple[str, ...]) -> set[int]:
        k = allowed_edits(loose)
        grams = frozenset(_grams(loose))
        # q-gram lemma: an edit changes at most 3 trigrams (a swap of neighbours, 4), so within
        # k edits all but 4k of our trigrams are the other's too; every such string then holds
        # one of our 4k + 1 rarest.
        need = len(grams) - 4 * k
        rare = sorted(grams, key=lambda g: len(self._by_gram.get(g, ())))[: 4 * k + 1]
        out: set[int] = set()
        tried: set[int] = set()
        for gram in rare:
            for index in self._by_gram.get(gram, ()):
                if index in tried:
                    continue
                tried.add(index)
                entry = self._entries[index][1]
                other = entry.loose
                if (
                    other == loose
                    or abs(len(other) - len(loose)) > k
                    or entry.numbers != mine_numbers
                    or len(grams & entry.grams) < need
                ):
                    continue
                if edits(loose, other, k) <= min(k, allowed_edits(other)) and (
                    difflib.SequenceMatcher(None, loose, other).ratio() >= TYPO_RATIO
                ):
                    out.add(index)
        return out

    def _word_subsets(self, mine: frozenset[str]) -> set[int]:
        if not mine:
            return set()
        out = set()
        # Known names holding every word of this one: all are in the postings of its rarest word.
        rarest = min(mine, key=lambda w: len(self._by_word.get(w, ())))
        for index in self._by_word.get(rarest, ()):
            if mine < self._entries[index][1].words:
                out.add(index)
        # Known names whose every word is in this one.
        for word in mine:
            for index in self._by_key_word.get(word, ()):
                if self._entries[index][1].words < mine:
                    out.add(index)
        return out

    def _prefixes(self, loose: str) -> set[int]:
        if len(loose) < MIN_PREFIX:
            return set()
        out = set()
        for index in self._by_head.get(loose[:MIN_PREFIX], ()):
            other = self._entries[index][1].loose
            if other != loose and (other.startswith(loose) or loose.startswith(other)):
                out.add(index)
        return out


# Bidirectional overrides and isolates reorder what is displayed: `‮tnaidnaM` shows as another
# name. They are refused in names outright.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def bidi_control(name: str) -> str | None:
    return next((c for c in name if c in BIDI_CONTROLS), None)
