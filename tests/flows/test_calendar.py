"""The working-day calendar end to end: deadlines in 2027, whose holiday arrangement is not
published (statutory days only), the admins told so once, and re-dating when /holiday or
new package data moves an open deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.models import Role
from bot.domain.tickets import EventKind, Ticket
from bot.jobs import tick_all
from bot.sandbox import SimUser
from bot.services.calendar_source import BaseCalendar, base_calendar
from tests.flows.conftest import Harness, running_harness
from tests.flows.reporting import file_report, has

SHANGHAI = ZoneInfo("Asia/Shanghai")
ESTIMATE_ZH = "国务院尚未公布 2027 年节假日安排"
ESTIMATE_EN = "The 2027 holiday arrangement is not published yet"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


async def _ticket(harness: Harness, number: str) -> Ticket:
    async with harness.services.db.read() as tx:
        found = await tx.tickets.find_by_number(harness.community.id, number)
    assert found is not None
    return found


def _last_day(ticket: Ticket) -> date:
    assert ticket.due_at is not None
    return (ticket.due_at.astimezone(SHANGHAI) - timedelta(microseconds=1)).date()


async def _dispatch(harness: Harness, when: datetime, caption: str) -> tuple[SimUser, str]:
    """The Z1 cadre and the number of a ticket a resident reports at ``when``."""
    cadre = await harness.cadre("Z1")
    resident = await harness.resident("报事人")
    harness.clock.set(when)
    number = await file_report(harness.sandbox, resident, caption=caption)
    await harness.settle()
    return cadre, number


def _estimates(user: SimUser, text: str) -> list[str]:
    return [m.text or "" for m in user.inbox if text in (m.text or "")]


async def test_dispatched_30_december_2026_skips_new_years_day_2027(harness: Harness) -> None:
    cadre, number = await _dispatch(harness, local(2026, 12, 30, 10, 0), "楼道堆物")
    # Dec 31 Thu (1); Jan 1 元旦 off; Jan 2–3 weekend; Jan 4 (2), 5 (3), 6 (4), 7 (5).
    assert _last_day(await _ticket(harness, number)) == date(2027, 1, 7)
    card = await cadre.wait_for(has(number))
    assert "2027年1月7日" in (card.text or "")


async def test_dispatched_4_february_2027_skips_the_spring_festival(harness: Harness) -> None:
    cadre, number = await _dispatch(harness, local(2027, 2, 4, 9, 30), "垃圾堆放")
    # 除夕 Feb 5 to 初三 Feb 8 off, 补假 Feb 9–10; Feb 11 (1), 12 (2), 15 (3), 16 (4), 17 (5).
    assert _last_day(await _ticket(harness, number)) == date(2027, 2, 17)
    card = await cadre.wait_for(has(number))
    assert "2027年2月17日" in (card.text or "")


async def test_admins_are_told_once_per_year_in_their_language(harness: Harness) -> None:
    # The harness ran the calendar tick once at start (T0 is 16 November 2026).
    assert len(_estimates(harness.admin, ESTIMATE_ZH)) == 1
    assert "/holiday" in _estimates(harness.admin, ESTIMATE_ZH)[0]
    second = await harness.with_role("Alice", Role.ADMIN, language_code="en")
    for _ in range(2):
        await tick_all(harness.services)
        await harness.settle()
    assert len(_estimates(harness.admin, ESTIMATE_ZH)) == 1
    told = _estimates(second, ESTIMATE_EN)
    assert len(told) == 1 and "/holiday DATE" in told[0]
    # Into 2027 it is still the same year's estimate: nobody is told again.
    harness.clock.set(local(2027, 1, 5, 9, 0))
    await tick_all(harness.services)
    await harness.settle()
    assert len(_estimates(harness.admin, ESTIMATE_ZH)) == 1
    assert len(_estimates(second, ESTIMATE_EN)) == 1


async def test_the_leaders_digest_says_2027_is_an_estimate(harness: Harness) -> None:
    leader = await harness.with_role("周书记", Role.LEADER)
    await leader.send("/digest")
    digest = await leader.wait_for(has("按时整改率"))
    assert "2027 年节假日安排尚未公布" in (digest.text or "")
    assert "/holiday" in (digest.text or "")


async def test_holiday_moves_an_open_deadline_and_tells_the_cadre(harness: Harness) -> None:
    cadre, number = await _dispatch(harness, local(2026, 12, 30, 10, 0), "楼道堆物")
    await harness.take_all(cadre)
    # Say the arrangement, once published, also gives Monday 4 January off.
    await harness.admin.send("/holiday 2027-01-04 元旦调休")
    reply = await harness.admin.wait_for(has("2027-01-04"))
    assert "1 件在办工单" in (reply.text or "")
    told = await cadre.wait_for(has("工作日日历有调整"))
    assert number in (told.text or "")
    assert "2027年1月7日" in (told.text or "") and "2027年1月8日" in (told.text or "")
    ticket = await _ticket(harness, number)
    assert _last_day(ticket) == date(2027, 1, 8)
    async with harness.services.db.read() as tx:
        events = await tx.tickets.events(ticket.id)
    assert [e.note for e in events if e.kind is EventKind.REDATED] == ["2027-01-07 → 2027-01-08"]
    await harness.admin.send(f"/ticket {number}")
    timeline = await harness.admin.wait_for(has("期限变更"))
    assert "由 2027年1月7日 改为 2027年1月8日" in (timeline.text or "")
    # A day that moves nothing (after the due day) tells nobody.
    await harness.admin.send("/holiday 2027-03-01")
    reply = await harness.admin.wait_for(has("2027-03-01"))
    assert "在办工单" not in (reply.text or "")
    await harness.settle()
    assert not [m for m in cadre.drain() if "工作日日历有调整" in (m.text or "")]


async def test_new_package_data_redates_open_deadlines_once(tmp_path: Path) -> None:
    async with running_harness(tmp_path, tick=False) as harness:
        # The community's deadlines were counted with older data that had no statutory
        # layer (2027 plain Monday to Friday), as before this version.
        base = base_calendar()
        older = BaseCalendar(base.holidays, base.workdays, base.known_years, frozenset())
        async with harness.services.db.transaction() as tx:
            await tx.calendar.save_snapshot(
                harness.community.id, older.fingerprint, older.to_json(), harness.clock.now()
            )
        cadre, number = await _dispatch(harness, local(2026, 12, 30, 10, 0), "楼道堆物")
        assert _last_day(await _ticket(harness, number)) == date(2027, 1, 6)  # Jan 1 counted
        await harness.take_all(cadre)

        await harness.services.calendar.tick()
        await harness.services.calendar.tick()
        await harness.settle()
        assert _last_day(await _ticket(harness, number)) == date(2027, 1, 7)
        told = [m.text or "" for m in cadre.drain() if "工作日日历有调整" in (m.text or "")]
        assert len(told) == 1 and "2027年1月6日" in told[0] and "2027年1月7日" in told[0]
        async with harness.services.db.read() as tx:
            assert await tx.calendar.fingerprint(harness.community.id) == base.fingerprint
