"""Read one table (zones, buildings or sites) from a CSV file in UTF-8 or GBK/GB18030.

A CSV file holds a single table, recognised from its header, and *adds to* an existing
community named by the caller (`--community CODE`); storage merges it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from bot.importer.build import Table
from bot.importer.errors import Problems, fail
from bot.importer.schema import TableKind
from bot.importer.tabular import content_rows, read_table, score_header

# Rows read per file, blank rows included: far above MAX_ROWS_PER_TABLE, so a real table
# is never cut short, yet a flood of rows is refused without holding it all.
MAX_CSV_ROWS = 20_000


def _decode(path: Path) -> str:
    data = path.read_bytes()
    # A workbook or picture renamed .csv; UTF-16 ("Unicode text") also has NULs, but says
    # so in its BOM and gets the message about encodings below.
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fail(
            path.name,
            "这不是文本格式的 CSV 文件（可能是改了扩展名的表格或图片）",
            "this is not a text CSV file (a renamed workbook or picture?)",
        )
    try:
        # utf-8-sig drops the BOM Excel writes for "CSV UTF-8".
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel's plain "CSV (comma delimited)" on a Chinese Windows writes GBK, which
        # GB18030 contains; UTF-8 goes first as GBK text is almost never valid UTF-8.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise fail(
            path.name,
            "CSV 文件的编码无法识别（应为 UTF-8 或 GBK）；在 Excel 中请“另存为 CSV UTF-8"
            "(逗号分隔)”",
            "the CSV file's encoding is not UTF-8 or GBK; in Excel use "
            '"Save as: CSV UTF-8 (comma delimited)"',
        ) from None


def _rows(path: Path) -> list[tuple[int, Sequence[object]]]:
    # Excel shows each CSV record as one row, even one with a quoted line break.
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    rows: list[tuple[int, Sequence[object]]] = []
    try:
        for number, cells in enumerate(reader, start=1):
            if number > MAX_CSV_ROWS:
                raise fail(
                    path.name,
                    f"文件超过 {MAX_CSV_ROWS} 行（含空行），这是不是别的文件？",
                    f"the file goes past row {MAX_CSV_ROWS} (blank rows included); "
                    "is this the right file?",
                )
            rows.append((number, cells))
    except csv.Error as exc:
        raise fail(path.name, f"CSV 格式错误：{exc}", f"malformed CSV: {exc}") from None
    return rows


def _detect(path: Path, rows: list[tuple[int, Sequence[object]]]) -> TableKind:
    header = next(content_rows(rows), None)
    if header is None:
        raise fail(path.name, "文件里没有任何内容", "the file has no rows")
    scores = {kind: score_header(kind, header[1]) for kind in TableKind}
    # Prefer the table that explains the most headers, then the one missing fewest columns.
    best = max(TableKind, key=lambda kind: scores[kind])
    if scores[best][0] < 2:
        raise fail(
            path.name,
            "看不出是哪张表：片区表要有“编码、名称”，楼栋表要有“名称、片区编码”，"
            "点位表要有“名称、类别、片区编码”",
            "cannot tell which table this is: zones need 编码/code and 名称/name, buildings "
            "名称/name and 片区编码/zone_code, sites also 类别/category",
        )
    return best


def load_table_kind(path: Path) -> TableKind:
    """Return which table a CSV file holds, judged from its header row."""
    return _detect(path, _rows(path))


def read_csv(path: Path, problems: Problems) -> Table:
    """Return the one table in a CSV file; row problems go to `problems`."""
    rows = _rows(path)
    kind = _detect(path, rows)
    return read_table(kind, path.name, rows, problems, column_name=_column_name)


def _column_name(index: int) -> str:
    return f"第{index + 1}列"
