"""Write ledgers (台账: scores, tickets, sites) as .xlsx workbooks or CSV files.

A ``Ledger`` is one table: a title, the sheet name, the column headers and the rows.
``write_xlsx`` puts several ledgers in one workbook, one sheet each; ``write_csv`` writes
one ledger the way Excel on a Chinese Windows opens it without mojibake (UTF-8 with BOM,
CRLF line endings).

Cell values keep their type: numbers stay numbers, ``date``/``datetime``/``time`` become
real Excel dates with a number format (a timezone-aware value is written as its wall-clock
time in its own zone: convert to the community's zone first), ``None`` is an empty cell and
an enum is written as its value. A ``Percent`` (a fraction) is a number with a percent
format in xlsx, so Excel can sum and average it, and "81.3%" in CSV. Anything else is
written as ``str(value)``.

Spreadsheet formula injection: a ledger holds residents' text, and a complaint that starts
with ``=``, ``+``, ``-`` or ``@`` (or a tab or CR) would run as a formula when the file is
opened. In CSV such a cell gets a leading apostrophe; in xlsx it is written as a string
with Excel's "quote prefix", so it shows as typed and stays text even when edited.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

__all__ = ["MAX_WIDTH", "Ledger", "Percent", "sheet_names", "write_csv", "write_xlsx"]

MAX_WIDTH = 60  # column width cap, in Excel's character units
_MIN_WIDTH = 6
_SHEET_NAME_MAX = 31
_CELL_MAX = 32_767  # Excel's limit on the characters in one cell
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters an xlsx file cannot hold at all (XML 1.0): openpyxl refuses them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_TIME_FORMAT = "hh:mm"
_PERCENT_FORMAT = "0.0%"

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F2EFEA")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="808080"))
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP_ALIGN = Alignment(vertical="top", wrap_text=True)


@dataclass(frozen=True, slots=True)
class Percent:
    """A rate as a fraction (0.8125), shown as a percentage with one decimal (81.3%)."""

    fraction: float

    def __str__(self) -> str:
        # Half up on the decimal the fraction reads as, as an office would round by hand.
        percent = (Decimal(repr(self.fraction)) * 100).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        return f"{percent}%"


@dataclass(frozen=True, slots=True)
class Ledger:
    """One table to export. Every row has exactly one value per header."""

    title: str  # shown in the printed page header and the workbook properties
    sheet: str  # sheet name; made valid and unique by write_xlsx (see sheet_names)
    headers: tuple[str, ...]
    rows: Sequence[Sequence[object]]
    widths: tuple[int, ...] | None = None  # column widths in characters; None: from content

    def __post_init__(self) -> None:
        if not self.headers:
            raise ValueError("a ledger needs at least one column")
        if self.widths is not None and len(self.widths) != len(self.headers):
            raise ValueError(f"{len(self.widths)} widths for {len(self.headers)} columns")
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.headers):
                raise ValueError(
                    f"row {number} has {len(row)} values for {len(self.headers)} columns"
                )


# --- values ---------------------------------------------------------------------------------


def _is_risky(text: str) -> bool:
    return text.startswith(_FORMULA_START)


def _plain(value: object) -> object:
    """Unwrap enums and drop timezones: what is left is what a cell can hold."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime | time) and value.tzinfo is not None:
        # Excel has no time zones: keep the wall-clock time the caller chose to show.
        value = value.replace(tzinfo=None)
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        return None  # Excel has no NaN or infinity
    if isinstance(value, Percent) and not math.isfinite(value.fraction):
        return None
    return value


def _text(value: object) -> str:
    return _ILLEGAL_XML.sub("", str(value))[:_CELL_MAX]


