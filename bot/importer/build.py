"""Turn the rows read from a file into a `CommunityPlan`, reporting every bad cell.

The readers (xlsx, CSV, YAML) only locate values; this module converts and validates them
with the domain's helpers, so the three formats accept exactly the same data.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from bot.domain.community_plan import (
    DEFAULT_TIMEZONE,
    BuildingPlan,
    CommunityPlan,
    InvalidPlan,
    PersonRef,
    PlanIssue,
    PlanValueError,
    Section,
    SitePlan,
    ZonePlan,
    clean_address,
    clean_category,
    clean_name,
    normalize_phone,
    plan_issues,
    unknown_zone_error,
    validate_code,
    validate_coordinates,
    validate_telegram_id,
    validate_timezone_name,
    validate_zone_code,
)
from bot.importer.errors import Problems
from bot.importer.schema import TABLE_COLUMNS, TABLE_ZH, TableKind

# Rows beyond this are surely a wrong file (a whole city's register), not a community.
MAX_ROWS_PER_TABLE = 5000


@dataclass(slots=True)
class Record:
    """One non-blank data row: its number as the office sees it and its raw values."""

    row: int
    values: dict[str, object]


@dataclass(slots=True)
class Table:
    """The rows of one table and the header label of each field, for error messages."""

    kind: TableKind
    sheet: str
    labels: dict[str, str]
    records: list[Record] = field(default_factory=list)
    items: bool = False
    # False when the header was unusable and the rows were not read.
    complete: bool = True

    def label(self, field_name: str) -> str:
        if field_name in self.labels:
            return self.labels[field_name]
        column = next((c for c in TABLE_COLUMNS[self.kind] if c.field == field_name), None)
        return column.zh if column is not None and not self.items else field_name


@dataclass(slots=True)
class CommunityValue:
    """A value from the community sheet or section, with where it was found."""

    value: object
    row: int
    label: str


@dataclass(slots=True)
class Source:
    """Everything a reader found in a file, before validation."""

    file_name: str
    community_sheet: str
    community: dict[str, CommunityValue]
    tables: dict[TableKind, Table]
    items: bool = False
    # False when the community sheet or section is missing (already reported).
    has_community: bool = True


# --- converting raw values ---------------------------------------------------------------


def to_text(value: object) -> str | None:
    """Return a cell's value as stripped text, None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PlanValueError(
            "这里应填文字，不是“是/否”（YAML 里请给值加引号）",
            "expected text, not true/false (in YAML, put the value in quotes)",
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel stores every number as a float; 3 should read "3", not "3.0".
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime | date | time):
        raise PlanValueError(
            "这里是日期或时间，应为文字（请把单元格设为“文本”）",
            "this is a date or time, expected text (format the cell as Text)",
        )
    raise PlanValueError("这里应填文字", f"expected text, got {type(value).__name__}")


def to_number(value: object) -> float | None:
    """Return a cell's value as a float, None when blank."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            pass
    raise PlanValueError("应为数字", f'expected a number: "{value}"')


def to_whole_number(value: object) -> int | None:
    """Return a cell's value as an int (Telegram IDs), None when blank."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not text:
            return None
        if text.isascii() and text.isdigit():
            return int(text)
    raise PlanValueError("应为整数", f'expected a whole number: "{value}"')


def to_phone(value: object) -> str | None:
    """Return the normalised phone number, None when blank."""
    text = to_text(value)
    if text is None:
        return None
    try:
        return normalize_phone(text)
    except PlanValueError as exc:
        if isinstance(value, int | float) and text[:1] != "0":
            # A landline typed into a number cell loses its leading 0.
            raise PlanValueError(
                exc.reason_zh + "（座机号码请把单元格设为“文本”，以免丢掉开头的 0）",
                exc.reason_en + " (format landline cells as Text so the leading 0 is kept)",
            ) from None
        raise


# --- one row -----------------------------------------------------------------------------


@dataclass(slots=True)
class _KnownZones:
    """Zone codes and names read so far; buildings and sites are checked against them."""

    codes: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)
    # False for a partial plan (storage checks against the stored zones) or when the zones
    # table could not be read, which is reported on its own.
    check: bool = True


