"""Partial dates: `2013`, `2013-02` or `2013-02-19`, kept at the precision they were given.

They are stored as ISO text, which sorts correctly (a year before its months, a month before its
days). Filters treat a partial date as the whole period it names: `--since 2013-02` keeps
`2013` (it may fall in February) and `--until 2013-02` keeps `2013-02-19`.
"""

import calendar
import re
from functools import lru_cache

from tracker.errors import InvalidInput

MIN_YEAR = 1000
MAX_YEAR = 2999
_FORM = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


@lru_cache(maxsize=1 << 14)
def parse_date(value: str, field: str = "date") -> str:
    """Validate a partial date strictly and return it unchanged in meaning."""
    text = value.strip()
    match = _FORM.fullmatch(text)
    if not match:
        raise InvalidInput(f"{field} {value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"{field} {value!r}: the year must be between {MIN_YEAR} and {MAX_YEAR}")
    if month is not None and not 1 <= month <= 12:
        raise InvalidInput(f"{field} {value!r}: there is no month {month}")
    if day is not None:
        assert month is not None
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            raise InvalidInput(
                f"{field} {value!r}: {calendar.month_name[month]} {year} has no day {day}"
            )
    return text


def parse_optional_date(value: str | None, field: str = "date") -> str | None:
    if value is None or not value.strip():
        return None
    return parse_date(value, field)


def period_end(date: str) -> str:
    """A string that sorts after every date inside the period `date` names, and before the next."""
    return date + "-99"