def _display_width(text: str) -> int:
    """Width in Excel character units: CJK and other wide characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cell_width(value: object) -> int:
    value = _plain(value)
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("2026-11-18 09:05")
    if isinstance(value, date):
        return len("2026-11-18")
    if isinstance(value, time):
        return len("09:05")
    return max((_display_width(line) for line in str(value).splitlines()), default=0)


def _widths(ledger: Ledger) -> list[int]:
    if ledger.widths is not None:
        return [max(1, min(w, 255)) for w in ledger.widths]
    widest = [_display_width(h) + 2 for h in ledger.headers]  # bold headers need a little more
    for row in ledger.rows:
        for i, value in enumerate(row):
            widest[i] = max(widest[i], _cell_width(value))
    return [min(MAX_WIDTH, max(_MIN_WIDTH, w + 2)) for w in widest]


# --- xlsx -----------------------------------------------------------------------------------


def sheet_names(wanted: Sequence[str]) -> list[str]:
    """Make sheet names Excel accepts: no ``[]:*?/\\``, at most 31 characters, unique.

    Unique ignoring case, as Excel compares them; a repeat gets " (2)", " (3)"…
    """
    names: list[str] = []
    taken: set[str] = set()
    for raw in wanted:
        base = _SHEET_FORBIDDEN.sub("_", _ILLEGAL_XML.sub("", raw)).strip().strip("'").strip()
        if not base or base.lower() == "history":  # Excel reserves "History"
            base = f"{base or 'Sheet'}_"
        name, n = base[:_SHEET_NAME_MAX], 1
        while name.lower() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[: _SHEET_NAME_MAX - len(suffix)] + suffix
        taken.add(name.lower())
        names.append(name)
    return names


def _put(ws: Any, row: int, column: int, value: object) -> None:
    cell = ws.cell(row=row, column=column)
    value = _plain(value)
    if value is None:
        return
    if isinstance(value, bool | int | float | Decimal):
        cell.value = value
    elif isinstance(value, Percent):
        cell.value = value.fraction
        cell.number_format = _PERCENT_FORMAT
    elif isinstance(value, datetime):
        cell.value = value
        cell.number_format = _DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = _DATE_FORMAT
    elif isinstance(value, time):
        cell.value = value
        cell.number_format = _TIME_FORMAT
    else:
        text = _text(value)
        cell.value = text
        if _is_risky(text):
            # openpyxl would store "=…" as a formula; force a string, and let Excel keep
            # it one when the cell is edited.
            cell.data_type = "s"
            cell.quotePrefix = True
        if "\n" in text:
            cell.alignment = _WRAP_ALIGN


def write_xlsx(ledgers: Sequence[Ledger]) -> bytes:
    """Write the ledgers into one workbook, a sheet each, and return the .xlsx bytes.

    Each sheet has a bold header row that stays in view (frozen at A2) and repeats on
    every printed page, an autofilter on the header, and the ledger's title in the page
    header.
    """
    if not ledgers:
        raise ValueError("a workbook needs at least one ledger")
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = _text(ledgers[0].title)[:255]
    for ledger, name in zip(ledgers, sheet_names([lg.sheet for lg in ledgers]), strict=True):
        ws = wb.create_sheet(title=name)
        for column, header in enumerate(ledger.headers, start=1):
            _put(ws, 1, column, header)
            cell = ws.cell(row=1, column=column)
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
            cell.border = _HEADER_BORDER
            cell.alignment = _HEADER_ALIGN
        for r, row in enumerate(ledger.rows, start=2):
            for column, value in enumerate(row, start=1):
                _put(ws, r, column, value)
        for column, width in enumerate(_widths(ledger), start=1):
            ws.column_dimensions[get_column_letter(column)].width = width
        last = get_column_letter(len(ledger.headers))
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{last}{len(ledger.rows) + 1}"
        ws.print_title_rows = "1:1"
        # Page headers are a tiny format language in which "&" starts a code.
        ws.oddHeader.center.text = _text(ledger.title).replace("&", "&&")[:250]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- csv ------------------------------------------------------------------------------------


def _csv_value(value: object) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, int | float | Decimal | Percent):
        return str(value)
    text = str(value).replace("\x00", "")
    return "'" + text if _is_risky(text) else text


def write_csv(ledger: Ledger) -> bytes:
    """Write one ledger as CSV: UTF-8 with BOM, CRLF, the header row first, no title."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([_csv_value(h) for h in ledger.headers])
    for row in ledger.rows:
        writer.writerow([_csv_value(v) for v in row])
    # The BOM is what makes Excel read the file as UTF-8 rather than GBK.
    return out.getvalue().encode("utf-8-sig")
