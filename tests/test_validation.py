"""The rules for what gets in: names, dates, URLs and text, by example and by property."""

import calendar
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.dates import MAX_YEAR, MIN_YEAR, parse_date
from tracker.errors import InvalidInput
from tracker.names import SimilarityIndex
from tracker.text import clean, clean_url, name_key


@given(st.text())
def test_name_key_is_idempotent(name: str) -> None:
    assert name_key(name_key(name)) == name_key(name)


@given(st.text(st.characters(whitelist_categories=("Lu", "Ll")), min_size=1))
def test_equal_names_give_equal_keys(name: str) -> None:
    # Not .upper(): some letters (Greek with ypogegrammeni) gain a letter when upper-cased.
    variants = [
        name.casefold(),
        name.lower(),
        unicodedata.normalize("NFD", name),
        f"  {name}  ",
        "\u200b".join(name),
    ]
    assert {name_key(v) for v in variants} == {name_key(name)}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Société Générale", "societe generale"),
        ("Comment  Crew", "comment crew"),
        ("STRASSE", "straße"),
        ("Man\u200bdiant", "Mandiant"),
        ("\uff21\uff30\uff34\uff11", "apt1"),
    ],
)
def test_names_that_match(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_numbers_keep_groups_apart() -> None:
    index = SimilarityIndex()
    index.add_many([(1, "APT28", "APT28"), (2, "PLA Unit 61398", "PLA Unit 61398")])

    def near(name: str) -> list[str]:
        return [s.label for s in index.similar(name)]

    assert near("APT29") == []
    assert near("PLA Unit 61486") == []
    assert near("ATP28") == ["APT28"]
    assert near("PLA Unti 61398") == ["PLA Unit 61398"]


_VALID = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")


def _is_real(text: str) -> bool:
    if not _VALID.fullmatch(text):
        return False
    parts = [int(p) for p in text.split("-")]
    if not MIN_YEAR <= parts[0] <= MAX_YEAR:
        return False
    if len(parts) > 1 and not 1 <= parts[1] <= 12:
        return False
    return len(parts) < 3 or 1 <= parts[2] <= calendar.monthrange(parts[0], parts[1])[1]


@given(st.one_of(st.text(max_size=12), st.from_regex(r"\A\d{4}(-\d{2}(-\d{2})?)?\Z")))
def test_dates_accept_exactly_the_valid_forms(text: str) -> None:
    if _is_real(text):
        assert parse_date(text) == text
    else:
        with pytest.raises(InvalidInput):
            parse_date(text)


@pytest.mark.parametrize(
    "bad",
    [
        "20130219",
        "2013-W07",
        "2013-02-30",
        "2013-13",
        "2013-2-1",
        "13-02-19",
        "0999",
        "2013-02-19T00:00",
        " ",
        "\uff12\uff10\uff11\uff13",
    ],
)
def test_dates_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_date(bad)


@pytest.mark.parametrize("good", ["2013", "2013-02", "2013-02-19", "2012-02-29"])
def test_dates_kept_at_their_precision(good: str) -> None:
    assert parse_date(good) == good


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "http://",
        "example.com",
        "https://exa mple.com",
        "https://example.com/\nx",
        "https://example.com:99999/",
        "http://exa\tmple.com",
    ],
)
def test_urls_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        clean_url(bad)


def test_urls_kept() -> None:
    url = "https://www.theglobeandmail.com/news/world/article9745383/?utm=x#top"
    assert clean_url(url) == url


@pytest.mark.parametrize("bad", ["a\x00b", "bell\x07", "esc\x1b[31m", "del\x7f"])
def test_control_characters_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="control character"):
        clean(bad, "text")


def test_text_is_stored_as_nfc() -> None:
    assert clean("Ge\u0301ne\u0301rale", "text") == "Générale"
    assert clean("  x  ", "text") == "x"
    with pytest.raises(InvalidInput, match="limit is 5"):
        clean("toolong", "text", limit=5)
