"""The one CSV writer: streamed, UTF-8, one header, formula injection neutralised."""

import csv
import io

from patentsearch.csv_export import csv_lines, csv_response, neutralise


def test_cells_a_spreadsheet_would_run_are_made_inert():
    for cell in ("=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(cell) == "'" + cell
    assert neutralise("D14/486") == "D14/486"
    assert neutralise(None) == ""
    assert neutralise(3) == "3"


def test_numbers_are_never_formulas_and_keep_their_sign():
    """A negative score (a cosine similarity below 0) is a number, not a formula: prefixing it
    would turn it into the text "'-0.25" for every spreadsheet and script that reads the file."""
    assert neutralise(-0.25) == "-0.25" and neutralise(-3) == "-3"
    rows = list(csv.reader(io.StringIO("".join(csv_lines(["score", "note"], [[-0.125, "-0.125"]])))))
    assert rows[1] == ["-0.125", "'-0.125"]  # a typed text that starts with "-" is still neutralised


def test_lines_parse_back_with_header_first_and_unicode_kept():
    text = "".join(csv_lines(["a", "b"], [["Stühle, \"Sessel\"", "=HYPERLINK(1)"], [1, None]]))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["a", "b"], ["Stühle, \"Sessel\"", "'=HYPERLINK(1)"], ["1", ""]]


def test_response_streams_utf8_attachment():
    response = csv_response("x.csv", ["h"], iter([["é"]]))
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="x.csv"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).decode("utf-8") == "h\r\né\r\n"
