"""Filing reports and the durable tick, on a real SQLite file with the real calendar."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.models import Person, Role
from bot.domain.reports import DraftPhoto
from bot.domain.tickets import Ticket
from bot.importer import load_plan
from bot.services import calendar_source
from bot.services.container import Services
from bot.textlimits import MESSAGE_LIMIT, visible_length
from tests.factories import SAMPLE_YAML, open_services

SHANGHAI = timedelta(hours=8)


def at_local(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - SHANGHAI


@pytest.fixture
async def services(tmp_path: Path):
    svc = await open_services(tmp_path)
    summary = await svc.communities.apply_plan(load_plan(SAMPLE_YAML))
    # The Z1 cadre signs in through the invite the import made.
    _, cadre = await svc.people.identify(501, "陈建国", "zh-hans", False)
    z1_invite = next(code for zone, _, code in summary.cadre_invites if zone == "Z1")
    await svc.invites.redeem(cadre, z1_invite)
    yield svc
    await svc.db.close()


async def resident(svc: Services, telegram_id: int = 601) -> Person:
    _, person = await svc.people.identify(telegram_id, "李明", "zh-hans", False)
    community = (await svc.people.communities())[0]
    await svc.people.choose_community(person, community.id)
    buildings = await svc.people.buildings(community.id)
    await svc.people.choose_building(
        (await svc.people.identify(telegram_id, "李明", None, False))[1], buildings[0][0].id
    )
    return (await svc.people.identify(telegram_id, "李明", None, False))[1]


async def file(svc: Services, person: Person, origin: str = "601:1") -> Ticket:
    actor, person = await svc.people.identify(person.telegram_id or 0, person.name, None, False)
    photo = DraftPhoto("a" * 64, "photos/aa/" + "a" * 64 + ".jpg", None)
    await svc.reports.add_photo(actor, person, photo, "楼道堆物", origin)
    await svc.reports.set_category(person, "clutter")
    await svc.reports.set_place_building(person, person.building_id or 0)
    filed = await svc.reports.submit(actor, person)
    return filed.ticket


async def outbox_texts(svc: Services) -> list[str]:
    async with svc.db.read() as tx:
        items = await tx.outbox.due(svc.clock.now() + timedelta(days=365), limit=1000)
    return [i.payload.get("text") or i.payload.get("caption") or "" for i in items]


class TestFiling:
    async def test_a_report_becomes_a_numbered_ticket_for_the_zones_cadre(
        self, services: Services
    ) -> None:
        person = await resident(services)
        ticket = await file(services, person)
        assert ticket.number == "2026-0001"
        assert ticket.assignee_person_id is not None
        assert any("新工单 2026-0001" in text for text in await outbox_texts(services))

    async def test_submitting_twice_files_one_ticket(self, services: Services) -> None:
        person = await resident(services)
        first = await file(services, person)
        actor, person = await services.people.identify(601, "李明", None, False)
        again = await services.reports.submit(actor, person)
        assert again.ticket.id == first.id and not again.new

    async def test_deadline_across_national_day_2026(self, services: Services) -> None:
        services.clock.set(at_local(2026, 9, 30, 18, 0))
        ticket = await file(services, await resident(services))
        # Oct 1-7 off; Oct 8, 9, 10 (make-up Saturday), 12, 13 are the five working days.
        assert ticket.due_at == at_local(2026, 10, 14, 0, 0)

    async def test_deadline_across_new_year_2027_skips_the_statutory_day_and_warns_once(
        self, services: Services, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(calendar_source, "_warned_years", set())
        services.clock.set(at_local(2026, 12, 30, 10, 0))
        with caplog.at_level(logging.WARNING):
            ticket = await file(services, await resident(services))
            await file(services, await resident(services, 602), origin="602:1")
        # 2027 has no published arrangement yet, but New Year's Day is fixed by law:
        # Dec 31, Jan 4, 5, 6, 7 are the five working days.
        assert ticket.due_at == at_local(2027, 1, 8, 0, 0)
        assert sum("year=2027" in r.getMessage() for r in caplog.records) == 1

    async def test_reports_per_hour_are_limited(self, services: Services) -> None:
        async with services.db.transaction() as tx:
            await tx.communities.set_rule(1, "reports_per_hour", "1")
        person = await resident(services)
        await file(services, person)
        from bot.domain.errors import InvalidInput

        with pytest.raises(InvalidInput) as refused:
            await file(services, person, origin="601:2")
        assert refused.value.key == "report.rate_limited"


class TestTick:
    async def test_reminders_and_escalation_fire_once_each_even_after_downtime(
        self, services: Services, tmp_path: Path
    ) -> None:
        services.clock.set(at_local(2026, 11, 16, 10, 0))  # Monday
        ticket = await file(services, await resident(services))
        assert ticket.due_at == at_local(2026, 11, 24, 0, 0)  # due Monday 23rd

        services.clock.set(at_local(2026, 11, 20, 9, 30))  # Friday: the working day before
        assert (await services.deadlines.tick()).reminders == 1
        assert (await services.deadlines.tick()).reminders == 0

        # Down over the due day; back on Tuesday 24th: no stale "due today", one escalation.
        services.clock.set(at_local(2026, 11, 24, 11, 0))
        report = await services.deadlines.tick()
        assert (report.reminders, report.escalations) == (0, 1)

        # A restart (fresh services, same database) fires nothing again.
        await services.db.close()
        restarted = await open_services(tmp_path)
        restarted.clock.set(at_local(2026, 11, 24, 11, 1))
        assert (await restarted.deadlines.tick()).total == 0
        texts = await outbox_texts(restarted)
        # Friday before a Monday deadline names the day, never "tomorrow".
        assert sum("周一（" in t and ticket.number in t for t in texts) == 1
        assert not any("明天" in t and ticket.number in t for t in texts)
        assert sum("已超期" in t and ticket.number in t for t in texts) == 1
        await restarted.db.close()
        await services.db.connect()

    async def test_reminder_the_day_before_says_tomorrow(self, services: Services) -> None:
        services.clock.set(at_local(2026, 11, 18, 10, 0))  # Wednesday
        ticket = await file(services, await resident(services))
        assert ticket.due_at == at_local(2026, 11, 26, 0, 0)  # due Wednesday 25th
        services.clock.set(at_local(2026, 11, 24, 9, 30))  # Tuesday
        assert (await services.deadlines.tick()).reminders == 1
        texts = [t for t in await outbox_texts(services) if "⏰" in t]
        assert texts and "明天（2026年11月25日）到期" in texts[0]

    async def test_leaders_get_one_list_of_overdue_tickets_split_only_when_too_long(
        self, services: Services
    ) -> None:
        async with services.db.transaction() as tx:
            await tx.communities.set_rule(1, "reports_per_hour", "1000")
            await tx.communities.set_rule(1, "duplicate_radius_m", "0")
            leader = await tx.people.add("周书记", services.clock.now(), telegram_id=901)
            await tx.roles.grant(leader.id, 1, Role.LEADER, None, None, services.clock.now())
        services.clock.set(at_local(2026, 11, 16, 10, 0))
        person = await resident(services)
        tickets = [await file(services, person, origin=f"601:{n}") for n in range(80)]
        services.clock.set(at_local(2026, 11, 24, 11, 0))
        assert (await services.deadlines.tick()).escalations == 80
        assert (await services.deadlines.tick()).escalations == 0
        async with services.db.read() as tx:
            items = await tx.outbox.due(services.clock.now(), limit=10000)
        lists = [
            i.payload["text"]
            for i in items
            if i.chat_id == 901 and "个工单已超期" in i.payload.get("text", "")
        ]
        # 80 lines do not fit in one message: they continue in a second, none cut off.
        assert len(lists) == 2
        assert all(visible_length(text) <= MESSAGE_LIMIT for text in lists)
        for ticket in tickets:
            assert sum(text.count(ticket.number) for text in lists) == 1

    async def test_no_reminder_before_working_hours(self, services: Services) -> None:
        services.clock.set(at_local(2026, 11, 16, 10, 0))
        await file(services, await resident(services))
        services.clock.set(at_local(2026, 11, 20, 7, 0))
        assert (await services.deadlines.tick()).reminders == 0

    async def test_abandoned_draft_expires_with_a_message(self, services: Services) -> None:
        person = await resident(services)
        actor, person = await services.people.identify(601, "李明", None, False)
        await services.reports.start(actor, person, "601:9")
        services.clock.advance(timedelta(minutes=31))
        assert (await services.deadlines.tick()).expired_drafts == 1
        assert await services.reports.current(person) is None
        assert any("已自动取消" in t for t in await outbox_texts(services))

    async def test_filed_drafts_expire_silently(self, services: Services) -> None:
        await file(services, await resident(services))
        services.clock.advance(timedelta(minutes=31))
        assert (await services.deadlines.tick()).expired_drafts == 0
