"""CSV cells against formula injection (OWASP): text that a spreadsheet would run gets a
leading quote, numbers stay numbers, and reading a cell back gives the text written."""

import csv
import io

import pytest

from annotations.formats.csv_cells import CsvWriter, csv_cell, csv_text


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("http://x","y")'],
)
def test_text_that_starts_like_a_formula_gets_a_leading_quote(text):
    assert csv_cell(text) == "'" + text


def test_text_that_starts_with_the_quote_gets_another():
    assert csv_cell("'tis") == "''tis"


def test_other_text_is_left_alone():
    assert csv_cell("Curves / Curve detectors") == "Curves / Curve detectors"


@pytest.mark.parametrize("number", [-0.5, -3, 0, 12.25])
def test_numbers_are_left_alone(number):
    assert csv_cell(number) == number


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd", "'tis", "''", "'", "plain", ""]
)
def test_reading_a_cell_back_gives_the_text_written(text):
    assert csv_text(csv_cell(text)) == text


def test_a_quote_before_ordinary_text_is_kept_on_reading():
    assert csv_text("'tis") == "'tis"


def test_the_writer_quotes_each_text_cell_and_leaves_numbers():
    stream = io.StringIO()

    CsvWriter(stream).writerow(["inception", "=cmd|' /C calc'!A0", -0.5, 7, "@ada"])

    assert list(csv.reader(io.StringIO(stream.getvalue()))) == [
        ["inception", "'=cmd|' /C calc'!A0", "-0.5", "7", "'@ada"]
    ]
