"""Every CSV qualcode writes goes through :func:`write_csv`.

* Each cell, the header row included, passes the formula guard of
  :func:`qualcode.excel.xlsx.csv_safe`: text starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return gets a leading quote mark, so a source named ``=HYPERLINK(...)``
  stays text in Excel or LibreOffice.
* A cell holding a ``;`` is quoted like one holding a comma. Quoting only cells that hold a
  comma is not enough: in Dutch and Belgian locales Excel splits CSV on ``;``, and an unquoted
  ``P1;=cmd|'/c calc'!A0`` would become a second cell holding a formula (DDE). A reader that
  splits on ``;`` does not honour quotes made for ``,`` either, so a ``;`` followed by a formula
  start also gets the quote mark after it: ``P1;'=cmd|...``.
"""

from __future__ import annotations

import re
from typing import IO, Any, Iterable, Sequence


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: numbers as numbers, everything else as guarded text."""
    from ..excel.xlsx import csv_safe

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return _AFTER_SEMICOLON.sub(";'", csv_safe(value))


_AFTER_SEMICOLON = re.compile(r";(?=[\s\"']*[=+\-@\t\r])")


def write_csv(fh: IO[str], header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``header`` and ``rows`` to ``fh`` (opened with ``newline=''``) as guarded CSV, separated
    by commas; a cell holding a comma, semicolon, quote, tab or line break is quoted."""
    fh.write(_line(header))
    for row in rows:
        fh.write(_line(row))


_NEEDS_QUOTES = re.compile(r"[,;\"\t\r\n]|^\s|\s$")


def _line(cells: Sequence[Any]) -> str:
    out = []
    for v in cells:
        v = csv_cell(v)
        s = repr(v) if isinstance(v, float) else str(v)
        out.append('"' + s.replace('"', '""') + '"' if _NEEDS_QUOTES.search(s) else s)
    return ",".join(out) + "\r\n"
