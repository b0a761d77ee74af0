"""The tables an import file may contain, their columns, and how headers are recognised.

Offices type headers in Chinese or English, with stray spaces and mixed case, and sometimes
both languages in one cell ("名称 name"); all of these are accepted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class TableKind(StrEnum):
    """A table of rows; a CSV file holds exactly one."""

    ZONES = "zones"
    BUILDINGS = "buildings"
    SITES = "sites"


@dataclass(frozen=True, slots=True)
class Column:
    """A known column: its field name, the Chinese header we write, and accepted aliases."""

    field: str
    zh: str
    aliases: tuple[str, ...]
    required: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.zh, self.field, *self.aliases)


COMMUNITY_SHEET_NAMES = ("社区", "community")
TABLE_SHEET_NAMES: dict[TableKind, tuple[str, ...]] = {
    TableKind.ZONES: ("片区", "zones", "网格"),
    TableKind.BUILDINGS: ("楼栋", "buildings"),
    TableKind.SITES: ("点位", "sites", "实地点位", "点位台账"),
}
TABLE_ZH: dict[TableKind, str] = {
    TableKind.ZONES: "片区",
    TableKind.BUILDINGS: "楼栋",
    TableKind.SITES: "点位",
}
# Sheets the importer skips: instructions for the people filling the workbook in.
IGNORED_SHEET_PREFIXES = ("说明", "readme", "#")

COMMUNITY_KEYS: tuple[Column, ...] = (
    Column("code", "编码", ("社区编码",)),
    Column("name", "名称", ("社区名称", "社区")),
    Column("timezone", "时区", ("tz",)),
)
# An optional header row on the key/value sheet, e.g. "字段 | 值".
COMMUNITY_HEADER_KEYS = ("字段", "项目", "key", "field", "item")

_LAT = Column("lat", "纬度", ("latitude",))
_LON = Column("lon", "经度", ("lng", "longitude"))
_ZONE_CODE = Column("zone_code", "片区编码", ("片区", "zone", "所属片区"), required=True)

TABLE_COLUMNS: dict[TableKind, tuple[Column, ...]] = {
    TableKind.ZONES: (
        Column("code", "编码", ("代码",), required=True),
        Column("name", "名称", ("片区名称",), required=True),
        Column("cadre", "责任人", ("第一责任人", "负责人")),
        Column("cadre_phone", "责任人电话", ("第一责任人电话", "负责人电话")),
        Column("cadre_telegram_id", "责任人TelegramID", ("负责人TelegramID",)),
        Column("deputies", "副责任人", ("副责任人姓名电话",)),
    ),
    TableKind.BUILDINGS: (
        Column("name", "名称", ("楼栋", "楼栋名称"), required=True),
        _ZONE_CODE,
        _LAT,
        _LON,
    ),
    TableKind.SITES: (
        Column("name", "名称", ("点位", "点位名称"), required=True),
        Column("category", "类别", ("分类", "点位类别"), required=True),
        _ZONE_CODE,
        Column("contact", "联系人", ()),
        Column("phone", "电话", ("联系电话", "联系方式", "手机")),
        Column("address", "地址", ()),
        _LAT,
        _LON,
    ),
}

_DROP_RE = re.compile(r"[\s_\-.]+")
_TOKEN_SPLIT_RE = re.compile(r"[\s/()]+")


def normalize_label(text: str) -> str:
    """Return a header or sheet name folded for comparison: no case, spaces, _ - or dots."""
    return _DROP_RE.sub("", unicodedata.normalize("NFKC", text).casefold())


def _lookup(text: str, names: dict[str, str]) -> str | None:
    whole = names.get(normalize_label(text))
    if whole is not None:
        return whole
    # A bilingual header ("名称 name", "纬度(lat)") counts if every part names the same thing.
    tokens = [t for t in _TOKEN_SPLIT_RE.split(unicodedata.normalize("NFKC", text)) if t]
    found = {names.get(normalize_label(token)) for token in tokens}
    if len(tokens) > 1 and len(found) == 1:
        return found.pop()
    return None


def match_column(text: str, columns: Iterable[Column]) -> Column | None:
    """Return the column a header cell names, or None."""
    columns = tuple(columns)
    by_name = {normalize_label(name): column.field for column in columns for name in column.names}
    field = _lookup(text, by_name)
    return next((column for column in columns if column.field == field), None)


def match_sheet(title: str) -> TableKind | str | None:
    """Return the table kind of a sheet, "community", "ignore", or None if unknown."""
    if normalize_label(title).startswith(IGNORED_SHEET_PREFIXES):
        return "ignore"
    names = {normalize_label(name): "community" for name in COMMUNITY_SHEET_NAMES}
    for kind, kind_names in TABLE_SHEET_NAMES.items():
        names.update({normalize_label(name): kind.value for name in kind_names})
    found = _lookup(title, names)
    if found is not None:
        return "community" if found == "community" else TableKind(found)
    return None


def column_list(kind: TableKind) -> str:
    """Return the accepted headers of a table for error messages: "编码/code, 名称/name"."""
    return ", ".join(f"{column.zh}/{column.field}" for column in TABLE_COLUMNS[kind])
