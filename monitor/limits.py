"""The bounds of every duration, size and count in sources.yaml, and the parsers that hold values to them.

A value that validates must also run: `.inf`, `.nan` or a billion days would pass a bare "is it positive" test,
then crash the scheduler (an interval timedelta overflows), hang a check (a host delay of a billion days) or fail
every request (a NaN timeout). So each value is finite and between a floor and a ceiling chosen to be far past
any sane setting, and the error names the bound. Values echoed in messages are cut short (`show`), so a huge
scalar cannot turn one error line into megabytes.
"""
from __future__ import annotations

import math
import re
import reprlib
from dataclasses import dataclass
from typing import Any

DAY = 86400.0
MB = 1024**2


@dataclass(frozen=True)
class Bound:
    """The allowed range of one value; `what` is the kind of value, which decides how the bounds are written."""

    low: float
    high: float
    what: str = "count"  # duration | size | count


INTERVAL = Bound(1.0, 30 * DAY, "duration")  # under a second is a loop; over a month is not monitoring
TIMEOUT = Bound(1.0, 3600.0, "duration")  # a request attempt; retries each get it again
HOST_DELAY = Bound(0.0, 3600.0, "duration")  # one request per hour to a host is the slowest pace that makes sense
MAX_BODY = Bound(1, 256 * MB, "size")  # held in memory and parsed, up to `concurrency` at a time
COUNTS = {
    "max_redirects": Bound(0, 30),
    "concurrency": Bound(1, 256),
    "per_host_concurrency": Bound(1, 64),
    "retries": Bound(0, 10),
    "failure_threshold": Bound(1, 1000),
    "suspect_passes": Bound(1, 100),
    # parse budgets (monitor/extract/budget.py): at most ten million elements, nesting as deep as 100,000
    "max_elements": Bound(1, 10_000_000),
    "max_depth": Bound(1, 100_000),
}
MAX_ID = 100  # characters of a source id: it names jobs, log lines and alerts
MAX_URL = 4096  # characters of a url (what servers commonly accept in a request line)
MAX_USER_AGENT = 512
SHOWN = 60  # characters of a value echoed in an error message

_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*")
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*", re.I)
_DURATION_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_SIZE_UNITS = {None: 1, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def show(value: Any, limit: int = SHOWN) -> str:
    """repr(value), cut to about `limit` characters without ever building the whole repr of a huge value."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return f"a number of about {int(value.bit_length() * 0.30103):,} digits"  # repr() of these raises
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value):,} characters)"
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = SHOWN
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4
_SHORT.maxlevel = 2


def show_key(key: Any, limit: int = 40) -> str:
    """A mapping key as it is written in the file (no quotes), cut to `limit` characters."""
    text = key if isinstance(key, str) else show(key, limit)
    return text if len(text) <= limit else text[:limit] + "…"


def written(amount: float, what: str) -> str:
    """A bound as an operator writes it: 30d, 1h, 256MB, 10."""
    if what == "duration":
        for unit, size in (("d", DAY), ("h", 3600), ("m", 60)):
            if amount >= size and amount % size == 0:
                return f"{amount / size:g}{unit}"
        return f"{amount:g}s"
    if what == "size":
        for unit, size in (("GB", 1024**3), ("MB", MB), ("KB", 1024)):
            if amount >= size and amount % size == 0:
                return f"{amount / size:g}{unit}"
        return f"{amount:g} bytes"
    return f"{amount:g}"


def _within(value: Any, amount: float, bound: Bound | None, floor_word: str, ceiling_word: str) -> None:
    if bound is None:
        return
    if amount < bound.low:
        raise ValueError(f"{show(value)} is {floor_word} than {written(bound.low, bound.what)}")
    if amount > bound.high:
        raise ValueError(f"{show(value)} is {ceiling_word} than the {written(bound.high, bound.what)} limit")


def parse_duration(value: Any, bound: Bound | None = None) -> float:
    """'30s', '15m', '6h', '1d' or a number of seconds -> seconds: finite, positive, and within `bound`."""
    if isinstance(value, bool):
        raise ValueError(f"{show(value)} is not a duration")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        m = _DURATION_RE.fullmatch(str(value)) if isinstance(value, str) else None
        if not m:
            raise ValueError(f"{show(value)} is not a duration (use 30s, 15m, 6h or 1d)")
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    if math.isnan(seconds):
        raise ValueError(f"{show(value)} is not a duration (use 30s, 15m, 6h or 1d)")
    if seconds <= 0:
        raise ValueError(f"{show(value)} must be positive")
    _within(value, seconds, bound, "shorter", "longer")
    if math.isinf(seconds):
        raise ValueError(f"{show(value)} is not a finite duration")
    return seconds


def parse_delay(value: Any, bound: Bound | None = HOST_DELAY) -> float:
    """A duration that may be zero (a host exempt from the global delay)."""
    if value in (0, "0", "0s") and not isinstance(value, bool):
        return 0.0
    return parse_duration(value, bound)


def parse_size(value: Any, bound: Bound | None = None) -> int:
    """'512KB', '10MB' or a number of bytes -> bytes: finite, positive, and within `bound`."""
    if isinstance(value, bool):
        raise ValueError(f"{show(value)} is not a size")
    if isinstance(value, (int, float)):
        amount = float(value)
    else:
        m = _SIZE_RE.fullmatch(value) if isinstance(value, str) else None
        if not m:
            raise ValueError(f"{show(value)} is not a size (use 512KB, 10MB)")
        amount = float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").lower() or None]
    if math.isnan(amount):
        raise ValueError(f"{show(value)} is not a size (use 512KB, 10MB)")
    if amount < 1:
        raise ValueError(f"{show(value)} must be positive")
    _within(value, amount, bound, "smaller", "larger")
    if math.isinf(amount):
        raise ValueError(f"{show(value)} is not a finite size")
    return int(amount)


def parse_count(value: Any, bound: Bound) -> int:
    """A whole number within `bound` (3, "3" or 3.0; not 2.5, true, .inf or a string of digits 5,000 long)."""
    if isinstance(value, bool):
        raise ValueError(f"{show(value)} is not a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12:
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValueError(f"{show(value)} is not a whole number")
    if value < bound.low:
        raise ValueError(f"{show(value)} must be at least {written(bound.low, 'count')}")
    if value > bound.high:
        raise ValueError(f"{show(value)} must be at most {written(bound.high, 'count')}")
    return value
