"""Names made from what users typed or the corpus holds (an application number, a model name, a
drawing's file name), safe as a download's file name, a name inside an archive or a TREC tag:
letters, digits, ``-``, ``_`` and ``.``, anything else an underscore."""

from __future__ import annotations


def safe_name(text: str, default: str) -> str:
    """``text`` with every other character an underscore; ``default`` when nothing is left."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip(".")
    return name or default
