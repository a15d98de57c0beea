"""JSON read with limits: a size, a nesting depth and a length of number.

Python's :func:`json.loads` has none of its own that fail cleanly: text nested
a few thousand levels deep raises :class:`RecursionError`, and an integer of
more than 4,300 digits raises a bare :class:`ValueError` (CPython's guard
against quadratic ``int()``). Every JSON Overseer reads from a user (plan files,
JSON Lines rows) goes through :func:`loads`, which refuses those with a
:class:`JSONLimitError` whose message says which limit was passed.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from app.domain.errors import OverseerError

#: Deep enough for any real plan or row (a plan nests three levels), far below Python's recursion limit.
MAX_DEPTH = 32
#: The most digits of a number: no amount, count or id Overseer stores comes close.
MAX_DIGITS = 40

# A JSON string (skipped, so brackets inside it do not count) or one bracket.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JSONLimitError(OverseerError):
    """The JSON text passes one of the limits of :func:`loads`; the message says which."""


def _depth_exceeds(text: str, max_depth: int) -> bool:
    # Counting brackets is C-fast and settles nearly every text: it cannot nest deeper than it has brackets.
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif token in "]}":
            depth -= 1
    return False


@lru_cache(maxsize=8)
def _number_parsers(max_digits: int):
    # json.loads hands every number's text to these before converting it, so a long one is refused unread.
    def number(kind):
        def parse(token: str):
            if len(token) > max_digits:
                raise JSONLimitError(f"holds a number of {len(token):,} characters; at most {max_digits} are read")
            return kind(token)

        return parse

    return number(int), number(float)


def loads(text: str, *, max_chars: int, max_depth: int = MAX_DEPTH, max_digits: int = MAX_DIGITS):
    """Parse JSON ``text`` within limits.

    Parameters
    ----------
    text : str
        The JSON text.
    max_chars : int
        The longest text accepted.
    max_depth : int
        The deepest nesting of arrays and objects accepted.
    max_digits : int
        The longest number accepted, in characters (sign, point and exponent included).

    Returns
    -------
    object
        What :func:`json.loads` returns.

    Raises
    ------
    JSONLimitError
        The text is longer, deeper or holds a longer number than allowed.
    json.JSONDecodeError
        The text is not JSON.
    """
    if len(text) > max_chars:
        raise JSONLimitError(f"is {len(text):,} characters long; at most {max_chars:,} are read")
    if _depth_exceeds(text, max_depth):
        raise JSONLimitError(f"nests arrays or objects more than {max_depth} levels deep")

    parse_int, parse_float = _number_parsers(max_digits)
    try:
        return json.loads(text, parse_int=parse_int, parse_float=parse_float)
    except RecursionError:  # the bracket count above makes this unreachable; a traceback must still never show
        raise JSONLimitError(f"nests arrays or objects more than {max_depth} levels deep") from None
