"""Read a community workbook (.xlsx): sheets 社区, 片区, 楼栋, 点位 (or their English names).

Sheets whose name starts with 说明 / README are instructions and are skipped.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from bot.importer.build import CommunityValue, Source, Table
from bot.importer.errors import Problems, fail
from bot.importer.schema import COMMUNITY_SHEET_NAMES, TABLE_SHEET_NAMES, TableKind, match_sheet
from bot.importer.tabular import content_rows, read_community, read_table

_NOT_XLSX_ZH = (
    "不是有效的 xlsx 文件（可能是旧版 .xls 或改了扩展名），请用 Excel/WPS “另存为 .xlsx”"
)
_NOT_XLSX_EN = "not a valid .xlsx file (an old .xls or a renamed file?); save it as .xlsx"


def _sheet_rows(sheet: ReadOnlyWorksheet) -> Iterator[tuple[int, Sequence[object]]]:
    # Some producers write a wrong <dimension>; resetting makes openpyxl read every row.
    sheet.reset_dimensions()
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, tuple(cells)


def read_xlsx(path: Path, problems: Problems) -> Source:
    """Locate every value in the workbook; problems with sheets and headers go to `problems`."""
    if not zipfile.is_zipfile(path):
        raise fail(path.name, _NOT_XLSX_ZH, _NOT_XLSX_EN)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise fail(path.name, _NOT_XLSX_ZH, _NOT_XLSX_EN) from None
    try:
        return _read_workbook(path.name, workbook, problems)
    finally:
        workbook.close()


def _read_workbook(file_name: str, workbook: Workbook, problems: Problems) -> Source:
    community: dict[str, CommunityValue] | None = None
    community_sheet = COMMUNITY_SHEET_NAMES[0]
    tables: dict[TableKind, Table] = {}
    seen: dict[str, str] = {}
    for sheet in workbook.worksheets:
        title = str(sheet.title)
        kind = match_sheet(title)
        if kind == "ignore":
            continue
        if kind is None:
            if next(content_rows(_sheet_rows(sheet)), None) is not None:
                problems.add(
                    title,
                    0,
                    None,
                    "不认识的工作表，应为：社区、片区、楼栋、点位（说明页请以“说明”开头命名）",
                    "unknown sheet; expected 社区/community, 片区/zones, 楼栋/buildings, "
                    '点位/sites (name instruction sheets "说明…" or "README…")',
                )
            continue
        key = str(kind)
        if key in seen:
            problems.add(
                title,
                0,
                None,
                f"与工作表“{seen[key]}”重复",
                f'this sheet repeats sheet "{seen[key]}"',
            )
            continue
        seen[key] = title
        if kind == "community":
            community_sheet = title
            community = read_community(title, _sheet_rows(sheet), problems)
        elif isinstance(kind, TableKind):
            tables[kind] = read_table(
                kind, title, _sheet_rows(sheet), problems, column_name=_column_letter
            )
    if community is None:
        problems.add(
            file_name,
            0,
            None,
            "缺少“社区”工作表（编码、名称、时区）",
            'the "社区" (community) sheet is missing: code, name, timezone',
        )
    if TableKind.ZONES not in tables:
        zh, en = TABLE_SHEET_NAMES[TableKind.ZONES][:2]
        problems.add(
            file_name, 0, None, f"缺少“{zh}”工作表", f'the "{zh}" ({en}) sheet is missing'
        )
    return Source(
        file_name, community_sheet, community or {}, tables, has_community=community is not None
    )


def _column_letter(index: int) -> str:
    return f"{get_column_letter(index + 1)}列"
