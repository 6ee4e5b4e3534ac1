"""Numeric ids people type (``/paid 12``, ``/waive #12 reason``) or buttons carry.

:func:`parse_id` is the one way to turn such text into an id: fines, freight slips,
complaints, drafts and the ids in callback data are all database keys from 1 up to
``MAX_ID``. ``str.isdigit()`` followed by ``int()`` is not enough: ``"²".isdigit()`` is
True and ``int("²")`` raises ValueError, and ``"99999999999999999999999"`` passes and
then overflows SQLite's 64-bit INTEGER.

Accepted, else ``None`` (never an exception, for any ``str`` or ``None``):

* surrounding whitespace (``\\u3000`` and newlines included),
* then at most one ``#`` or full-width ``＃``, which may be followed by spaces,
* then one or more digits, each ASCII ``0``-``9`` or full-width ``０``-``９`` (what a
  Chinese phone keyboard types); leading zeros are allowed (``007`` is 7),
* naming a value from 1 to ``MAX_ID`` (2**31 - 1, a signed 32-bit integer).

Decision: no NFKC. NFKC does turn full-width digits into ASCII, but it also turns
superscripts (``²``), subscripts (``₂``), circled numbers (``①``) and mathematical
digits (``𝟓``) into ASCII digits, and none of those is a typed id. So only the ten
full-width digits (and ``＃``) are mapped; every other Unicode digit (Arabic-Indic
``٣``, Devanagari ``१``...), signs (``+``, ``-``, ``−``), separators (``1,000``,
``1_000``, ``1.0``), inner spaces and any other character give ``None``.

Whatever :func:`parse_id` returns round-trips: ``parse_id(str(n)) == n``.
"""

from __future__ import annotations

import re

# The largest id accepted: every id in the database fits a signed 32-bit integer.
MAX_ID = 2**31 - 1

_FULL_WIDTH = str.maketrans("０１２３４５６７８９＃", "0123456789#")
# [0-9], not \d: \d also matches every other script's digits.
_ID = re.compile(r"#?\s*([0-9]+)")


def parse_id(text: str | None) -> int | None:
    """The id 1..``MAX_ID`` that ``text`` is, else ``None``; see the module's rules."""
    if not isinstance(text, str):
        return None
    match = _ID.fullmatch(text.translate(_FULL_WIDTH).strip())
    if match is None:
        return None
    digits = match.group(1).lstrip("0")
    # Checked before int(): int() refuses more than 4,300 digits with a ValueError.
    if not digits or len(digits) > len(str(MAX_ID)):
        return None
    value = int(digits)
    return value if value <= MAX_ID else None
