"""Inspection checklists (督查清单): what is checked at each kind of site and what a
failure costs. Seeded from the campaign documents; a community may tune deductions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    zh: str
    en: str
    deduction: float
    ticket_category: str  # the report category a failure files under
    # What a failure *is*: the standard ("无违章搭建") would read as "found: nothing wrong"
    # on a ticket, a notice or a ledger.
    fail_zh: str
    fail_en: str


ITEMS: dict[str, Item] = {
    item.code: item
    for item in (
        Item(
            "road",
            "路面平整完好，无坑洼破损",
            "Road surface intact",
            2.0,
            "facilities",
            "路面坑洼破损",
            "Road surface potholed or broken",
        ),
        Item(
            "corners",
            "无卫生死角，垃圾清运及时、无暴露垃圾",
            "No dead corners or exposed rubbish",
            3.0,
            "litter",
            "有卫生死角或暴露垃圾，垃圾清运不及时",
            "Dirty corners or exposed rubbish; rubbish not cleared in time",
        ),
        Item(
            "structures",
            "无违章搭建",
            "No illegal structures",
            5.0,
            "structures",
            "有违章搭建",
            "Illegal structure found",
        ),
        Item(
            "ads",
            "无乱贴乱画、无未经审批的广告招牌",
            "No unauthorised ads, signs or graffiti",
            2.0,
            "ads",
            "有乱贴乱画或未经审批的广告招牌",
            "Unauthorised ads, signs or graffiti",
        ),
        Item(
            "stalls",
            "无占道经营、无马路市场",
            "No road-side stalls",
            3.0,
            "stalls",
            "有占道经营或马路市场",
            "Stalls or a market occupying the road",
        ),
        Item(
            "hanging",
            "无乱拉电线、乱挂衣物",
            "No wires or clothes hung across",
            2.0,
            "order",
            "乱拉电线或乱挂衣物",
            "Wires or clothes hung across",
        ),
        Item(
            "stairwells",
            "楼道畅通，无堆物",
            "Stairwells clear",
            3.0,
            "clutter",
            "楼道堆物、通行不畅",
            "Stairwell blocked by clutter",
        ),
        Item(
            "green",
            "绿化完好，无毁绿种菜",
            "Green space intact, no vegetable plots",
            3.0,
            "green",
            "绿化损毁或毁绿种菜",
            "Green space damaged or dug up for vegetables",
        ),
        Item(
            "parking",
            "车辆、共享单车停放有序",
            "Orderly parking and shared bikes",
            2.0,
            "parking",
            "车辆、共享单车乱停乱放",
            "Cars or shared bikes parked in disorder",
        ),
        Item(
            "facilities",
            "公共设施（路灯、井盖、标牌）完好",
            "Public facilities (lamps, manholes, signs) intact",
            2.0,
            "facilities",
            "公共设施（路灯、井盖、标牌）损坏",
            "Public facilities (lamps, manholes, signs) broken",
        ),
        Item(
            "publicity",
            "公益广告、文明宣传到位",
            "Civic publicity boards in place",
            1.0,
            "other",
            "公益广告、文明宣传缺失",
            "Civic publicity boards missing",
        ),
        Item(
            "fire",
            "消防通道畅通",
            "Fire lanes clear",
            3.0,
            "fire",
            "消防通道堵塞",
            "Fire lane blocked",
        ),
    )
}

_STREET = ("road", "corners", "ads", "stalls", "hanging", "parking", "facilities", "publicity")
_RESIDENTIAL = (
    "corners",
    "structures",
    "ads",
    "hanging",
    "stairwells",
    "green",
    "parking",
    "fire",
)
_MARKET = ("corners", "stalls", "ads", "parking", "fire", "publicity")
_PUBLIC_SPACE = ("corners", "green", "facilities", "ads", "publicity")

# Site categories of the ledger (see bot/domain/community_plan.SITE_CATEGORIES) → items.
BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "主次干道": _STREET,
    "背街小巷": (*_STREET, "structures"),
    "居民小区": _RESIDENTIAL,
    "农贸市场": _MARKET,
    "商业门店": _MARKET,
    "公园广场": _PUBLIC_SPACE,
    "学校周边": ("corners", "stalls", "ads", "parking", "facilities"),
    "车站": _STREET,
    "建筑工地": ("corners", "road", "hanging", "fire"),
    "河道": ("corners", "structures", "green"),
}
DEFAULT: tuple[str, ...] = ("corners", "structures", "ads", "stalls", "facilities", "fire")


def checklist_for(category: str) -> tuple[Item, ...]:
    """The items to check at a site of this category."""
    return tuple(ITEMS[code] for code in BY_CATEGORY.get(category, DEFAULT))


def score(deductions: list[float], base: float = 100.0) -> float:
    """100 minus the deductions of failed items, never below zero."""
    return round(max(0.0, base - sum(deductions)), 1)
