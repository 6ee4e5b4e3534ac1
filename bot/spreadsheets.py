"""The fines ledger as a spreadsheet HR can hand to payroll (rule 一.5, the 水果基金).

:func:`fines_workbook` turns fine rows into the bytes of an XLSX file with two sheets:

1. the fines, one row each: a title row, a bold header row with an autofilter and the
   panes frozen below it, then id, complaint number (a hyperlink to its thread when a
   link is given), step, department, head, amount, currency, status, levied at, changed
   at, reason, link -- amounts as numbers (``#,##0.00``), moments as real Excel datetimes
   (``yyyy-mm-dd hh:mm``);
2. the totals per department and head (and currency): count, levied, waived, paid,
   outstanding, then a bold total row per currency. The numbers are written as values,
   not formulas: openpyxl does not compute formulas, and a file whose formulas have no
   cached values shows empty cells in some viewers and in anything reading it back.

Every user-visible word comes in :class:`Headings`, rendered by the caller from
``templates/<lang>/reports.txt.j2`` (:func:`render_headings` does it). Nothing here
touches Telegram or the database.

Text cells are always text: a reason typed as ``=HYPERLINK(...)`` or ``@SUM(...)`` stays
the words typed and never becomes a formula; characters XML cannot carry are dropped
and text is cut at Excel's 32,767 characters per cell. The output is deterministic:
the same rows and headings give the same bytes (fixed document dates, fixed ZIP entry
times), so a report can be compared or cached.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from typing import TYPE_CHECKING, Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

# openpyxl is imported where a workbook is made, not with this module: it imports numpy
# when numpy is installed (the charts need it), which a restart should not wait for.
if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.styles import Border, Font, PatternFill
    from openpyxl.worksheet.worksheet import Worksheet

    from bot.texts import Texts

__all__ = [
    "FINE_FIELDS",
    "STATUSES",
    "TOTAL_FIELDS",
    "FineRow",
    "Headings",
    "TotalRow",
    "fines_totals",
    "fines_workbook",
    "render_headings",
    "sum_totals",
    "table_workbook",
]

STATUSES = ("levied", "waived", "paid")
# The columns of each sheet, in order; Headings.fine_columns / totals_columns name them.
FINE_FIELDS = ("id", "number", "step", "department", "head", "amount", "currency", "status",
               "levied_at", "changed_at", "reason", "link")
TOTAL_FIELDS = ("department", "head", "currency", "count", "levied", "waived", "paid",
                "outstanding")

MONEY_FORMAT = "#,##0.00"
MOMENT_FORMAT = "yyyy-mm-dd hh:mm"
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = frozenset("[]:*?/\\")
CELL_TEXT_MAX = 32767
MIN_WIDTH, MAX_WIDTH = 6, 60
# Document properties and ZIP entries carry this moment instead of "now".
FIXED_MOMENT = datetime(2000, 1, 1)
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)

# Characters XML 1.0 cannot carry (openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


@dataclass(frozen=True)
class _Styles:
    bold: Font
    title: Font
    header_fill: PatternFill
    header_border: Border
    total_border: Border


@functools.cache
def _styles() -> _Styles:
    from openpyxl.styles import Border, Font, PatternFill, Side

    thin = Side(style="thin", color="FF808080")
    return _Styles(Font(bold=True), Font(bold=True, size=13),
                   PatternFill("solid", start_color="FFDDEBF7", end_color="FFDDEBF7"),
                   Border(bottom=thin), Border(top=thin))
_ZERO = Decimal(0)


@dataclass(frozen=True)
class FineRow:
    """One fine as the report shows it.

    ``status`` is the words shown (already translated); ``status_code`` is what the
    ledger stores ("levied", "waived" or "paid") and decides the totals. Moments are the
    desk's local time; an aware one is written as its wall time (tzinfo dropped).
    """

    id: int
    number: str  # the complaint's number, P-2026-0001
    step: str  # the step missed, as shown
    department: str
    head: str  # the head charged (rule 一.5); "" when there was none
    amount: Decimal
    currency: str
    status: str
    status_code: str
    levied_at: datetime
    changed_at: datetime | None
    reason: str  # why it was waived, or ""
    link: str | None  # the complaint's thread

    def __post_init__(self) -> None:
        if self.status_code not in STATUSES:
            raise ValueError(f"status_code must be one of {STATUSES}, not {self.status_code!r}")


@dataclass(frozen=True)
class TotalRow:
    """A department head's fines in one currency (or, from :func:`sum_totals`, everyone's:
    department and head "")."""

    department: str
    head: str
    currency: str
    count: int
    levied: Decimal  # every fine, whatever its status
    waived: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.levied - self.waived - self.paid


@dataclass(frozen=True)
class Headings:
    """Every word of the spreadsheet, in the reader's language.

    ``fine_columns`` names :data:`FINE_FIELDS` and ``totals_columns`` :data:`TOTAL_FIELDS`,
    in that order; ``total_label`` heads the total rows. Sheet names must be valid Excel
    sheet names (1-31 characters, none of ``[]:*?/\\``, no leading or trailing ``'``).
    """

    fines_sheet: str
    totals_sheet: str
    fine_columns: list[str]
    totals_columns: list[str]
    title: str
    total_label: str

    def __post_init__(self) -> None:
        for name in (self.fines_sheet, self.totals_sheet):
            _check_sheet_name(name)
        if self.fines_sheet.casefold() == self.totals_sheet.casefold():
            raise ValueError("the two sheets need different names")
        if len(self.fine_columns) != len(FINE_FIELDS):
            raise ValueError(f"fine_columns names {len(self.fine_columns)} columns, "
                             f"not {len(FINE_FIELDS)}: {self.fine_columns}")
        if len(self.totals_columns) != len(TOTAL_FIELDS):
            raise ValueError(f"totals_columns names {len(self.totals_columns)} columns, "
                             f"not {len(TOTAL_FIELDS)}: {self.totals_columns}")


def _check_sheet_name(name: str) -> None:
    if not 1 <= len(name) <= SHEET_NAME_MAX:
        raise ValueError(f"sheet name {name!r}: 1 to {SHEET_NAME_MAX} characters")
    if SHEET_NAME_FORBIDDEN & set(name) or name.startswith("'") or name.endswith("'"):
        raise ValueError(f"sheet name {name!r}: none of []:*?/\\ and no ' at either end")


def render_headings(texts: Texts, lang: str, period_key: str, department: str | None) -> Headings:
    """The headings from ``templates/<lang>/reports.txt.j2`` for ``period_key``
    (:attr:`bot.domain.periods.Period.key`) and the department's name (None: all)."""

    return Headings(
        fines_sheet=texts.plain(lang, "reports.fines_sheet"),
        totals_sheet=texts.plain(lang, "reports.totals_sheet"),
        fine_columns=table_columns(texts, lang, "fine_columns"),
        totals_columns=table_columns(texts, lang, "totals_columns"),
        title=texts.plain(lang, "reports.title", period=period_key, department=department),
        total_label=texts.plain(lang, "reports.total"),
    )


# --- totals --------------------------------------------------------------------------

def fines_totals(rows: Iterable[FineRow]) -> list[TotalRow]:
    """Per (department, head, currency): how many fines, levied (all of them), waived,
    paid; sorted by department, then head, then currency."""
    groups: dict[tuple[str, str, str], list[FineRow]] = {}
    for row in rows:
        groups.setdefault((row.department, row.head, row.currency), []).append(row)
    return [
        TotalRow(department, head, currency, count=len(fines),
                 levied=sum((f.amount for f in fines), _ZERO),
                 waived=sum((f.amount for f in fines if f.status_code == "waived"), _ZERO),
                 paid=sum((f.amount for f in fines if f.status_code == "paid"), _ZERO))
        for (department, head, currency), fines in sorted(groups.items())
    ]


def sum_totals(totals: Iterable[TotalRow]) -> list[TotalRow]:
    """The grand total per currency (department and head ""), sorted by currency."""
    by_currency: dict[str, list[TotalRow]] = {}
    for total in totals:
        by_currency.setdefault(total.currency, []).append(total)
    return [
        TotalRow("", "", currency, count=sum(t.count for t in group),
                 levied=sum((t.levied for t in group), _ZERO),
                 waived=sum((t.waived for t in group), _ZERO),
                 paid=sum((t.paid for t in group), _ZERO))
        for currency, group in sorted(by_currency.items())
    ]


# --- the workbook --------------------------------------------------------------------

def fines_workbook(rows: Sequence[FineRow], headings: Headings) -> bytes:
    """The XLSX file (bytes) of ``rows`` in the order given, with their totals."""
    from openpyxl import Workbook

    book = Workbook()
    fines = book.active
    assert fines is not None
    fines.title = headings.fines_sheet
    _fill_fines(fines, rows, headings)
    totals = book.create_sheet(headings.totals_sheet)
    _fill_totals(totals, fines_totals(rows), headings)
    book.active = 0
    book.properties.creator = "complaint-bot"
    book.properties.created = book.properties.modified = FIXED_MOMENT
    return _save(book)


def _fill_fines(sheet: Worksheet, rows: Sequence[FineRow], headings: Headings) -> None:
    from openpyxl.utils import get_column_letter

    _title_and_header(sheet, headings.title, headings.fine_columns)
    for r, row in enumerate(rows, start=3):
        values: list[Any] = [row.id, row.number, row.step, row.department, row.head, row.amount,
                             row.currency, row.status, _local(row.levied_at), _local(row.changed_at),
                             row.reason, row.link]
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value)
        if row.link:
            number = sheet.cell(r, FINE_FIELDS.index("number") + 1)
            number.hyperlink = row.link
            number.style = "Hyperlink"
    last_row = max(2, len(rows) + 2)
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(FINE_FIELDS))}{last_row}"
    _finish(sheet, len(FINE_FIELDS))


