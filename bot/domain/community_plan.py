"""The validated description of a community to create or update (the admin's setup flow).

A `CommunityPlan` is what the importer produces from the office's spreadsheet or YAML file
and what storage turns into communities, zones (片区), buildings (楼栋) and the site ledger
(实地点位台账). Every value object normalises and validates itself on construction, so a
plan that exists is a plan that can be stored.

The field helpers (`normalize_phone`, `clean_name`, …) raise `PlanValueError` carrying a
reason in Chinese and in English, so the importer can report each bad cell in the office's
language. `plan_issues` checks the relations between rows (unique codes and names, zone
references) and reports every problem, not just the first.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT_TIMEZONE",
    "SITE_CATEGORIES",
    "SITE_CATEGORY_LABELS",
    "BuildingPlan",
    "CommunityPlan",
    "InvalidPlan",
    "PersonRef",
    "PlanIssue",
    "PlanValueError",
    "Section",
    "SitePlan",
    "ZonePlan",
    "category_named",
    "clean_address",
    "clean_category",
    "clean_name",
    "normalize_phone",
    "plan_issues",
    "unknown_zone_error",
    "validate_code",
    "validate_coordinates",
    "validate_telegram_id",
    "validate_timezone_name",
    "validate_zone_code",
]

DEFAULT_TIMEZONE = "Asia/Shanghai"
NAME_MAX_LEN = 64
ADDRESS_MAX_LEN = 200

# The source's sub-district ledger kept "16类83个实地点位" and names some of the kinds
# (街道、社区、公园、学校、酒店、医院…); the rest follow the national civilized-city
# assessment's usual site list. A community may use categories outside this list.
SITE_CATEGORY_LABELS: dict[str, str] = {
    "主次干道": "Main roads",
    "背街小巷": "Back streets and alleys",
    "居民小区": "Residential compounds",
    "农贸市场": "Farmers' markets",
    "公园广场": "Parks and squares",
    "学校周边": "School surroundings",
    "医院": "Hospitals",
    "商业门店": "Shops",
    "机关单位": "Government offices",
    "车站": "Stations",
    "建筑工地": "Construction sites",
    "公共厕所": "Public toilets",
    "河道": "Rivers and canals",
    "城乡结合部": "Urban-rural fringe",
    "宾馆饭店": "Hotels and restaurants",
    "网吧/娱乐场所": "Internet cafés and entertainment venues",
}
SITE_CATEGORIES: tuple[str, ...] = tuple(SITE_CATEGORY_LABELS)


def category_named(name: str) -> str:
    """The category an admin means: a usual category's English label stands for it (the
    checklists are keyed by the Chinese name); any other name is kept as typed."""
    wanted = name.strip().casefold()
    for key, label in SITE_CATEGORY_LABELS.items():
        if label.casefold() == wanted:
            return key
    return name


class Section(StrEnum):
    """A part of a plan; the importer maps each to a sheet, a YAML section or a CSV file."""

    COMMUNITY = "community"
    ZONES = "zones"
    BUILDINGS = "buildings"
    SITES = "sites"


class PlanValueError(ValueError):
    """One value is not acceptable; carries the reason in both languages."""

    def __init__(self, reason_zh: str, reason_en: str, *, field: str | None = None) -> None:
        super().__init__(f"{reason_zh} ({reason_en})")
        self.reason_zh = reason_zh
        self.reason_en = reason_en
        # Set when a helper checks several fields at once (latitude and longitude).
        self.field = field


@dataclass(frozen=True, slots=True)
class PlanIssue:
    """One problem found in a plan.

    `index` is the 0-based position within `section` (None for the section as a whole);
    `field` is the English field name, e.g. "zone_code" (None when no single field is wrong);
    `related` is the index of the earlier item a duplicate repeats.
    """

    section: Section
    index: int | None
    field: str | None
    reason_zh: str
    reason_en: str
    related: int | None = None

    def __str__(self) -> str:
        where = self.section.value
        if self.index is not None:
            where += f"[{self.index}]"
        if self.field is not None:
            where += f".{self.field}"
        same = "" if self.related is None else f", same as [{self.related}]"
        return f"{where}: {self.reason_zh} ({self.reason_en}{same})"


class InvalidPlan(ValueError):
    """A plan (or one of its parts) was built from invalid values."""

    def __init__(self, issues: Iterable[PlanIssue]) -> None:
        self.issues: tuple[PlanIssue, ...] = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


# --- field helpers ---------------------------------------------------------------------

_CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE_RE = re.compile(r"0[0-9]{9,11}")
# Separators people put in phone numbers: spaces, dashes and brackets.
_PHONE_SEPARATORS_RE = re.compile(r"[\s\-()\u2010-\u2015]+")
_TIMEZONE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*")
_BAD_CHAR_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _has_bad_chars(text: str) -> bool:
    return any(unicodedata.category(ch) in _BAD_CHAR_CATEGORIES for ch in text)


def _clean_text(raw: str, *, what_zh: str, what_en: str, max_len: int) -> str:
    text = raw.strip()
    if not text:
        raise PlanValueError(f"{what_zh}不能为空", f"{what_en} is required")
    if len(text) > max_len:
        raise PlanValueError(
            f"{what_zh}太长（最多{max_len}个字）",
            f'{what_en} is too long (at most {max_len} characters): "{text[:20]}…"',
        )
    if _has_bad_chars(text):
        raise PlanValueError(
            f"{what_zh}含有换行或控制字符", f"{what_en} contains a line break or control character"
        )
    return text


def clean_name(raw: str, *, what_zh: str = "名称", what_en: str = "name") -> str:
    """Return the name stripped; 1..64 characters without control characters."""
    return _clean_text(raw, what_zh=what_zh, what_en=what_en, max_len=NAME_MAX_LEN)


def clean_address(raw: str) -> str:
    """Return the address stripped; 1..200 characters without control characters."""
    return _clean_text(raw, what_zh="地址", what_en="address", max_len=ADDRESS_MAX_LEN)


def clean_category(raw: str) -> str:
    """Return the site category stripped; any non-empty name, not only `SITE_CATEGORIES`."""
    return clean_name(raw, what_zh="类别", what_en="category")


def validate_code(raw: str, *, what_zh: str = "编码", what_en: str = "code") -> str:
    """Return the code stripped: 1..32 of A-Z a-z 0-9 _ -."""
    code = raw.strip()
    if not code:
        raise PlanValueError(f"{what_zh}不能为空", f"{what_en} is required")
    if not _CODE_RE.fullmatch(code):
        raise PlanValueError(
            f"{what_zh}只能用字母、数字、_ 和 -，最多32位",
            f'{what_en} may only use letters, digits, _ and -, up to 32: "{code}"',
        )
    return code


def validate_zone_code(raw: str) -> str:
    """Return the zone code stripped (same rules as `validate_code`)."""
    return validate_code(raw, what_zh="片区编码", what_en="zone code")


def normalize_phone(raw: str) -> str:
    """Return a mainland mobile as 11 digits or a landline as "0571-88888888".

    Spaces, dashes, brackets, full-width digits and a +86/0086 prefix are accepted.
    Normalising a normalised number returns it unchanged.
    """
    # NFKC turns full-width digits and punctuation (common in Chinese input) into ASCII.
    text = unicodedata.normalize("NFKC", raw).strip()
    digits = _PHONE_SEPARATORS_RE.sub("", text)
    international = False
    if digits.startswith("+86"):
        digits, international = digits[3:], True
    elif digits.startswith("0086"):
        digits, international = digits[4:], True
    if international and digits and not _MOBILE_RE.fullmatch(digits):
        # In international form a landline drops its trunk 0: +86 571 8888 8888.
        digits = "0" + digits.removeprefix("0")
    if _MOBILE_RE.fullmatch(digits):
        return digits
    if _LANDLINE_RE.fullmatch(digits):
        # Beijing (010) and the 02x cities have 3-digit area codes, the rest 4; no 01x but 010.
        if digits.startswith(("010", "02")):
            area_len = 3
        elif digits.startswith("01"):
            area_len = 0
        else:
            area_len = 4
        local = digits[area_len:]
        if area_len and 7 <= len(local) <= 8 and local[0] != "0":
            return f"{digits[:area_len]}-{local}"
    raise PlanValueError("电话号码格式不对", f'phone number is not valid: "{raw.strip()}"')


def validate_telegram_id(value: int) -> int:
    """Return the Telegram user id; it must be a positive whole number."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PlanValueError(
            "Telegram ID 应为正整数", f'Telegram ID must be a positive whole number: "{value}"'
        )
    return value


