"""The calendar tick and /holiday on a real SQLite file: who is told that a year is an
estimate and when, and which open deadlines a calendar change moves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.models import Role
from bot.importer import load_plan
from bot.services.calendar_changes import estimated_years_ahead, years_in_use
from bot.services.calendar_source import base_calendar
from bot.services.container import Services
from tests.factories import SAMPLE_YAML, actor_of, open_services
from tests.unit.services.test_reports_and_deadlines import file, outbox_texts, resident

SHANGHAI = timedelta(hours=8)
SUPER = 9001
ESTIMATE = "国务院尚未公布 2027 年节假日安排"
REDATED = "工作日日历有调整"


def at_local(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - SHANGHAI


@pytest.fixture
async def services(tmp_path: Path):
    svc = await open_services(tmp_path, admins=frozenset({SUPER, 9002}))
    summary = await svc.communities.apply_plan(load_plan(SAMPLE_YAML))
    _, cadre = await svc.people.identify(501, "陈建国", "zh-hans", False)
    z1_invite = next(code for zone, _, code in summary.cadre_invites if zone == "Z1")
    await svc.invites.redeem(cadre, z1_invite)
    # A community admin (English) and one super-admin who has opened the bot; 9002 has not.
    _, boss = await svc.people.identify(SUPER, "刘主任", "zh-hans", True)
    await svc.people.choose_community(boss, summary.community.id)
    invite, _ = await svc.invites.create(await actor_of(svc, SUPER, super_admin=True), Role.ADMIN)
    _, office = await svc.people.identify(700, "Office", "en", False)
    await svc.invites.redeem(office, invite.code)
    yield svc
    await svc.db.close()


async def _estimates(svc: Services) -> list[str]:
    texts = await outbox_texts(svc)
    return [t for t in texts if ESTIMATE in t or "2027 holiday arrangement" in t]


class TestYearsInUse:
    @pytest.mark.parametrize(
        ("today", "years"),
        [
            ("2026-10-31", [2026]),
            ("2026-11-01", [2026, 2027]),
            ("2026-12-31", [2026, 2027]),
            ("2027-01-01", [2027]),
        ],
    )
    def test_the_next_year_joins_from_november(self, today: str, years: list[int]) -> None:
        assert years_in_use(date.fromisoformat(today)) == years
        assert estimated_years_ahead(date.fromisoformat(today)) == [y for y in years if y > 2026]


class TestEstimateNotices:
    async def test_from_1_november_each_admin_is_told_once(self, services: Services) -> None:
        services.clock.set(at_local(2026, 10, 31, 23, 59))
        await services.calendar.tick()
        assert await _estimates(services) == []

        services.clock.set(at_local(2026, 11, 1, 0, 0))
        await services.calendar.tick()
        await services.calendar.tick()
        told = await _estimates(services)
        assert len(told) == 2  # the super-admin in Chinese, the community admin in English
        assert sum(ESTIMATE in t for t in told) == 1
        assert sum("The 2027 holiday arrangement is not published yet" in t for t in told) == 1

    async def test_a_super_admin_is_told_once_they_have_opened_the_bot(
        self, services: Services
    ) -> None:
        await services.calendar.tick()
        assert len(await _estimates(services)) == 2
        await actor_of(services, 9002, "王科长", super_admin=True)
        await services.calendar.tick()
        await services.calendar.tick()
        assert len(await _estimates(services)) == 3


class TestRedating:
    async def test_the_first_tick_records_the_data_and_moves_nothing(
        self, services: Services
    ) -> None:
        services.clock.set(at_local(2026, 12, 30, 10, 0))
        ticket = await file(services, await resident(services))
        assert ticket.due_at == at_local(2027, 1, 8, 0, 0)
        await services.calendar.tick()
        async with services.db.read() as tx:
            assert await tx.calendar.fingerprint(1) == base_calendar().fingerprint
            assert (await tx.tickets.get(ticket.id)).due_at == ticket.due_at
        assert not [t for t in await outbox_texts(services) if REDATED in t]

    async def test_an_overdue_deadline_stays_where_it_was(self, services: Services) -> None:
        services.clock.set(at_local(2026, 11, 16, 9, 0))
        ticket = await file(services, await resident(services))
        assert ticket.due_at == at_local(2026, 11, 24, 0, 0)  # Nov 17, 18, 19, 20, 23
        services.clock.set(at_local(2026, 11, 25, 9, 0))
        office = await actor_of(services, 700, "Office")
        day = at_local(2026, 11, 20, 12).date()
        assert await services.communities.set_day(office, day, False, "") == 0
        async with services.db.read() as tx:
            assert (await tx.tickets.get(ticket.id)).due_at == ticket.due_at

    async def test_a_make_up_working_day_pulls_a_deadline_forward(
        self, services: Services
    ) -> None:
        services.clock.set(at_local(2026, 12, 30, 10, 0))
        ticket = await file(services, await resident(services))
        office = await actor_of(services, 700, "Office")
        moved = await services.communities.set_day(
            office, at_local(2027, 1, 2, 12).date(), True, "调休上班"
        )
        assert moved == 1
        async with services.db.read() as tx:
            stored = await tx.tickets.get(ticket.id)
        # Dec 31 (1), Sat Jan 2 worked (2), Jan 4 (3), 5 (4), 6 (5).
        assert stored.due_at == at_local(2027, 1, 7, 0, 0)
        assert stored.version == ticket.version + 1
        texts = [t for t in await outbox_texts(services) if REDATED in t]
        assert len(texts) == 1 and "2027年1月7日" in texts[0] and "2027年1月6日" in texts[0]