def _fill_totals(sheet: Worksheet, totals: list[TotalRow], headings: Headings) -> None:
    _title_and_header(sheet, headings.title, headings.totals_columns)
    r = 2
    for r, total in enumerate(totals, start=3):
        _put_total(sheet, r, total)
    grand = sum_totals(totals) or [TotalRow("", "", "", 0, _ZERO, _ZERO, _ZERO)]
    for i, total in enumerate(grand, start=r + 1):
        _put_total(sheet, i, total, label=headings.total_label)
        for c in range(1, len(TOTAL_FIELDS) + 1):
            cell = sheet.cell(i, c)
            cell.font = _styles().bold
            cell.border = _styles().total_border
    _finish(sheet, len(TOTAL_FIELDS))


def _put_total(sheet: Worksheet, r: int, total: TotalRow, label: str | None = None) -> None:
    values: list[Any] = [total.department if label is None else label, total.head, total.currency,
                         total.count, total.levied, total.waived, total.paid, total.outstanding]
    for c, value in enumerate(values, start=1):
        _put(sheet, r, c, value)


def _title_and_header(sheet: Worksheet, title: str, columns: list[str]) -> None:
    from openpyxl.styles import Alignment

    _put(sheet, 1, 1, title).font = _styles().title
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    for c, name in enumerate(columns, start=1):
        cell = _put(sheet, 2, c, name)
        cell.font = _styles().bold
        cell.fill = _styles().header_fill
        cell.border = _styles().header_border
        cell.alignment = Alignment(vertical="center")
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _put(sheet: Worksheet, r: int, c: int, value: Any) -> Any:
    """Write ``value`` to a cell: text always as text, numbers and moments formatted."""
    cell = sheet.cell(r, c)
    if value is None or value == "":
        return cell  # left empty: no empty strings in the file
    if isinstance(value, str):
        cell.value = _clean(value)
        cell.data_type = "s"  # never a formula, whatever it starts with
    elif isinstance(value, datetime):
        cell.value = value
        cell.number_format = MOMENT_FORMAT
    elif isinstance(value, Decimal):
        cell.value = value
        cell.number_format = MONEY_FORMAT
    else:
        cell.value = value
    return cell