class _Row:
    """Reads the fields of one record, recording a problem for each bad cell."""

    def __init__(
        self,
        table: Table,
        record: Record,
        problems: Problems,
        zones: _KnownZones | None = None,
    ) -> None:
        self.table, self.record, self.problems = table, record, problems
        self.zones = zones
        self.ok = True

    def error(self, field_name: str | None, reason_zh: str, reason_en: str) -> None:
        self.ok = False
        column = None if field_name is None else self.table.label(field_name)
        self.problems.add(
            self.table.sheet, self.record.row, column, reason_zh, reason_en, item=self.table.items
        )

    def get(self, field_name: str, convert: Callable[[object], object]) -> object:
        try:
            return convert(self.record.values.get(field_name))
        except PlanValueError as exc:
            self.error(exc.field or field_name, exc.reason_zh, exc.reason_en)
            return None

    def text(
        self, field_name: str, clean: Callable[[str], str], *, required: bool = False
    ) -> str | None:
        try:
            raw = to_text(self.record.values.get(field_name))
            if raw is None and not required:
                return None
            return clean(raw or "")
        except PlanValueError as exc:
            self.error(field_name, exc.reason_zh, exc.reason_en)
            return None

    def zone_code(self) -> str | None:
        """Read the zone reference and check it against the zones read so far."""
        zones = self.zones
        value = self.record.values.get("zone_code")
        if zones is not None and isinstance(value, str) and value.strip() in zones.names:
            # The commonest slip: the zone's name typed where its code belongs.
            name = value.strip()
            self.error(
                "zone_code",
                f"请填写片区编码 {zones.names[name]}，而不是片区名称“{name}”",
                f'use the zone code "{zones.names[name]}", not the zone name "{name}"',
            )
            return None
        code = self.text("zone_code", validate_zone_code, required=True)
        if zones is not None and zones.check and code is not None and code not in zones.codes:
            error = unknown_zone_error(code, zones.codes, zones.names)
            self.error("zone_code", error.reason_zh, error.reason_en)
            return None
        return code

    def phone(self, field_name: str) -> str | None:
        value = self.get(field_name, to_phone)
        return value if isinstance(value, str) else None

    def number(self, field_name: str) -> float | None:
        try:
            return to_number(self.record.values.get(field_name))
        except PlanValueError as exc:
            self.error(field_name, exc.reason_zh, exc.reason_en)
            return None

    def coordinates(self) -> tuple[float | None, float | None]:
        reported = len(self.problems.errors)
        lat, lon = self.number("lat"), self.number("lon")
        if len(self.problems.errors) > reported:
            return None, None
        try:
            return validate_coordinates(lat, lon)
        except PlanValueError as exc:
            self.error(exc.field, exc.reason_zh, exc.reason_en)
            return None, None


_DEPUTY_SPLIT_RE = re.compile(r"[;;\n]+")
_NAME_PHONE_SPLIT_RE = re.compile(r"[::]")


def _person(row: _Row, field_name: str, parts: dict[str, object]) -> PersonRef | None:
    """Build a deputy from name/phone/telegram_id values, reporting problems on `field_name`."""
    problems: list[PlanValueError] = []
    values: dict[str, object] = {}
    for key, convert in (("name", to_text), ("phone", to_phone), ("telegram_id", to_int_id)):
        try:
            values[key] = convert(parts.get(key))
        except PlanValueError as exc:
            problems.append(exc)
    name = values.get("name")
    who_zh, who_en = (f"“{name}”", f' "{name}"') if isinstance(name, str) else ("", "")
    if not problems:
        try:
            values["name"] = clean_name(
                name if isinstance(name, str) else "", what_zh="姓名", what_en="name"
            )
        except PlanValueError as exc:
            problems.append(exc)
    for problem in problems:
        row.error(
            field_name,
            f"副责任人{who_zh}：{problem.reason_zh}",
            f"deputy{who_en}: {problem.reason_en}",
        )
    if problems:
        return None
    phone, telegram_id = values.get("phone"), values.get("telegram_id")
    return PersonRef(
        str(values["name"]),
        phone if isinstance(phone, str) else None,
        telegram_id if isinstance(telegram_id, int) else None,
    )


def to_int_id(value: object) -> int | None:
    """Return a validated Telegram user id, None when blank."""
    number = to_whole_number(value)
    return None if number is None else validate_telegram_id(number)


