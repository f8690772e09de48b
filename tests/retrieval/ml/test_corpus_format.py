"""The one owner of the corpus format: its normalisations, on the cases the two readers meet."""

import datetime as dt

import pytest

from retrieval.ml.corpus_format import (
    is_flag,
    is_true,
    locarno_class_number,
    normalise_object_name,
    parse_grant_date,
    us_class_main,
    us_class_number,
)
from retrieval.ml.describe.classes import locarno_heading, us_class_heading

pytestmark = pytest.mark.ml


@pytest.mark.parametrize(
    ("us_class", "given", "expected"),
    [
        ("D14/486", "", "D14"),
        ("d 14/486", "", "D14"),
        ("  D7/500", "", "D7"),
        ("D14/486", "d 21", "D21"),  # the us_class_main column wins, normalised the same way
        ("14/486", "", ""),  # not a design class
        ("", "", ""),
    ],
)
def test_us_class_main(us_class: str, given: str, expected: str) -> None:
    assert us_class_main(us_class, given) == expected


def test_class_numbers_and_headings() -> None:
    assert (us_class_number("D14/486"), us_class_number("d 3"), us_class_number("x")) == (14, 3, None)
    assert (locarno_class_number("14-04"), locarno_class_number(" 7"), locarno_class_number("x")) == (14, 7, None)
    assert us_class_heading("D14/486") and locarno_heading("14-04")
    assert us_class_heading("D123") == us_class_heading("") == locarno_heading("ab") == ""


def test_flags() -> None:
    assert [is_true(v) for v in ("1", "TRUE", " yes ", "t", "0", "", "no", "2")] == [True] * 4 + [False] * 4
    assert [is_flag(v) for v in ("1", "False", "", "n", "2", "maybe")] == [True] * 4 + [False] * 2


def test_grant_dates() -> None:
    assert parse_grant_date("20110105") == (dt.date(2011, 1, 5), False, "")
    assert parse_grant_date("2011-01-05") == (dt.date(2011, 1, 5), False, "")
    assert parse_grant_date("2011") == (dt.date(2011, 1, 1), True, "")
    assert parse_grant_date("") == (None, False, "")
    assert parse_grant_date("20111305")[2] == "grant_date '20111305' is not a date (YYYY-MM-DD, YYYYMMDD or YYYY)"


def test_object_names() -> None:
    assert normalise_object_name("  Shaving  blade cartridge.") == "shaving blade cartridge"
