"""Ledgers exported as .xlsx workbooks and as CSV files that Excel opens right."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.exporting import Ledger, Percent, write_csv, write_xlsx
from bot.exporting.ledger import MAX_WIDTH, sheet_names

BOM = b"\xef\xbb\xbf"


class Status(StrEnum):
    CLOSED = "closed"


HEADERS = ("编号", "问题描述", "下发日期", "下发时间", "得分", "状态", "备注")
ROWS: list[list[object]] = [
    [
        "2026-0042",
        "绿化带内堆放废旧家具",
        date(2026, 11, 18),
        datetime(2026, 11, 4, 9, 5),
        92.5,
        Status.CLOSED,
        None,
    ],
    [
        "2026-0043",
        '=HYPERLINK("http://evil","点我")',
        date(2026, 11, 19),
        datetime(2026, 11, 4, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
        7,
        "-1+2",
        "@SUM(A1)",
    ],
    ["2026-0044", '楼道堆物,\n"纸箱"', None, None, Decimal("84.5"), "+86 138", "\tx"],
]


def ledger(**changes: object) -> Ledger:
    fields: dict[str, object] = {
        "title": "2026年11月 整改台账",
        "sheet": "整改台账",
        "headers": HEADERS,
        "rows": ROWS,
    }
    fields.update(changes)
    return Ledger(**fields)  # type: ignore[arg-type]


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data[len(BOM) :].decode("utf-8"), newline="")))


class TestWriteXlsx:
    def test_writes_one_sheet_per_ledger_with_headers_and_rows(self) -> None:
        scores = ledger(sheet="月度得分", headers=("片区", "得分"), rows=[["第一网格", 90.0]])
        wb = load(write_xlsx([ledger(), scores]))
        assert wb.sheetnames == ["整改台账", "月度得分"]
        ws = wb["整改台账"]
        assert [c.value for c in ws[1]] == list(HEADERS)
        assert ws.max_row == len(ROWS) + 1
        assert ws.max_column == len(HEADERS)
        assert wb["月度得分"].max_row == 2

    def test_freezes_bolds_and_filters_the_header_row(self) -> None:
        ws = load(write_xlsx([ledger()])).active
        assert ws.freeze_panes == "A2"
        assert all(cell.font.bold for cell in ws[1])
        assert ws.auto_filter.ref == "A1:G4"
        assert ws.print_title_rows == "$1:$1"

    def test_writes_dates_and_times_as_real_excel_dates(self) -> None:
        ws = load(write_xlsx([ledger()])).active
        day, moment = ws["C2"], ws["D2"]
        assert day.is_date and moment.is_date
        assert day.value == datetime(2026, 11, 18)
        assert day.number_format == "yyyy-mm-dd"
        assert moment.value == datetime(2026, 11, 4, 9, 5)
        assert moment.number_format == "yyyy-mm-dd hh:mm"

    def test_keeps_the_wall_clock_time_of_an_aware_datetime(self) -> None:
        ws = load(write_xlsx([ledger()])).active
        assert ws["D3"].value == datetime(2026, 11, 4, 9, 5)

    def test_writes_a_time_of_day_with_a_time_format(self) -> None:
        ws = load(write_xlsx([ledger(headers=("时间",), rows=[[time(9, 5)]])])).active
        assert ws["A2"].is_date
        assert ws["A2"].number_format == "hh:mm"

    def test_writes_numbers_as_numbers_and_none_as_an_empty_cell(self) -> None:
        ws = load(write_xlsx([ledger()])).active
        assert ws["E2"].value == 92.5
        assert ws["E3"].value == 7
        assert ws["E4"].value == 84.5
        assert ws["E2"].data_type == "n"
        assert ws["G2"].value is None
        assert ws["F2"].value == "closed"  # an enum is written as its value

    def test_writes_rates_as_numbers_excel_can_sum_shown_as_percentages(self) -> None:
        rates = [[Percent(0.8125)], [Percent(0.0)], [Percent(1.0)], [Percent(float("nan"))]]
        ws = load(write_xlsx([ledger(headers=("按时办结率",), rows=rates)])).active
        assert [ws[f"A{r}"].value for r in range(2, 6)] == [0.8125, 0, 1, None]
        assert all(ws[f"A{r}"].data_type == "n" for r in range(2, 5))
        assert {ws[f"A{r}"].number_format for r in range(2, 5)} == {"0.0%"}

    @pytest.mark.parametrize(
        ("fraction", "shown"),
        [(0.8125, "81.3%"), (0.0, "0.0%"), (1.0, "100.0%"), (0.00049, "0.0%"), (0.0005, "0.1%")],
    )
    def test_a_rate_reads_as_a_percentage_with_one_decimal_in_csv(
        self, fraction: float, shown: str
    ) -> None:
        [_, row] = read_csv(write_csv(ledger(headers=("率",), rows=[[Percent(fraction)]])))
        assert row == [shown]

    def test_writes_nan_as_an_empty_cell(self) -> None:
        ws = load(write_xlsx([ledger(headers=("x",), rows=[[float("nan")]])])).active
        assert ws["A2"].value is None

    def test_writes_formula_like_text_as_a_quoted_string(self) -> None:
        data = write_xlsx([ledger()])
        ws = load(data).active
        for ref, text in (
            ("B3", '=HYPERLINK("http://evil","点我")'),
            ("F3", "-1+2"),
            ("G3", "@SUM(A1)"),
            ("F4", "+86 138"),
            ("G4", "\tx"),
        ):
            assert ws[ref].value == text
            assert ws[ref].data_type == "s"
            assert ws[ref].quotePrefix
        assert not ws["B2"].quotePrefix
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet  # no formula anywhere

    def test_drops_characters_an_xlsx_file_cannot_hold(self) -> None:
        ws = load(write_xlsx([ledger(headers=("x",), rows=[["a\x00b\x1fc"]])])).active
        assert ws["A2"].value == "abc"

    def test_uses_the_given_column_widths(self) -> None:
        ws = load(write_xlsx([ledger(headers=("a", "b"), rows=[], widths=(12, 40))])).active
        assert ws.column_dimensions["A"].width == 12
        assert ws.column_dimensions["B"].width == 40

    def test_computes_widths_counting_chinese_characters_double(self) -> None:
        rows = [["abcdefghij", "一二三四五六七八九十", "x" * 500, date(2026, 1, 1)]]
        ws = load(write_xlsx([ledger(headers=("a", "b", "c", "d"), rows=rows)])).active
        latin, chinese = ws.column_dimensions["A"].width, ws.column_dimensions["B"].width
        assert chinese - latin == 10
        assert ws.column_dimensions["C"].width == MAX_WIDTH
        assert ws.column_dimensions["D"].width >= 10

    def test_writes_an_empty_ledger_as_just_its_header(self) -> None:
        ws = load(write_xlsx([ledger(rows=[])])).active
        assert ws.max_row == 1
        assert ws.auto_filter.ref == "A1:G1"

    def test_makes_sheet_names_valid_and_unique(self) -> None:
        ledgers = [ledger(sheet="2026/11 台账"), ledger(sheet="2026/11 台账"), ledger(sheet="")]
        assert load(write_xlsx(ledgers)).sheetnames == [
            "2026_11 台账",
            "2026_11 台账 (2)",
            "Sheet_",
        ]

    def test_refuses_an_empty_workbook(self) -> None:
        with pytest.raises(ValueError):
            write_xlsx([])


class TestSheetNames:
    @pytest.mark.parametrize(
        ("wanted", "expected"),
        [
            (["整改台账"], ["整改台账"]),
            (["a[b]:c*d?e/f\\g"], ["a_b__c_d_e_f_g"]),
            (["x" * 40], ["x" * 31]),
            (["Scores", "scores", "SCORES"], ["Scores", "scores (2)", "SCORES (3)"]),
            (["x" * 40, "x" * 35], ["x" * 31, "x" * 27 + " (2)"]),
            (["'quoted'"], ["quoted"]),
            (["History"], ["History_"]),
            ([""], ["Sheet_"]),
        ],
    )
    def test_fixes_what_excel_would_refuse(self, wanted: list[str], expected: list[str]) -> None:
        assert sheet_names(wanted) == expected

    @given(st.lists(st.text(max_size=40), max_size=8))
    def test_are_always_short_and_unique(self, wanted: list[str]) -> None:
        names = sheet_names(wanted)
        assert len(names) == len(wanted)
        assert all(1 <= len(n) <= 31 for n in names)
        assert len({n.lower() for n in names}) == len(names)


class TestLedger:
    @pytest.mark.parametrize(
        "changes",
        [
            {"headers": ()},
            {"widths": (10, 20)},
            {"rows": [["only one value"]]},
        ],
    )
    def test_refuses_a_table_whose_shape_does_not_match(self, changes: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            ledger(**changes)


class TestWriteCsv:
    def test_starts_with_the_bom_so_excel_reads_utf8(self) -> None:
        assert write_csv(ledger()).startswith(BOM)

    def test_ends_lines_with_crlf(self) -> None:
        data = write_csv(ledger(headers=("a", "b"), rows=[["1", "2"], ["3", "4"]]))
        assert data == BOM + b"a,b\r\n1,2\r\n3,4\r\n"

    def test_round_trips_through_the_csv_module(self) -> None:
        rows = read_csv(write_csv(ledger()))
        assert rows[0] == list(HEADERS)
        assert rows[1] == [
            "2026-0042",
            "绿化带内堆放废旧家具",
            "2026-11-18",
            "2026-11-04 09:05",
            "92.5",
            "closed",
            "",
        ]
        assert rows[3][1] == '楼道堆物,\n"纸箱"'  # quotes, commas and line breaks survive
        assert rows[3][2:5] == ["", "", "84.5"]
        assert len(rows) == len(ROWS) + 1

    def test_neutralises_cells_that_would_run_as_formulas(self) -> None:
        rows = read_csv(write_csv(ledger()))
        assert rows[2][1] == '\'=HYPERLINK("http://evil","点我")'
        assert rows[2][5] == "'-1+2"
        assert rows[2][6] == "'@SUM(A1)"
        assert rows[3][5] == "'+86 138"
        assert rows[3][6] == "'\tx"
        assert rows[2][4] == "7"  # numbers are numbers, never prefixed

    def test_neutralises_formula_like_headers_too(self) -> None:
        assert read_csv(write_csv(ledger(headers=("=cmd",), rows=[])))[0] == ["'=cmd"]

    @given(st.lists(st.lists(st.text(max_size=30), min_size=2, max_size=2), max_size=5))
    def test_round_trips_any_text_with_only_risky_cells_prefixed(
        self, rows: list[list[str]]
    ) -> None:
        back = read_csv(write_csv(ledger(headers=("a", "b"), rows=rows)))
        assert back[1:] == [[neutralised(text) for text in row] for row in rows]

    def test_checks_for_a_formula_after_dropping_nul_characters(self) -> None:
        assert read_csv(write_csv(ledger(headers=("a",), rows=[["\0=1+2"]])))[1] == ["'=1+2"]


def neutralised(text: str) -> str:
    text = text.replace("\0", "")
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text