def validate_coordinates(
    lat: float | None, lon: float | None
) -> tuple[float | None, float | None]:
    """Return (lat, lon) as floats; both or neither must be given, within ±90 / ±180."""
    if lat is None and lon is None:
        return None, None
    if lat is None or lon is None:
        raise PlanValueError(
            "纬度和经度要同时填写",
            "latitude and longitude must be given together",
            field="lat" if lat is None else "lon",
        )
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise PlanValueError(
            "经纬度应为数字", "latitude and longitude must be numbers", field="lat"
        ) from None
    if not (math.isfinite(lat_f) and -90.0 <= lat_f <= 90.0):
        raise PlanValueError(
            "纬度应在 -90 到 90 之间（是否填反了经纬度？）",
            f'latitude must be between -90 and 90 (swapped with longitude?): "{lat}"',
            field="lat",
        )
    if not (math.isfinite(lon_f) and -180.0 <= lon_f <= 180.0):
        raise PlanValueError(
            "经度应在 -180 到 180 之间",
            f'longitude must be between -180 and 180: "{lon}"',
            field="lon",
        )
    return lat_f, lon_f


def validate_timezone_name(raw: str) -> str:
    """Return the IANA timezone name if it is well formed (existence is checked by the caller).

    Looking the zone up needs the tz database, which is I/O, so the domain only checks shape.
    """
    name = raw.strip()
    if not _TIMEZONE_RE.fullmatch(name) or len(name) > NAME_MAX_LEN:
        raise PlanValueError(
            "时区格式不对（例如 Asia/Shanghai）",
            f'timezone is not valid (e.g. Asia/Shanghai): "{raw}"',
        )
    return name


