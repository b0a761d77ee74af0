"""Read one table (zones, buildings or sites) from a UTF-8 CSV file.

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


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        # utf-8-sig drops the BOM Excel writes for "CSV UTF-8".
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise fail(
            path.name,
            "CSV 文件不是 UTF-8 编码；在 Excel 中请“另存为 CSV UTF-8(逗号分隔)”",
            'the CSV file is not UTF-8; in Excel use "Save as: CSV UTF-8 (comma delimited)"',
        ) from None


def _rows(path: Path) -> list[tuple[int, Sequence[object]]]:
    # Excel shows each CSV record as one row, even one with a quoted line break.
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    try:
        return [(number, cells) for number, cells in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise fail(path.name, f"CSV 格式错误：{exc}", f"malformed CSV: {exc}") from None


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
