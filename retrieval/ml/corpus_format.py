"""The corpus format of docs/ARCHITECTURE.md, owned here and only here.

A corpus is a folder (or a .zip of one) with ``metadata.csv`` (one row per image), optional
``descriptions.jsonl`` and the images. This module names the files and columns and owns the
normalisations of the values that training labels and search filters must agree on: the truth
values of flags, the US design main class (``D14/486`` -> ``D14``), the Locarno class number
(``14-04`` -> 14), the object-name label and the grant date.

Two readers use it: the app's ingest (``retrieval.ingest``, strict: every problem is reported
and nothing is written) and the ML library (``retrieval.ml.data``, lenient: it reads what it
can use). It is plain Python, free of Django, so that both sides import the same code; the
import contracts of pyproject.toml allow the ingest package this one import into retrieval.ml.
"""

from __future__ import annotations

import datetime as dt
import re

METADATA_FILE = "metadata.csv"
DESCRIPTIONS_FILE = "descriptions.jsonl"

REQUIRED_COLUMNS: tuple[str, ...] = ("image_file", "patent_id")
#: Every column with a meaning, in the order writers put them; others are kept as extra metadata.
KNOWN_COLUMNS: tuple[str, ...] = (
    "image_file", "patent_id", "figure_id", "object_name", "title", "viewpoint", "caption",
    "locarno_class", "us_class", "us_class_main", "grant_date", "generated_caption",
    "is_front_page",
)

TRUE_VALUES = frozenset({"1", "true", "yes", "y", "t"})
FALSE_VALUES = frozenset({"", "0", "false", "no", "n", "f"})

_US_CLASS_MAIN = re.compile(r"^\s*(D\s*\d+)", re.IGNORECASE)
_LOCARNO_CLASS = re.compile(r"^\s*(\d{1,2})\b")


def is_true(value: str) -> bool:
    """A flag column (``is_front_page``): 1, true, yes, y or t in any case."""
    return value.strip().lower() in TRUE_VALUES


def is_flag(value: str) -> bool:
    """Whether a flag column's value is one of the accepted true or false spellings."""
    return value.strip().lower() in TRUE_VALUES | FALSE_VALUES


def us_class_main(us_class: str, given: str = "") -> str:
    """The US design main class: ``given`` (the us_class_main column) when there is one, else
    derived from ``us_class``; upper case without spaces ('d 14/486' -> 'D14'); '' if none."""
    if not given:
        match = _US_CLASS_MAIN.match(us_class)
        given = match.group(1) if match else ""
    return given.upper().replace(" ", "")


def us_class_number(code: str) -> int | None:
    """The number of a US design class ('D14/486' or 'D14' -> 14); None if it names none."""
    main = us_class_main(code)
    return int(main[1:]) if main else None


def locarno_class_number(code: str) -> int | None:
    """The class of a Locarno class-subclass ('14-04' -> 14); None if it names none."""
    match = _LOCARNO_CLASS.match(code)
    return int(match.group(1)) if match else None


def normalise_object_name(name: str) -> str:
    """Lower case, single spaces, no punctuation at the ends: 'Shaving  blade cartridge.' -> 'shaving blade cartridge'."""
    return " ".join(name.lower().split()).strip(" .,;:")


def parse_grant_date(value: str) -> tuple[dt.date | None, bool, str]:
    """(date, is_year_only, problem) of a grant_date: YYYYMMDD, YYYY-MM-DD or YYYY; '' is no date."""
    if not value:
        return None, False, ""
    digits = value.replace("-", "")
    try:
        if len(digits) == 8 and digits.isdigit():
            return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:])), False, ""
        if len(digits) == 4 and digits.isdigit():
            return dt.date(int(digits), 1, 1), True, ""
    except ValueError:
        pass
    return None, False, f"grant_date {value!r} is not a date (YYYY-MM-DD, YYYYMMDD or YYYY)"