# --- value objects ---------------------------------------------------------------------


class _Checker:
    """Collects field problems so a constructor can report all of them at once."""

    def __init__(self, section: Section) -> None:
        self.section = section
        self.issues: list[PlanIssue] = []

    def add(self, field_name: str | None, error: PlanValueError) -> None:
        self.issues.append(
            PlanIssue(self.section, None, field_name, error.reason_zh, error.reason_en)
        )

    def done(self) -> None:
        if self.issues:
            raise InvalidPlan(self.issues)


def _set(obj: object, name: str, value: object) -> None:
    # Frozen dataclasses normalise their own fields in __post_init__ this way.
    object.__setattr__(obj, name, value)


def _check_field(
    check: _Checker,
    obj: object,
    name: str,
    clean: Callable[[Any], object],
    *,
    optional: bool = False,
) -> None:
    value = getattr(obj, name)
    if optional and value is None:
        return
    try:
        _set(obj, name, clean(value))
    except PlanValueError as exc:
        check.add(name, exc)
    except (TypeError, AttributeError):
        check.add(name, PlanValueError("值的类型不对", f"wrong type: {type(value).__name__}"))


def _check_coordinates(check: _Checker, obj: BuildingPlan | SitePlan) -> None:
    try:
        lat, lon = validate_coordinates(obj.lat, obj.lon)
    except PlanValueError as exc:
        check.add(exc.field, exc)
    else:
        _set(obj, "lat", lat)
        _set(obj, "lon", lon)


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person named in a plan: a zone's responsible cadre (第一责任人) or a deputy."""

    name: str
    phone: str | None = None
    telegram_id: int | None = None

    def __post_init__(self) -> None:
        check = _Checker(Section.ZONES)
        _check_field(check, self, "name", lambda v: clean_name(v, what_zh="姓名", what_en="name"))
        _check_field(check, self, "phone", normalize_phone, optional=True)
        _check_field(check, self, "telegram_id", validate_telegram_id, optional=True)
        check.done()


