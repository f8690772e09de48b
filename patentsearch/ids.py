"""Database ids as users write them in URLs, forms and lists: the one reading of "is this an id"."""

from __future__ import annotations

#: A primary key fits a bigint: longer digit strings are not ids (and, where names are allowed, names).
MAX_ID_DIGITS = 18


def parse_id(value: str) -> int | None:
    """The id that ``value`` writes, or None: ASCII digits only (``str.isdigit()`` also accepts
    superscripts and other scripts' digits, which ``int()`` refuses or reads otherwise), at most
    ``MAX_ID_DIGITS`` of them."""
    if value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS:
        return int(value)
    return None
