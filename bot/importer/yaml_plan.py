"""Read a community from YAML: `community`, `zones`, `buildings` and `sites` with English keys.

```yaml
community: {code: xingfuli, name: 幸福里社区, timezone: Asia/Shanghai}
zones:
  - {code: Z1, name: 东片区, cadre: {name: 陈建国, phone: "13857101234"},
     deputies: [{name: 刘晓燕, phone: "13957102345"}]}
buildings:
  - {name: 1号楼, zone_code: Z1, lat: 30.2741, lon: 120.1562}
sites:
  - {name: 幸福路东段, category: 主次干道, zone_code: Z1, contact: 赵伟, phone: "13805711001",
     address: 幸福路1号至88号, lat: 30.2745, lon: 120.1571}
```
Errors name the section and the item number (from 1), e.g. `sites 第3项 [phone]`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.importer.build import MAX_ROWS_PER_TABLE, CommunityValue, Record, Source, Table
from bot.importer.errors import Problems, fail
from bot.importer.schema import TABLE_COLUMNS, TableKind

_COMMUNITY_KEYS = ("code", "name", "timezone")
_PERSON_KEYS = ("name", "phone", "telegram_id")
_ITEM_KEYS: dict[TableKind, tuple[str, ...]] = {
    TableKind.ZONES: ("code", "name", "cadre", "deputies"),
    TableKind.BUILDINGS: tuple(column.field for column in TABLE_COLUMNS[TableKind.BUILDINGS]),
    TableKind.SITES: tuple(column.field for column in TABLE_COLUMNS[TableKind.SITES]),
}
# The zone's cadre is nested in YAML but flat in the spreadsheet; errors use the YAML path.
_ZONE_LABELS = {
    "cadre": "cadre.name",
    "cadre_phone": "cadre.phone",
    "cadre_telegram_id": "cadre.telegram_id",
}


# libyaml when present: the pure-Python parser takes seconds on a large file.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A community is three levels deep (zones → deputies → person); deeper is not a ledger,
# and a very deep file would exhaust the composer's recursion.
MAX_DEPTH = 20


def _check_events(path: Path, text: str) -> None:
    """Refuse aliases and deep nesting before anything is built from the file.

    An alias (`*name`) repeats an anchored value; nine levels of ten make a "billion laughs"
    file of under 1 KB that names 10⁹ values. A ledger never needs one.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.AliasEvent):
            raise fail(
                path.name,
                f"第{line}行用了 YAML 别名（*{event.anchor}）；台账里请把内容直接写出来",
                f"line {line} uses a YAML alias (*{event.anchor}); write the values out in full",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise fail(
                    path.name,
                    f"第{line}行嵌套太深（最多{MAX_DEPTH}层）",
                    f"line {line} is nested too deep (at most {MAX_DEPTH} levels)",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _load(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise fail(path.name, "YAML 文件应为 UTF-8 编码", "the YAML file must be UTF-8") from None
    try:
        _check_events(path, text)
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise fail(
            path.name,
            f"YAML 格式错误（第{line}行）：{problem}",
            f"YAML syntax error at line {line}: {problem}",
        ) from None


def _unknown_keys(
    problems: Problems, sheet: str, row: int, prefix: str, keys: object, allowed: tuple[str, ...]
) -> None:
    if not isinstance(keys, dict):
        return
    for key in keys:
        if key not in allowed:
            problems.add(
                sheet,
                row,
                f"{prefix}{key}",
                f"不认识的字段“{key}”，可用：{', '.join(allowed)}",
                f'unknown key "{key}"; expected: {", ".join(allowed)}',
                item=row > 0,
            )


def read_yaml(path: Path, problems: Problems) -> Source:
    """Locate every value in the YAML file; structural problems go to `problems`."""
    data = _load(path)
    if data is None:
        raise fail(path.name, "文件里没有任何内容", "the file is empty")
    if not isinstance(data, dict):
        raise fail(
            path.name,
            "YAML 顶层应包含 community、zones、buildings、sites",
            "the YAML top level should be a mapping: community, zones, buildings, sites",
        )
    _unknown_keys(problems, path.name, 0, "", data, ("community", *TableKind))

    community: dict[str, CommunityValue] = {}
    section = data.get("community")
    if isinstance(section, dict):
        _unknown_keys(problems, "community", 0, "", section, _COMMUNITY_KEYS)
        for key in _COMMUNITY_KEYS:
            if key in section:
                community[key] = CommunityValue(section[key], 0, key)
    else:
        problems.add(
            path.name,
            0,
            "community",
            "缺少 community（code、name、timezone）",
            "the community section (code, name, timezone) is missing or not a mapping",
        )

    tables: dict[TableKind, Table] = {}
    for kind in TableKind:
        items = data.get(kind.value)
        if items is None:
            if kind is TableKind.ZONES:
                problems.add(path.name, 0, "zones", "缺少 zones", "the zones section is missing")
            continue
        if not isinstance(items, list):
            problems.add(path.name, 0, kind.value, f"{kind.value} 应为列表", "expected a list")
            continue
        if len(items) > MAX_ROWS_PER_TABLE:
            problems.add(
                path.name,
                0,
                kind.value,
                f"条目太多（最多{MAX_ROWS_PER_TABLE}条）",
                f"too many items (at most {MAX_ROWS_PER_TABLE})",
            )
            continue
        labels = dict(_ZONE_LABELS) if kind is TableKind.ZONES else {}
        table = Table(kind, kind.value, labels, items=True)
        for number, item in enumerate(items, start=1):
            record = _record(problems, kind, number, item)
            if record is not None:
                table.records.append(record)
        tables[kind] = table
    return Source(
        path.name,
        "community",
        community,
        tables,
        items=True,
        has_community=isinstance(section, dict),
    )


def _record(problems: Problems, kind: TableKind, number: int, item: object) -> Record | None:
    if not isinstance(item, dict):
        problems.add(
            kind.value,
            number,
            None,
            "每一项应写成“键: 值”",
            "each item should be a mapping of key: value",
            item=True,
        )
        return None
    _unknown_keys(problems, kind.value, number, "", item, _ITEM_KEYS[kind])
    values = {key: value for key, value in item.items() if key in _ITEM_KEYS[kind]}
    if kind is TableKind.ZONES:
        cadre = values.pop("cadre", None)
        if isinstance(cadre, str):
            # `cadre: 陈建国` is a natural shorthand for a cadre known by name only.
            cadre = {"name": cadre}
        if isinstance(cadre, dict):
            _unknown_keys(problems, kind.value, number, "cadre.", cadre, _PERSON_KEYS)
            values["cadre"] = cadre.get("name")
            values["cadre_phone"] = cadre.get("phone")
            values["cadre_telegram_id"] = cadre.get("telegram_id")
        elif cadre is not None:
            problems.add(
                kind.value,
                number,
                "cadre",
                "cadre 应包含 name、phone、telegram_id",
                "cadre should be a mapping with name, phone, telegram_id",
                item=True,
            )
    return Record(number, {key: value for key, value in values.items() if value is not None})