@dataclass(frozen=True, slots=True)
class ZonePlan:
    """A zone (片区/网格) with its responsible cadre and deputies."""

    code: str
    name: str
    cadre: PersonRef | None = None
    deputies: tuple[PersonRef, ...] = ()

    def __post_init__(self) -> None:
        check = _Checker(Section.ZONES)
        _check_field(check, self, "code", validate_zone_code)
        _check_field(check, self, "name", clean_name)
        _set(self, "deputies", tuple(self.deputies))
        check.done()


@dataclass(frozen=True, slots=True)
class BuildingPlan:
    """A residential building (楼栋) and the zone it belongs to."""

    name: str
    zone_code: str
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        check = _Checker(Section.BUILDINGS)
        _check_field(check, self, "name", clean_name)
        _check_field(check, self, "zone_code", validate_zone_code)
        _check_coordinates(check, self)
        check.done()


@dataclass(frozen=True, slots=True)
class SitePlan:
    """An inspection point of the site ledger (实地点位台账)."""

    name: str
    category: str
    zone_code: str
    contact: str | None = None
    phone: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        check = _Checker(Section.SITES)
        _check_field(check, self, "name", clean_name)
        _check_field(check, self, "category", clean_category)
        _check_field(check, self, "zone_code", validate_zone_code)
        _check_field(
            check,
            self,
            "contact",
            lambda v: clean_name(v, what_zh="联系人", what_en="contact"),
            optional=True,
        )
        _check_field(check, self, "phone", normalize_phone, optional=True)
        _check_field(check, self, "address", clean_address, optional=True)
        _check_coordinates(check, self)
        check.done()


@dataclass(frozen=True, slots=True)
class CommunityPlan:
    """A community with its zones, buildings and sites.

    A *partial* plan (from a one-table CSV) adds rows to an existing community: its `name`
    and `timezone` are empty and its zone references are checked by storage against the
    zones already stored, via `plan_issues(..., known_zone_codes=...)`.
    """

    code: str
    name: str
    timezone: str
    zones: tuple[ZonePlan, ...] = ()
    buildings: tuple[BuildingPlan, ...] = ()
    sites: tuple[SitePlan, ...] = ()
    partial: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        check = _Checker(Section.COMMUNITY)
        _check_field(
            check,
            self,
            "code",
            lambda v: validate_code(v, what_zh="社区编码", what_en="community code"),
        )
        if self.partial:
            if self.name or self.timezone:
                check.add(
                    None,
                    PlanValueError(
                        "只添加表格时不能修改社区名称和时区",
                        "a partial plan leaves the community's name and timezone empty",
                    ),
                )
        else:
            _check_field(
                check,
                self,
                "name",
                lambda v: clean_name(v, what_zh="社区名称", what_en="community name"),
            )
            _check_field(check, self, "timezone", validate_timezone_name)
        _set(self, "zones", tuple(self.zones))
        _set(self, "buildings", tuple(self.buildings))
        _set(self, "sites", tuple(self.sites))
        check.done()
        issues = plan_issues(
            self.zones,
            self.buildings,
            self.sites,
            check_references=not self.partial,
        )
        if not self.partial and not self.zones:
            issues.insert(0, _NO_ZONES)
        if issues:
            raise InvalidPlan(issues)

    @property
    def zone_codes(self) -> tuple[str, ...]:
        """Return the zone codes in file order."""
        return tuple(zone.code for zone in self.zones)


_NO_ZONES = PlanIssue(
    Section.ZONES, None, None, "至少需要一个片区", "a community needs at least one zone"
)


# --- relations between rows ------------------------------------------------------------


def _duplicates(
    section: Section, field_name: str, values: Iterable[str], what_zh: str, what_en: str
) -> list[PlanIssue]:
    first_seen: dict[str, int] = {}
    issues = []
    for index, value in enumerate(values):
        if value in first_seen:
            issues.append(
                PlanIssue(
                    section,
                    index,
                    field_name,
                    f"{what_zh}重复",
                    f'duplicate {what_en} "{value}"',
                    related=first_seen[value],
                )
            )
        else:
            first_seen[value] = index
    return issues


