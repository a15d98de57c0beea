"""Text both databases store: no NUL or other control character, no unpaired surrogate.

PostgreSQL refuses a NUL in any text and cannot encode a lone surrogate; SQLite
stores the first and fails on the second. Free text a person types (a step
description, a job's name, a review comment) is checked here first, so both
databases give the same answer: a refusal naming the field and the character.
"""

from __future__ import annotations

import re

from app.domain.errors import OverseerError

# Every control character (Unicode Cc) and every surrogate (Cs); with line breaks and tabs allowed, or not.
_ANY = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_storable(text: str, what: str, *, lines: bool = False) -> str:
    """``text`` if both databases store it as it is, else :class:`OverseerError` naming ``what``.

    Parameters
    ----------
    text : str
    what : str
        The field, for the message ("the comment").
    lines : bool
        Allow line breaks (``\\n``, ``\\r``) and tabs, as a multi-line field does.
    """
    bad = (_BUT_LINES if lines else _ANY).search(text)
    if bad is not None:
        char = bad.group()
        kind = "an unpaired surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        raise OverseerError(f"{what} contains {kind} (U+{ord(char):04X}); remove it")
    return text