def _deputies(row: _Row) -> tuple[PersonRef, ...]:
    raw = row.record.values.get("deputies")
    entries: list[dict[str, object]] = []
    if raw is None:
        return ()
    if isinstance(raw, str):
        # NFKC folds full-width ；and ： typed with a Chinese input method.
        raw = unicodedata.normalize("NFKC", raw)
        # The spreadsheet form: "姓名:电话; 姓名:电话", optionally ":TelegramID" after the phone.
        for chunk in _DEPUTY_SPLIT_RE.split(raw):
            if not chunk.strip():
                continue
            parts = [part.strip() or None for part in _NAME_PHONE_SPLIT_RE.split(chunk)]
            if len(parts) > 3:
                row.error(
                    "deputies",
                    f"副责任人格式不对，应为“姓名:电话; 姓名:电话”：{chunk.strip()}",
                    f'deputies should read "name:phone; name:phone": "{chunk.strip()}"',
                )
                continue
            entries.append(dict(zip(("name", "phone", "telegram_id"), parts, strict=False)))
    elif isinstance(raw, list):
        for index, entry in enumerate(raw, start=1):
            if isinstance(entry, dict) and set(entry) <= {"name", "phone", "telegram_id"}:
                entries.append({str(key): value for key, value in entry.items()})
            else:
                row.error(
                    "deputies",
                    f"第{index}位副责任人应写成 name/phone/telegram_id",
                    f"deputy {index} should be a mapping with name, phone, telegram_id",
                )
    else:
        row.error("deputies", "副责任人格式不对", "deputies should be a list")
    people = [_person(row, "deputies", entry) for entry in entries]
    return tuple(person for person in people if person is not None)


def _zone(row: _Row, known: _KnownZones) -> ZonePlan | None:
    code = row.text("code", validate_zone_code, required=True)
    if code is not None:
        # Remember it even if the row fails, so its buildings aren't reported as orphans.
        known.codes.add(code)
    name = row.text(
        "name", lambda v: clean_name(v, what_zh="片区名称", what_en="zone name"), required=True
    )
    cadre_name = row.text(
        "cadre", lambda v: clean_name(v, what_zh="责任人", what_en="cadre's name")
    )
    cadre_phone = row.phone("cadre_phone")
    cadre_id = row.get("cadre_telegram_id", to_int_id)
    deputies = _deputies(row)
    values = row.record.values
    if cadre_name is None and (
        values.get("cadre_phone") is not None or values.get("cadre_telegram_id") is not None
    ):
        row.error(
            "cadre",
            "填写了责任人电话或 Telegram ID，但没有填写责任人姓名",
            "the cadre's phone or Telegram ID is given without a name",
        )
    if name is not None and code is not None:
        known.names.setdefault(name, code)
    if not row.ok or code is None or name is None:
        return None
    cadre = (
        PersonRef(cadre_name, cadre_phone, cadre_id if isinstance(cadre_id, int) else None)
        if cadre_name is not None
        else None
    )
    return ZonePlan(code, name, cadre, deputies)


def _building(row: _Row) -> BuildingPlan | None:
    name = row.text(
        "name", lambda v: clean_name(v, what_zh="楼栋名称", what_en="building name"), required=True
    )
    zone_code = row.zone_code()
    lat, lon = row.coordinates()
    if not row.ok or name is None or zone_code is None:
        return None
    return BuildingPlan(name, zone_code, lat, lon)


def _site(row: _Row) -> SitePlan | None:
    name = row.text(
        "name", lambda v: clean_name(v, what_zh="点位名称", what_en="site name"), required=True
    )
    category = row.text("category", clean_category, required=True)
    zone_code = row.zone_code()
    contact = row.text("contact", lambda v: clean_name(v, what_zh="联系人", what_en="contact"))
    phone = row.phone("phone")
    address = row.text("address", clean_address)
    lat, lon = row.coordinates()
    if not row.ok or name is None or category is None or zone_code is None:
        return None
    return SitePlan(name, category, zone_code, contact, phone, address, lat, lon)


# --- the whole plan ----------------------------------------------------------------------


def _community_fields(
    source: Source, community_code: str | None, problems: Problems
) -> tuple[str | None, str | None, str | None]:
    sheet = source.community_sheet

    def value(key: str, clean: Callable[[str], str], *, required: bool) -> str | None:
        cell = source.community.get(key)
        try:
            text = to_text(cell.value) if cell is not None else None
            if text is None and not required:
                return None
            return clean(text or "")
        except PlanValueError as exc:
            row, label = (cell.row, cell.label) if cell is not None else (0, key)
            problems.add(sheet, row, label, exc.reason_zh, exc.reason_en, item=source.items)
            return None

    reported = len(problems.errors)
    code = value(
        "code",
        lambda v: validate_code(v, what_zh="社区编码", what_en="community code"),
        required=False,
    )
    if code is None and community_code is None and len(problems.errors) == reported:
        problems.add(sheet, 0, None, "缺少社区编码", "the community code is missing")
    if community_code is not None and code is not None and code != community_code:
        cell = source.community["code"]
        problems.add(
            sheet,
            cell.row,
            cell.label,
            f"文件里的社区编码 {code} 与指定的 {community_code} 不一致",
            f'the file is for community "{code}", not "{community_code}"',
            item=source.items,
        )
    name = value(
        "name",
        lambda v: clean_name(v, what_zh="社区名称", what_en="community name"),
        required=True,
    )
    timezone = value("timezone", _timezone, required=False) or DEFAULT_TIMEZONE
    return code or community_code, name, timezone