def unknown_zone_error(
    zone_code: str, zone_codes: Iterable[str], zone_names: Mapping[str, str] | None = None
) -> PlanValueError:
    """Return the error for a reference to a missing zone, with a hint when one is likely.

    `zone_names` maps zone names to codes: offices often type the zone's name, or the code
    in the wrong case.
    """
    suggestion = (zone_names or {}).get(zone_code)
    if suggestion is None:
        suggestion = next(
            (code for code in zone_codes if code.casefold() == zone_code.casefold()), None
        )
    hint_zh = hint_en = ""
    if suggestion is not None:
        hint_zh, hint_en = f"，是否应为 {suggestion}？", f'; did you mean "{suggestion}"?'
    return PlanValueError(
        f"片区编码不存在{hint_zh}", f'no zone with code "{zone_code}"{hint_en}', field="zone_code"
    )


def _unknown_zone(
    section: Section, index: int, zone_code: str, zones: tuple[ZonePlan, ...]
) -> PlanIssue:
    error = unknown_zone_error(
        zone_code, (zone.code for zone in zones), {zone.name: zone.code for zone in zones}
    )
    return PlanIssue(section, index, "zone_code", error.reason_zh, error.reason_en)


def plan_issues(
    zones: Iterable[ZonePlan],
    buildings: Iterable[BuildingPlan],
    sites: Iterable[SitePlan],
    *,
    known_zone_codes: Collection[str] | None = None,
    check_references: bool = True,
) -> list[PlanIssue]:
    """Return every problem in the relations between the rows of a plan.

    Checks unique zone codes and names, unique building and site names, one name per
    Telegram ID, and (unless `check_references` is false) that each building and site
    points at a known zone. `known_zone_codes` defaults to the plan's own zones; storage
    passes the stored codes plus the plan's when it merges a partial plan.
    """
    zones_t, buildings_t, sites_t = tuple(zones), tuple(buildings), tuple(sites)
    issues: list[PlanIssue] = []
    issues += _duplicates(
        Section.ZONES, "code", (z.code for z in zones_t), "片区编码", "zone code"
    )
    issues += _duplicates(
        Section.ZONES, "name", (z.name for z in zones_t), "片区名称", "zone name"
    )
    issues += _duplicates(
        Section.BUILDINGS, "name", (b.name for b in buildings_t), "楼栋名称", "building name"
    )
    issues += _duplicates(
        Section.SITES, "name", (s.name for s in sites_t), "点位名称", "site name"
    )
    issues += _telegram_id_issues(zones_t)
    if not check_references:
        return issues
    known = known_zone_codes if known_zone_codes is not None else {z.code for z in zones_t}
    for index, building in enumerate(buildings_t):
        if building.zone_code not in known:
            issues.append(_unknown_zone(Section.BUILDINGS, index, building.zone_code, zones_t))
    for index, site in enumerate(sites_t):
        if site.zone_code not in known:
            issues.append(_unknown_zone(Section.SITES, index, site.zone_code, zones_t))
    return issues


def _telegram_id_issues(zones: tuple[ZonePlan, ...]) -> list[PlanIssue]:
    # One Telegram account is one person: the same id under two names is a typo.
    owner: dict[int, str] = {}
    issues = []
    for index, zone in enumerate(zones):
        people = ((zone.cadre,) if zone.cadre else ()) + zone.deputies
        for person in people:
            if person.telegram_id is None:
                continue
            known_name = owner.setdefault(person.telegram_id, person.name)
            if known_name != person.name:
                issues.append(
                    PlanIssue(
                        Section.ZONES,
                        index,
                        "telegram_id",
                        f"Telegram ID {person.telegram_id} 同时属于 {known_name} 和 {person.name}",
                        f"Telegram ID {person.telegram_id} is given for both "
                        f"{known_name} and {person.name}",
                    )
                )
    return issues