def _clean(text: str) -> str:
    return _ILLEGAL.sub("", text)[:CELL_TEXT_MAX]


def _local(moment: datetime | None) -> datetime | None:
    """The wall time Excel shows (Excel has no time zones)."""
    return None if moment is None else moment.replace(tzinfo=None, microsecond=0)


# --- widths --------------------------------------------------------------------------

def display_width(text: str) -> int:
    """How many columns ``text`` takes in a fixed-width font: wide (CJK) characters 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len(MOMENT_FORMAT)
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    return max((display_width(line) for line in str(value).split("\n")), default=0)


def _finish(sheet: Worksheet, columns: int) -> None:
    """Column widths that fit the header and the values (not the merged title row)."""
    from openpyxl.utils import get_column_letter

    for c in range(1, columns + 1):
        widest = max((_cell_width(sheet.cell(r, c).value) for r in range(2, sheet.max_row + 1)),
                     default=0)
        width = min(max(widest + 2, MIN_WIDTH), MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(c)].width = width


# --- one-sheet tables: the daily sign-off sheet (rule 一.4), freight slips (rule 三) -----

def table_workbook(sheet_name: str, title: str, columns: Sequence[str],
                   rows: Sequence[Sequence[Any]]) -> bytes:
    """An XLSX of one sheet laid out like a paper form: a title, a bold header with an
    autofilter and frozen panes, then the rows (text wraps; numbers and moments typed)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    _check_sheet_name(sheet_name)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_name
    _title_and_header(sheet, title, list(columns))
    for r, row in enumerate(rows, start=3):
        if len(row) != len(columns):
            raise ValueError(f"row {r - 2} has {len(row)} cells for {len(columns)} columns")
        for c, value in enumerate(row, start=1):
            cell = _put(sheet, r, c, _local(value) if isinstance(value, datetime) else value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{max(2, len(rows) + 2)}"
    _finish(sheet, len(columns))
    book.properties.creator = "complaint-bot"
    book.properties.created = book.properties.modified = FIXED_MOMENT
    return _save(book)


def table_columns(texts: Texts, lang: str, macro: str) -> list[str]:
    """Column names from a `|`-separated macro of templates/<lang>/reports.txt.j2."""
    return [name.strip() for name in texts.plain(lang, f"reports.{macro}").split("|")]


# --- saving --------------------------------------------------------------------------

def _save(book: Workbook) -> bytes:
    """The workbook's bytes, with every ZIP entry dated :data:`FIXED_MOMENT`."""
    from openpyxl.writer.excel import ExcelWriter

    raw = BytesIO()
    with ZipFile(raw, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).write_data()
    fixed = BytesIO()
    with ZipFile(BytesIO(raw.getvalue())) as source, ZipFile(fixed, "w", ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = ZipInfo(entry.filename, date_time=_ZIP_TIME)
            info.compress_type = ZIP_DEFLATED
            info.external_attr = entry.external_attr
            target.writestr(info, source.read(entry.filename))
    return fixed.getvalue()


# --- many sheets, many rows: the monthly analysis report (bot/monthly_report.py) -------

@dataclass(frozen=True)
class SheetData:
    """One sheet of a report workbook: its tab's name, a title row, the header, the rows."""

    name: str
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


def sheets_workbook(sheets: Sequence[SheetData]) -> bytes:
    """An XLSX of several sheets, each a title, a bold header (frozen, filtered) and rows:
    numbers as numbers, moments as Excel datetimes, text always text. Written row by row
    (openpyxl's write-only mode), so a month of 50,000 complaints stays within seconds;
    column widths come from the header and the first rows."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    for data in sheets:
        _check_sheet_name(data.name)
        sheet = book.create_sheet(data.name)
        width = len(data.columns)
        widths = [display_width(str(name)) for name in data.columns]
        for row in data.rows[:WIDTH_SAMPLE]:
            for c, value in enumerate(row):
                widths[c] = max(widths[c], _cell_width(value))
        for c, w in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(c)].width = min(max(w + 2, MIN_WIDTH),
                                                                      MAX_WIDTH)
        sheet.freeze_panes = "A3"
        sheet.auto_filter.ref = f"A2:{get_column_letter(width)}{max(2, len(data.rows) + 2)}"
        title = WriteOnlyCell(sheet, _clean(data.title))
        title.font = _styles().title
        sheet.append([title])
        header = []
        for name in data.columns:
            cell = WriteOnlyCell(sheet, _clean(str(name)))
            cell.font, cell.fill, cell.border = _styles().bold, _styles().header_fill, _styles().header_border
            header.append(cell)
        sheet.append(header)
        for r, row in enumerate(data.rows, start=1):
            if len(row) != width:
                raise ValueError(f"{data.name}: row {r} has {len(row)} cells for {width} columns")
            sheet.append([_write_only_value(sheet, value) for value in row])
    book.properties.creator = "complaint-bot"
    book.properties.created = book.properties.modified = FIXED_MOMENT
    return _save(book)


WIDTH_SAMPLE = 200  # rows looked at for a column's width


def _write_only_value(sheet: Any, value: Any) -> Any:
    """A value for a write-only row: text that looks like a formula stays text; moments
    and money get their formats."""
    from openpyxl.cell.cell import WriteOnlyCell

    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = _clean(value)
        if text[:1] in ("=", "@", "+", "-") and len(text) > 1:
            cell = WriteOnlyCell(sheet, text)
            cell.data_type = "s"
            return cell
        return text
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, _local(value))
        cell.number_format = MOMENT_FORMAT
        return cell
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = MONEY_FORMAT
        return cell
    return value