def _timezone(raw: str) -> str:
    name = validate_timezone_name(raw)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise PlanValueError(
            "没有这个时区（例如 Asia/Shanghai）", f'unknown timezone (e.g. Asia/Shanghai): "{raw}"'
        ) from None
    return name


def build_plan(
    source: Source, *, community_code: str | None, partial: bool, problems: Problems
) -> CommunityPlan:
    """Validate everything in `source` and return the plan, or raise `ImportFailed`."""
    if partial:
        code: str | None = community_code
        name, timezone = "", ""
        if community_code is not None:
            try:
                code = validate_code(community_code, what_zh="社区编码", what_en="community code")
            except PlanValueError as exc:
                problems.add(source.file_name, 0, None, exc.reason_zh, exc.reason_en)
                code = None
    elif source.has_community:
        code, name_or_none, timezone_or_none = _community_fields(source, community_code, problems)
        name, timezone = name_or_none or "", timezone_or_none or ""
    else:
        code, name, timezone = community_code, "", ""

    zones: list[ZonePlan] = []
    buildings: list[BuildingPlan] = []
    sites: list[SitePlan] = []
    rows: dict[TableKind, list[int]] = {kind: [] for kind in TableKind}
    zone_table = source.tables.get(TableKind.ZONES)
    known = _KnownZones(
        check=not partial
        and zone_table is not None
        and zone_table.complete
        and bool(zone_table.records)
    )
    if not partial and zone_table is not None and zone_table.complete and not zone_table.records:
        problems.add(
            zone_table.sheet, 0, None, "至少需要一个片区", "a community needs at least one zone"
        )
    # Zones first, whatever the sheet order, so buildings and sites can refer to them.
    for kind in TableKind:
        table = source.tables.get(kind) or Table(kind, TABLE_ZH[kind], {})
        for record in table.records:
            row = _Row(table, record, problems, known)
            if kind is TableKind.ZONES and (zone := _zone(row, known)) is not None:
                zones.append(zone)
            elif kind is TableKind.BUILDINGS and (building := _building(row)) is not None:
                buildings.append(building)
            elif kind is TableKind.SITES and (site := _site(row)) is not None:
                sites.append(site)
            else:
                continue
            # Positions in `rows` follow the plan's lists, so plan issues map back to rows.
            rows[kind].append(record.row)

    order = [source.file_name, source.community_sheet]
    order += [table.sheet for table in source.tables.values()]
    # References were checked row by row above, including rows with other problems.
    issues = plan_issues(zones, buildings, sites, check_references=False)
    _report_issues(issues, source, rows, problems)
    if code is None and not problems:
        problems.add(source.file_name, 0, None, "缺少社区编码", "the community code is missing")
    problems.raise_if_any(order)
    assert code is not None  # raise_if_any has raised otherwise
    try:
        return CommunityPlan(
            code,
            name,
            timezone,
            tuple(zones),
            tuple(buildings),
            tuple(sites),
            partial=partial,
        )
    except InvalidPlan as exc:
        # Every rule is checked above with row numbers; this is the domain's safety net.
        _report_issues(list(exc.issues), source, rows, problems)
        problems.raise_if_any(order)
        raise


def _report_issues(
    issues: list[PlanIssue],
    source: Source,
    rows: dict[TableKind, list[int]],
    problems: Problems,
) -> None:
    for issue in issues:
        if issue.section is Section.COMMUNITY:
            problems.add(source.community_sheet, 0, issue.field, issue.reason_zh, issue.reason_en)
            continue
        kind = TableKind(issue.section.value)
        table = source.tables.get(kind) or Table(kind, TABLE_ZH[kind], {}, items=source.items)
        row = rows[kind][issue.index] if issue.index is not None else 0
        reason_zh, reason_en = issue.reason_zh, issue.reason_en
        if issue.related is not None:
            unit_zh, unit_en = ("项", "item") if table.items else ("行", "row")
            other = rows[kind][issue.related]
            reason_zh += f"（与第{other}{unit_zh}相同）"
            reason_en += f", same as {unit_en} {other}"
        field_name = "cadre_telegram_id" if issue.field == "telegram_id" else issue.field
        column = None if field_name is None else table.label(field_name)
        problems.add(table.sheet, row, column, reason_zh, reason_en, item=table.items)
