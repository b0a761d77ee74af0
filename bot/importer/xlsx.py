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

# An .xlsx is a zip that openpyxl inflates as it reads (and wholly, for shared strings), so
# a few hundred KB can unpack to gigabytes. A community ledger unpacks to a few MB at most
# and spreadsheet XML compresses about 10:1; these are checked before openpyxl opens it.
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_MEMBERS = 500
MAX_RATIO = 200
# Small members (styles, an empty sheet) may compress far better than that, harmlessly.
_RATIO_FROM_BYTES = 1024 * 1024
# Rows streamed per sheet, blank rows included (openpyxl yields one for every skipped row
# number): far above MAX_ROWS_PER_TABLE, so a real table is never cut short.
MAX_SHEET_ROWS = 20_000
# openpyxl pads each row out to its last cell; no ledger has more columns than this, and
# cells past it (column CV) are not read.
MAX_COLUMNS = 100


def _sheet_rows(sheet: ReadOnlyWorksheet) -> Iterator[tuple[int, Sequence[object]]]:
    # Some producers write a wrong <dimension>; resetting makes openpyxl read every row.
    sheet.reset_dimensions()
    rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    for number, cells in enumerate(rows, start=1):
        if number > MAX_SHEET_ROWS:
            raise fail(
                str(sheet.title),
                f"工作表超过 {MAX_SHEET_ROWS} 行（含空行），这是不是别的文件？"
                "请删掉多余的行后再发送",
                f"the sheet goes past row {MAX_SHEET_ROWS} (blank rows included); is this "
                "the right file? Delete the extra rows and send it again",
            )
        yield number, tuple(cells)


def _check_archive(path: Path) -> None:
    """Refuse a zip that would unpack to far more than any ledger, before inflating it."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise fail(path.name, _NOT_XLSX_ZH, _NOT_XLSX_EN) from None
    unpacked = sum(member.file_size for member in members)
    swollen = [
        member
        for member in members
        if member.file_size > _RATIO_FROM_BYTES
        and member.file_size > MAX_RATIO * max(member.compress_size, 1)
    ]
    if len(members) > MAX_MEMBERS or unpacked > MAX_UNPACKED_BYTES or swollen:
        # zipfile stops inflating a member at its listed size, so these sums are a bound.
        raise fail(
            path.name,
            f"这个 xlsx 解压后异常大（{unpacked // 1024 // 1024} MB，{len(members)} 个部件；"
            f"台账最多 {MAX_UNPACKED_BYTES // 1024 // 1024} MB），不像是台账文件。"
            "请在 Excel/WPS 中打开后“另存为 .xlsx”再发送",
            f"this .xlsx unpacks to an abnormal size ({unpacked // 1024 // 1024} MB in "
            f"{len(members)} parts; a ledger is at most {MAX_UNPACKED_BYTES // 1024 // 1024} "
            "MB), so it is not read. Open it in Excel or WPS, save it as .xlsx and send it "
            "again",
        )


def read_xlsx(path: Path, problems: Problems) -> Source:
    """Locate every value in the workbook; problems with sheets and headers go to `problems`."""
    if not zipfile.is_zipfile(path):
        raise fail(path.name, _NOT_XLSX_ZH, _NOT_XLSX_EN)
    _check_archive(path)
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
