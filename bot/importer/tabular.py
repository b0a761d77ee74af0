"""Reading header-and-rows tables, shared by the xlsx and CSV readers.

Rows arrive as (row number, cells). Blank rows and rows whose first filled cell starts with
"#" are skipped; the first remaining row is the header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from bot.importer.build import (
    MAX_ROWS_PER_TABLE,
    CommunityValue,
    Record,
    Table,
)
from bot.importer.errors import Problems
from bot.importer.schema import (
    COMMUNITY_HEADER_KEYS,
    COMMUNITY_KEYS,
    TABLE_COLUMNS,
    TableKind,
    column_list,
    match_column,
    normalize_label,
)

Rows = Iterable[tuple[int, Sequence[object]]]


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _is_comment(cells: Sequence[object]) -> bool:
    first = next((cell for cell in cells if not _is_blank(cell)), None)
    return isinstance(first, str) and first.strip().startswith("#")


def content_rows(rows: Rows) -> Iterator[tuple[int, Sequence[object]]]:
    """Yield the rows that are neither blank nor comments."""
    for number, cells in rows:
        if all(_is_blank(cell) for cell in cells) or _is_comment(cells):
            continue
        yield number, cells


def header_text(cell: object) -> str:
    """Return a header cell as text ("" when blank)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def score_header(kind: TableKind, cells: Sequence[object]) -> tuple[int, int]:
    """Return how well a header row fits a table: (known headers, -missing required ones)."""
    columns = TABLE_COLUMNS[kind]
    found = {
        column.field
        for cell in cells
        if (column := match_column(header_text(cell), columns)) is not None
    }
    missing = sum(1 for column in columns if column.required and column.field not in found)
    return len(found), -missing


def read_table(
    kind: TableKind,
    sheet: str,
    rows: Rows,
    problems: Problems,
    *,
    column_name: Callable[[int], str],
) -> Table:
    """Return the records of one table; header problems are reported and its rows skipped.

    `column_name(index)` names a column by position for cells that have no header.
    """
    table = Table(kind, sheet, {})
    content = content_rows(rows)
    header = next(content, None)
    if header is None:
        return table
    header_row, header_cells = header
    fields = _read_header(table, header_row, header_cells, problems)
    if fields is None:
        table.complete = False
        return table
    for number, cells in content:
        if len(table.records) >= MAX_ROWS_PER_TABLE:
            problems.add(
                sheet,
                number,
                None,
                f"行数太多（最多{MAX_ROWS_PER_TABLE}行），这是不是别的文件？",
                f"too many rows (at most {MAX_ROWS_PER_TABLE}); is this the right file?",
            )
            break
        values: dict[str, object] = {}
        for index, cell in enumerate(cells):
            if _is_blank(cell):
                continue
            field_name = fields[index] if index < len(fields) else None
            if field_name is not None:
                values[field_name] = cell
            else:
                problems.add(
                    sheet,
                    number,
                    column_name(index),
                    "这一列没有表头，请补上表头或删掉内容",
                    "this column has no header; add one or clear the cell",
                )
        table.records.append(Record(number, values))
    return table


def _read_header(
    table: Table, row: int, cells: Sequence[object], problems: Problems
) -> list[str | None] | None:
    """Map each header cell to a field; report unknown, repeated and missing columns."""
    columns = TABLE_COLUMNS[table.kind]
    fields: list[str | None] = []
    ok = True
    for cell in cells:
        text = header_text(cell)
        column = match_column(text, columns) if text else None
        if text and column is None:
            ok = False
            problems.add(
                table.sheet,
                row,
                text,
                f"不认识的列“{text}”，可用的列：{column_list(table.kind)}",
                f'unknown column "{text}"; expected: {column_list(table.kind)}',
            )
        elif column is not None and column.field in table.labels:
            ok = False
            problems.add(
                table.sheet,
                row,
                text,
                f"列重复（与“{table.labels[column.field]}”相同）",
                f'column repeated (same as "{table.labels[column.field]}")',
            )
        if column is not None and column.field not in table.labels:
            table.labels[column.field] = text
        fields.append(column.field if column is not None else None)
    for column in columns:
        if column.required and column.field not in table.labels:
            ok = False
            problems.add(
                table.sheet,
                row,
                column.zh,
                f"缺少“{column.zh}”列",
                f'the "{column.zh}" ({column.field}) column is missing',
            )
    return fields if ok else None


def read_community(sheet: str, rows: Rows, problems: Problems) -> dict[str, CommunityValue]:
    """Read the key/value rows of the community sheet (编码, 名称, 时区)."""
    found: dict[str, CommunityValue] = {}
    header_keys = {normalize_label(key) for key in COMMUNITY_HEADER_KEYS}
    for number, cells in content_rows(rows):
        key = header_text(cells[0]) if cells else ""
        if normalize_label(key) in header_keys and not found:
            continue
        column = match_column(key, COMMUNITY_KEYS) if key else None
        if column is None:
            accepted = ", ".join(f"{c.zh}/{c.field}" for c in COMMUNITY_KEYS)
            problems.add(
                sheet,
                number,
                key or None,
                f"不认识的项目“{key}”，可用的项目：{accepted}",
                f'unknown item "{key}"; expected: {accepted}',
            )
        elif column.field in found:
            problems.add(
                sheet,
                number,
                key,
                f"“{key}”重复填写了",
                f'"{key}" is given twice',
            )
        else:
            value = cells[1] if len(cells) > 1 else None
            found[column.field] = CommunityValue(None if _is_blank(value) else value, number, key)
    return found
