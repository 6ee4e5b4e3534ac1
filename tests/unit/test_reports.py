"""The fines spreadsheet: written with openpyxl, read back with openpyxl, cell by cell."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.spreadsheets import (
    FINE_FIELDS,
    MOMENT_FORMAT,
    MONEY_FORMAT,
    TOTAL_FIELDS,
    FineRow,
    Headings,
    TotalRow,
    display_width,
    fines_totals,
    fines_workbook,
    render_headings,
    sum_totals,
)
from bot.texts import Texts

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOSTILE = '<b>x</b> & "q"'
LINK = "https://t.me/c/123456/78?a=1&b=2"
FORMULA = '=HYPERLINK("http://evil.example","click")'

HEADINGS = Headings(
    fines_sheet="罰款明細",
    totals_sheet="部門匯總",
    fine_columns=["罰款編號", "投訴編號", "逾時步驟", "部門", "負責人", "金額", "幣別", "狀態",
                  "記錄時間", "變更時間", "原因", "連結"],
    totals_columns=["部門", "負責人", "幣別", "筆數", "罰款總額", "已豁免", "已繳", "未繳"],
    title="水果基金罰款（規則一.5）· 2026年11月",
    total_label="合計",
)


def fine(**changes: Any) -> FineRow:
    base = FineRow(
        id=1, number="P-2026-0001", step="答覆（生產部）", department="生產部", head="陳大文",
        amount=Decimal("50.00"), currency="CNY", status="已記錄", status_code="levied",
        levied_at=datetime(2026, 11, 20, 11, 5, tzinfo=SHANGHAI), changed_at=None,
        reason="", link=LINK,
    )
    return replace(base, **changes)


ROWS = [
    fine(),
    # the same department, another head (the head changed during the month); waived
    fine(id=2, number="P-2026-0002", head="李小明", status="已豁免", status_code="waived",
         levied_at=datetime(2026, 11, 21, 9, 0), changed_at=datetime(2026, 11, 21, 9, 30),
         reason=HOSTILE + "\n客戶同意延期", link=None),
    # another department, paid; HTML-ish head name
    fine(id=3, number="S-2026-0001", step="提交處理方案（物流部）", department="物流部",
         head="Jane <Doe>", status="已繳", status_code="paid",
         levied_at=datetime(2026, 11, 24, 15, 0, 59, 999999, tzinfo=SHANGHAI),
         changed_at=datetime(2026, 11, 25, 18, 0, tzinfo=SHANGHAI)),
    # a reason that would be a formula, a control character, half a fine
    fine(id=4, number="P-2026-0003", amount=Decimal("25.50"), reason=FORMULA + "\x07",
         levied_at=datetime(2026, 11, 26, 14, 0, tzinfo=SHANGHAI)),
]


def open_book(data: bytes) -> Workbook:
    return load_workbook(BytesIO(data))


@pytest.fixture(scope="module")
def book() -> Workbook:
    return open_book(fines_workbook(ROWS, HEADINGS))


def row_values(sheet: Worksheet, r: int) -> list[Any]:
    return [sheet.cell(r, c).value for c in range(1, sheet.max_column + 1)]


# --- the fines sheet -----------------------------------------------------------------

def test_sheet_names_and_order(book: Workbook) -> None:
    assert book.sheetnames == ["罰款明細", "部門匯總"]
    assert book.active is not None and book.active.title == "罰款明細"


def test_fines_title_row(book: Workbook) -> None:
    sheet = book["罰款明細"]
    assert sheet["A1"].value == HEADINGS.title
    assert sheet["A1"].font.bold
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:L1"]


def test_fines_header_row(book: Workbook) -> None:
    sheet = book["罰款明細"]
    assert row_values(sheet, 2) == HEADINGS.fine_columns
    assert len(FINE_FIELDS) == 12 == sheet.max_column
    assert all(sheet.cell(2, c).font.bold for c in range(1, 13))
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:L6"


def test_fines_one_row_per_fine_in_order(book: Workbook) -> None:
    sheet = book["罰款明細"]
    assert sheet.max_row == 2 + len(ROWS)
    assert [sheet.cell(r, 1).value for r in range(3, 7)] == [1, 2, 3, 4]


def test_every_cell_of_a_levied_fine(book: Workbook) -> None:
    sheet = book["罰款明細"]
    assert row_values(sheet, 3) == [
        1, "P-2026-0001", "答覆（生產部）", "生產部", "陳大文", 50, "CNY", "已記錄",
        datetime(2026, 11, 20, 11, 5),  # local wall time, naive
        None, None, LINK,
    ]
    cells = {name: sheet.cell(3, c) for c, name in enumerate(FINE_FIELDS, start=1)}
    assert cells["amount"].number_format == MONEY_FORMAT == "#,##0.00"
    assert cells["amount"].data_type == "n"
    assert cells["levied_at"].number_format == MOMENT_FORMAT == "yyyy-mm-dd hh:mm"
    assert cells["levied_at"].is_date
    assert cells["number"].hyperlink is not None
    assert cells["number"].hyperlink.target == LINK
    assert cells["number"].style == "Hyperlink"
    for name in ("number", "step", "department", "head", "currency", "status", "link"):
        assert cells[name].data_type == "s", name


def test_every_cell_of_a_waived_fine(book: Workbook) -> None:
    sheet = book["罰款明細"]
    assert row_values(sheet, 4) == [
        2, "P-2026-0002", "答覆（生產部）", "生產部", "李小明", 50, "CNY", "已豁免",
        datetime(2026, 11, 21, 9, 0), datetime(2026, 11, 21, 9, 30),
        HOSTILE + "\n客戶同意延期", None,
    ]
    assert sheet["B4"].hyperlink is None  # no link, no hyperlink
    assert sheet["J4"].number_format == MOMENT_FORMAT and sheet["J4"].is_date


def test_every_cell_of_a_paid_fine(book: Workbook) -> None:
    sheet = book["罰款明細"]
    assert row_values(sheet, 5) == [
        3, "S-2026-0001", "提交處理方案（物流部）", "物流部", "Jane <Doe>", 50, "CNY", "已繳",
        datetime(2026, 11, 24, 15, 0, 59),  # microseconds dropped
        datetime(2026, 11, 25, 18, 0), None, LINK,
    ]


def test_text_never_becomes_a_formula_and_control_characters_go(book: Workbook) -> None:
    sheet = book["罰款明細"]
    reason = sheet.cell(6, FINE_FIELDS.index("reason") + 1)
    assert reason.value == FORMULA
    assert reason.data_type == "s"
    assert sheet.cell(6, FINE_FIELDS.index("amount") + 1).value == Decimal("25.5")


def test_text_is_kept_exactly_in_the_xml() -> None:
    """HTML-ish text is text: escaped by the XML writer, not by us, so it reads back intact."""
    data = fines_workbook(ROWS, HEADINGS)
    with zipfile.ZipFile(BytesIO(data)) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/"))
    assert b"&lt;b&gt;x&lt;/b&gt; &amp;" in xml
    assert b"<f>" not in xml  # no formula anywhere


def test_column_widths_count_cjk_twice(book: Workbook) -> None:
    sheet = book["罰款明細"]
    width = {name: sheet.column_dimensions[chr(ord("A") + i)].width for i, name in enumerate(FINE_FIELDS)}
    assert width["step"] >= display_width("提交處理方案（物流部）") == 22
    assert width["levied_at"] >= len("2026-11-20 11:05")
    assert width["link"] >= len(LINK)
    assert width["reason"] <= 60
    assert width["id"] < width["step"]


def test_display_width() -> None:
    assert display_width("abc") == 3
    assert display_width("生產部") == 6
    assert display_width("ＡＢ") == 4  # full-width
    assert display_width("A生") == 3
    assert display_width("") == 0


# --- the totals sheet ----------------------------------------------------------------

def test_totals_sheet(book: Workbook) -> None:
    sheet = book["部門匯總"]
    assert sheet["A1"].value == HEADINGS.title and sheet["A1"].font.bold
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:H1"]
    assert row_values(sheet, 2) == HEADINGS.totals_columns
    assert len(TOTAL_FIELDS) == 8
    assert sheet.freeze_panes == "A3"
    assert [row_values(sheet, r) for r in range(3, sheet.max_row + 1)] == [
        # department, head, currency, count, levied, waived, paid, outstanding
        # sorted by department, then head (code point order: 物 U+7269 before 生 U+751F)
        ["物流部", "Jane <Doe>", "CNY", 1, 50, 0, 50, 0],
        ["生產部", "李小明", "CNY", 1, 50, 50, 0, 0],
        ["生產部", "陳大文", "CNY", 2, 75.5, 0, 0, 75.5],
        ["合計", None, "CNY", 4, 175.5, 50, 50, 75.5],
    ]
    for r in range(3, 7):
        for c in range(5, 9):
            assert sheet.cell(r, c).number_format == MONEY_FORMAT
    assert all(sheet.cell(6, c).font.bold for c in range(1, 9))
    assert not sheet.cell(5, 1).font.bold
    assert sheet.cell(4, 4).value == 1 and sheet.cell(4, 4).number_format == "General"  # a count


def test_fines_totals() -> None:
    assert fines_totals(ROWS) == [
        TotalRow("物流部", "Jane <Doe>", "CNY", 1, Decimal(50), Decimal(0), Decimal(50)),
        TotalRow("生產部", "李小明", "CNY", 1, Decimal(50), Decimal(50), Decimal(0)),
        TotalRow("生產部", "陳大文", "CNY", 2, Decimal("75.50"), Decimal(0), Decimal(0)),
    ]
    assert [t.outstanding for t in fines_totals(ROWS)] == [0, 0, Decimal("75.50")]


def test_sum_totals() -> None:
    (total,) = sum_totals(fines_totals(ROWS))
    assert total == TotalRow("", "", "CNY", 4, Decimal("175.50"), Decimal(50), Decimal(50))
    assert total.outstanding == Decimal("75.50")


def test_each_currency_has_its_own_totals() -> None:
    rows = [*ROWS, fine(id=5, currency="HKD", amount=Decimal(60))]
    totals = fines_totals(rows)
    assert [(t.head, t.currency, t.count) for t in totals if t.department == "生產部"] == [
        ("李小明", "CNY", 1), ("陳大文", "CNY", 2), ("陳大文", "HKD", 1)]
    assert [(t.currency, t.levied) for t in sum_totals(totals)] == [
        ("CNY", Decimal("175.50")), ("HKD", Decimal(60))]
    sheet = open_book(fines_workbook(rows, HEADINGS))["部門匯總"]
    assert [row_values(sheet, r)[:5] for r in (7, 8)] == [["合計", None, "CNY", 4, 175.5],
                                                          ["合計", None, "HKD", 1, 60]]


def test_no_fines_gives_headers_and_a_zero_total() -> None:
    book = open_book(fines_workbook([], HEADINGS))
    fines, totals = book["罰款明細"], book["部門匯總"]
    assert fines.max_row == 2 and fines.auto_filter.ref == "A2:L2"
    assert row_values(totals, 3) == ["合計", None, None, 0, 0, 0, 0, 0]
    assert totals.max_row == 3


# --- output --------------------------------------------------------------------------

def test_output_is_deterministic() -> None:
    assert fines_workbook(ROWS, HEADINGS) == fines_workbook(list(ROWS), HEADINGS)


def test_output_is_a_zip_with_fixed_dates() -> None:
    with zipfile.ZipFile(BytesIO(fines_workbook(ROWS, HEADINGS))) as archive:
        assert archive.testzip() is None
        assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}


# --- refusals ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["", "x" * 32, "a/b", "a[1]", "a:b", "a*", "a?", "a\\b", "'a"])
def test_bad_sheet_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="sheet name"):
        replace(HEADINGS, fines_sheet=name)


def test_sheet_names_must_differ() -> None:
    with pytest.raises(ValueError, match="different"):
        replace(HEADINGS, totals_sheet="罰款明細")


def test_column_counts_must_match() -> None:
    with pytest.raises(ValueError, match="fine_columns"):
        replace(HEADINGS, fine_columns=HEADINGS.fine_columns[:-1])
    with pytest.raises(ValueError, match="totals_columns"):
        replace(HEADINGS, totals_columns=[*HEADINGS.totals_columns, "extra"])


def test_unknown_status_code_is_refused() -> None:
    with pytest.raises(ValueError, match="status_code"):
        fine(status_code="已記錄")


# --- the templates -------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh-Hant", "en"])
@pytest.mark.parametrize("department", ["生產部", None, HOSTILE])
def test_headings_from_the_templates_make_a_workbook(lang: str, department: str | None) -> None:
    headings = render_headings(Texts(lang), lang, "2026-11-01..2026-11-15", department)
    assert len(headings.fine_columns) == len(FINE_FIELDS)
    assert len(headings.totals_columns) == len(TOTAL_FIELDS)
    assert all(name and name == name.strip() for name in headings.fine_columns + headings.totals_columns)
    assert "2026-11-01" in headings.title and "2026-11-15" in headings.title
    assert (department or "") in headings.title
    assert "\n" not in headings.title
    book = open_book(fines_workbook(ROWS, headings))
    assert book.sheetnames == [headings.fines_sheet, headings.totals_sheet]
    assert row_values(book[headings.fines_sheet], 2) == headings.fine_columns
    assert book[headings.totals_sheet].cell(book[headings.totals_sheet].max_row, 1).value == \
        headings.total_label


@pytest.mark.parametrize(
    ("lang", "key", "expected"),
    [
        ("zh-Hant", "today", "今天"),
        ("zh-Hant", "week", "本週"),
        ("zh-Hant", "month", "本月"),
        ("zh-Hant", "2026-11", "2026年11月"),
        ("zh-Hant", "2026-03", "2026年3月"),
        ("zh-Hant", "2026-11-01..2026-11-15", "2026-11-01 至 2026-11-15"),
        ("zh-Hant", "2026-11-26..2026-11-26", "2026-11-26"),
        ("en", "today", "today"),
        ("en", "week", "this week"),
        ("en", "month", "this month"),
        ("en", "2026-11", "November 2026"),
        ("en", "2026-01", "January 2026"),
        ("en", "2026-11-01..2026-11-15", "2026-11-01 to 2026-11-15"),
        ("en", "2026-11-26..2026-11-26", "2026-11-26"),
    ],
)
def test_period_described(lang: str, key: str, expected: str) -> None:
    texts = Texts(lang)
    assert texts.plain(lang, "reports.period", key=key) == expected
    assert expected in texts.plain(lang, "reports.title", period=key, department=None)


@pytest.mark.parametrize(
    ("lang", "status", "expected"),
    [("zh-Hant", "levied", "已記錄"), ("zh-Hant", "waived", "已豁免"), ("zh-Hant", "paid", "已繳"),
     ("en", "levied", "levied"), ("en", "waived", "waived"), ("en", "paid", "paid")],
)
def test_status_words(lang: str, status: str, expected: str) -> None:
    assert Texts(lang).plain(lang, "reports.status", status=status) == expected


@pytest.mark.parametrize("lang", ["zh-Hant", "en"])
def test_title_names_the_department_when_given(lang: str) -> None:
    texts = Texts(lang)
    with_department = texts.plain(lang, "reports.title", period="month", department="生產部")
    without = texts.plain(lang, "reports.title", period="month", department=None)
    assert with_department.startswith(without) and with_department.endswith("生產部")
