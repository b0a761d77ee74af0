"""Ledger exports (台账导出): a month's tickets, inspections, scores and volunteer service,
and the site ledger, as the Excel workbook (or CSV) a community office files.

The ledgers are in Chinese whatever the reader's language: they go to the street office.
Times are the community's wall-clock times (naive local datetimes); rates are numbers in a
percent format with one decimal (Excel can sum and average them), or "—" when there were too
few tickets to rate.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.access import Actor
from bot.domain.checklists import ITEMS
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.models import Community, Language, Role
from bot.domain.scoring import YearMonth
from bot.domain.tickets import OPEN_STATUSES, Source, Status
from bot.exporting import Ledger, Percent, write_csv, write_xlsx
from bot.i18n import catalog
from bot.services.base import Service
from storage.ledgers import TicketLine
from storage.transaction import Transaction

WHATS = ("tickets", "inspections", "scores", "volunteers", "sites", "all")
FORMATS = ("xlsx", "csv")

TICKET_HEADERS = (
    "工单号 (No.)",
    "上报时间",
    "来源",
    "类别",
    "片区",
    "地点",
    "问题描述",
    "责任人",
    "派单时间",
    "整改期限",
    "签收时间",
    "整改时间",
    "销号时间",
    "状态",
    "是否超期",
    "重办次数",
    "附议人数",
    "满意度",
)
INSPECTION_HEADERS = ("日期", "片区", "督查员", "方式", "得分", "不合格项数", "生成工单")
FAILED_ITEM_HEADERS = ("日期", "片区", "点位", "发现问题", "扣分", "工单号 (No.)")
# The indicators stored with each monthly score, in the order the review reads them.
INDICATORS = (
    ("on_time_acceptance", "及时签收率"),
    ("on_time_rectification", "按时办结率"),
    ("reopen_rate", "重办率"),
    ("transfer_back_rate", "回退率"),
    ("satisfaction", "满意率"),
)
SCORE_HEADERS = (
    "名次",
    "片区",
    "得分",
    "督查次数",
    "督查均分",
    "月末超期",
    "扣分",
    *(label for _, label in INDICATORS),
)
VOLUNTEER_HEADERS = ("活动", "日期", "姓名", "电话", "状态", "签到", "签退", "时长(小时)")
SITE_HEADERS = ("名称", "类别", "片区", "联系人", "电话", "地址", "纬度", "经度")

_SOURCES = {
    Source.RESIDENT: "居民",
    Source.INSPECTION: "督查",
    Source.REVIEW: "月讲评",
    Source.OPEN311: "城市系统",
}
_KINDS = {"scheduled": "定期", "unannounced": "暗访"}
_YES, _NO = "是", "否"
_NOT_RATED = "未评分"
_UNFINISHED = "未完成"
_NO_RATE = "—"
_SAFE_CODE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class Export:
    """A file ready to hand over, and what is in it."""

    community: Community
    month: YearMonth
    what: str
    filename: str
    data: bytes
    sheets: tuple[tuple[str, int], ...]  # (sheet name, data rows) of the ledgers in the file


def file_name(community_code: str, what: str, month: YearMonth, fmt: str) -> str:
    """``xingfuli-tickets-2026-11.xlsx``."""
    return f"{_SAFE_CODE.sub('_', community_code)}-{what}-{month}.{fmt}"


def encode(ledgers: Sequence[Ledger], fmt: str) -> bytes:
    """One workbook with a sheet per ledger, or the first (main) ledger as CSV."""
    return write_xlsx(ledgers) if fmt == "xlsx" else write_csv(ledgers[0])


class ExportService(Service):
    async def ledgers(self, community_id: int, month: YearMonth, what: str) -> list[Ledger]:
        """The ledgers of ``what`` for the month, the main one first."""
        _check(what, "xlsx")
        now = self.clock.now()
        async with self.db.read() as tx:
            community = await tx.communities.get(community_id)
            return await _ledgers(tx, community, month, what, now)

    async def export(
        self, actor: Actor, month: YearMonth | None, what: str, fmt: str
    ) -> tuple[str, bytes]:
        """The file name and bytes of the actor's community's ledgers (leaders and admins)."""
        made = await self.prepare(actor, month, what, fmt)
        return made.filename, made.data

    async def prepare(self, actor: Actor, month: YearMonth | None, what: str, fmt: str) -> Export:
        """Like ``export``, with what went into the file; no month means last month."""
        if actor.community_id is None:
            raise InvalidInput("start.pick_community_first")
        if not (actor.has(Role.LEADER) or actor.is_admin()):
            raise NotAllowed()
        _check(what, fmt)
        async with self.db.read() as tx:
            community = await tx.communities.get(actor.community_id)
        return await self._build(community, month, what, fmt)

    async def for_office(
        self, community_code: str | None, month: YearMonth | None, what: str, fmt: str
    ) -> Export:
        """The CLI's export: no actor (whoever runs it owns the database); without a code,
        the only community there is."""
        _check(what, fmt)
        async with self.db.read() as tx:
            communities = await tx.communities.list_all()
        codes = ", ".join(sorted(c.code for c in communities)) or "—"
        if community_code is not None:
            found = [c for c in communities if c.code == community_code]
            if not found:
                raise InvalidInput("export.unknown_community", code=community_code, codes=codes)
        elif not communities:
            raise InvalidInput("export.no_community")
        elif len(communities) > 1:
            raise InvalidInput("export.which_community", codes=codes)
        else:
            found = communities
        return await self._build(found[0], month, what, fmt)

    async def _build(
        self, community: Community, month: YearMonth | None, what: str, fmt: str
    ) -> Export:
        now = self.clock.now()
        if month is None:
            month = YearMonth.of(now.astimezone(ZoneInfo(community.timezone)).date()).previous()
        async with self.db.read() as tx:
            ledgers = await _ledgers(tx, community, month, what, now)
        if fmt == "csv":
            ledgers = ledgers[:1]
        # A year of tickets makes a sizeable workbook: keep the event loop free meanwhile.
        data = await asyncio.to_thread(encode, ledgers, fmt)
        return Export(
            community=community,
            month=month,
            what=what,
            filename=file_name(community.code, what, month, fmt),
            data=data,
            sheets=tuple((lg.sheet, len(lg.rows)) for lg in ledgers),
        )


def _check(what: str, fmt: str) -> None:
    if what not in WHATS or fmt not in FORMATS:
        raise InvalidInput("export.usage")


async def _ledgers(
    tx: Transaction, community: Community, month: YearMonth, what: str, now: datetime
) -> list[Ledger]:
    tz = ZoneInfo(community.timezone)
    out: list[Ledger] = []
    if what in ("tickets", "all"):
        out.append(await _tickets(tx, community, month, tz, now))
    if what in ("inspections", "all"):
        out.extend(await _inspections(tx, community, month))
    if what in ("scores", "all"):
        out.append(await _scores(tx, community, month))
    if what in ("volunteers", "all"):
        out.append(await _volunteers(tx, community, month, tz))
    if what in ("sites", "all"):
        out.append(await _sites(tx, community))
    return out


# --- the ledgers ----------------------------------------------------------------------------


async def _tickets(
    tx: Transaction, community: Community, month: YearMonth, tz: ZoneInfo, now: datetime
) -> Ledger:
    start, end = _window(month, tz)
    lines = await tx.ledgers.tickets_created_between(community.id, start, end)
    rows = [
        (
            t.number,
            _local(t.created_at, tz),
            _SOURCES.get(t.source, t.source.value),
            _zh(f"categories.{t.category}", t.category),
            t.zone,
            _place(t),
            t.description or None,
            t.assignee,
            _local(t.dispatched_at, tz),
            _last_day(t.due_at, tz),
            _local(t.accepted_at, tz),
            _local(t.rectified_at, tz),
            _local(t.closed_at, tz),
            _zh(f"status.{t.status.value}", t.status.value),
            _YES if _overdue(t, now) else _NO,
            t.reopen_count,
            t.supporters,
            _zh(f"buttons.rate_{t.rating.value}", t.rating.value) if t.rating else None,
        )
        for t in lines
    ]
    return Ledger(_title(community, month, "整改台账"), "整改台账", TICKET_HEADERS, rows)


async def _inspections(tx: Transaction, community: Community, month: YearMonth) -> list[Ledger]:
    inspections = await tx.ledgers.inspections_between(
        community.id, month.first_day, month.last_day
    )
    failed = await tx.ledgers.failed_items_between(community.id, month.first_day, month.last_day)
    tickets: dict[int, list[str]] = {}
    for item in failed:
        if item.ticket_number:
            tickets.setdefault(item.inspection_id, []).append(item.ticket_number)
    summary = [
        (
            i.day,
            i.zone,
            i.inspector,
            _KINDS.get(i.kind, i.kind),
            i.score if i.status == "done" and i.score is not None else _UNFINISHED,
            i.failed,
            "、".join(sorted(tickets.get(i.id, []))) or None,
        )
        for i in inspections
    ]
    details = [
        (
            f.day,
            f.zone,
            f.site,
            ITEMS[f.item_code].fail_zh if f.item_code in ITEMS else f.item_code,
            f.deduction,
            f.ticket_number,
        )
        for f in failed
    ]
    return [
        Ledger(_title(community, month, "督查台账"), "督查台账", INSPECTION_HEADERS, summary),
        Ledger(_title(community, month, "督查明细"), "督查明细", FAILED_ITEM_HEADERS, details),
    ]


async def _scores(tx: Transaction, community: Community, month: YearMonth) -> Ledger:
    lines = await tx.ledgers.scores_of_month(community.id, str(month))
    rows = [
        (
            s.rank,
            s.zone,
            s.score if s.score is not None else _NOT_RATED,
            s.inspections,
            s.inspection_mean,
            s.overdue,
            s.penalty,
            *(_percent(s.indicators.get(key)) for key, _ in INDICATORS),
        )
        for s in lines
    ]
    return Ledger(_title(community, month, "月度评分"), "月度评分", SCORE_HEADERS, rows)


async def _volunteers(
    tx: Transaction, community: Community, month: YearMonth, tz: ZoneInfo
) -> Ledger:
    start, end = _window(month, tz)
    lines = await tx.ledgers.signups_starting_between(community.id, start, end)
    rows = [
        (
            s.activity,
            s.starts_at.astimezone(tz).date(),
            s.name,
            s.phone,
            _zh(f"volunteer.status_{s.status.value}", s.status.value),
            _local(s.checked_in_at, tz),
            _local(s.checked_out_at, tz),
            s.hours,
        )
        for s in lines
    ]
    return Ledger(_title(community, month, "志愿服务"), "志愿服务", VOLUNTEER_HEADERS, rows)


async def _sites(tx: Transaction, community: Community) -> Ledger:
    lines = await tx.ledgers.sites(community.id)
    rows = [
        (s.name, s.category, s.zone, s.contact, s.phone, s.address, s.lat, s.lon) for s in lines
    ]
    return Ledger(f"{community.name} 实地点位台账", "点位台账", SITE_HEADERS, rows)


# --- values ---------------------------------------------------------------------------------


def _title(community: Community, month: YearMonth, ledger: str) -> str:
    return f"{community.name} {month.label_zh} {ledger}"


def _window(month: YearMonth, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The month as [start, end) instants: local midnights of its first and the next month's."""
    start = datetime.combine(month.first_day, time(0), tz)
    end = datetime.combine(month.next().first_day, time(0), tz)
    return start, end


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    """The community's wall-clock time, to the second (Excel has no time zones)."""
    if value is None:
        return None
    return value.astimezone(tz).replace(tzinfo=None, microsecond=0)


def _last_day(due_at: datetime | None, tz: ZoneInfo) -> date | None:
    """The deadline is the start of the next local day; the ledger shows the last day."""
    if due_at is None:
        return None
    return (due_at.astimezone(tz) - timedelta(microseconds=1)).date()


def _overdue(ticket: TicketLine, now: datetime) -> bool:
    """Still open past the deadline, or fixed only after it."""
    if ticket.due_at is None or ticket.status is Status.REJECTED:
        return False
    if ticket.status in OPEN_STATUSES:
        return now >= ticket.due_at
    return ticket.rectified_at is not None and ticket.rectified_at >= ticket.due_at


def _place(ticket: TicketLine) -> str | None:
    if ticket.building or ticket.site:
        return ticket.building or ticket.site
    if ticket.lat is not None and ticket.lon is not None:
        return f"{ticket.lat:.5f}, {ticket.lon:.5f}"
    return None


def _percent(value: float | None) -> Percent | str:
    """A rate as a number Excel can sum (shown 81.3%), or "—" when there is none."""
    if value is None or not math.isfinite(value):
        return _NO_RATE
    return Percent(value)


def _zh(key: str, fallback: str) -> str:
    return catalog(Language.ZH).get(key, fallback)
