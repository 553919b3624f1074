"""CSV cells a spreadsheet shows as text: OWASP's rule against formula injection, and its undoing
when the service reads its own CSV back.

A text cell that starts like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a
leading single quote, which spreadsheets take as "this is text" and do not show. A text cell
that starts with the quote itself gets one too, so that reading back is exact: a quote followed
by one of these characters or by another quote is always one the writer added. Numbers are
written as they are: ``-0.5`` written by the service is a number, not a formula.
"""

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def csv_cell(value):
    """``value`` as a CSV cell: text that a spreadsheet would run is quoted; numbers, None and
    other text are left alone."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, QUOTE)):
        return QUOTE + value
    return value


def csv_text(cell):
    """A cell of a CSV file as the text it stands for: the quote ``csv_cell`` added is removed."""
    if cell.startswith(QUOTE) and cell[1:2] and cell[1] in (*FORMULA_STARTS, QUOTE):
        return cell[1:]
    return cell


class CsvWriter:
    """``csv.writer`` whose every cell goes through ``csv_cell``: the one way the service writes
    CSV."""

    def __init__(self, stream):
        self._writer = csv.writer(stream, lineterminator="\n")

    def writerow(self, values):
        self._writer.writerow([csv_cell(value) for value in values])
