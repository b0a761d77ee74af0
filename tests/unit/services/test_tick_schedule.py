"""The minute tick reads only what is due: each ticket's planned check, kept up to date by
transitions and by changes to the rules and calendar (real SQLite file, real calendar)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.services import deadlines
from bot.services.container import Services
from storage.rows import from_db_time
from tests.factories import database_for_test
from tests.unit.services.test_reports_and_deadlines import (
    at_local,
    file,
    outbox_texts,
    resident,
    services,
)

__all__ = ["services"]  # the fixture, shared with the filing and tick tests

EAST_BOT, WEST_BOT = 111111, 222222


async def planned(svc: Services, ticket_id: int) -> datetime | None:
    async with svc.db.read() as tx:
        rows = await tx.conn.fetch_all(
            "SELECT next_check_at FROM tickets WHERE id = ?", (ticket_id,)
        )
    value = next(iter(rows))[0]
    return None if value is None else from_db_time(value)


async def to_check(svc: Services) -> list[int]:
    async with svc.db.read() as tx:
        return [t.id for t in await tx.tickets.list_to_check(svc.clock.now(), 1000)]


async def test_a_planned_ticket_is_not_read_again_until_its_time(services: Services) -> None:
    services.clock.set(at_local(2026, 11, 16, 10, 0))  # Monday; due at the end of the 23rd
    ticket = await file(services, await resident(services))
    assert await to_check(services) == [ticket.id], "a new ticket is looked at first"
    await services.deadlines.tick()
    assert await to_check(services) == []
    # Not accepted by the end of the next working day: the leaders hear of it then.
    accept_limit = at_local(2026, 11, 18, 0, 0)
    assert await planned(services, ticket.id) == accept_limit
    services.clock.set(accept_limit - timedelta(seconds=1))
    assert await to_check(services) == []
    services.clock.set(accept_limit)
    assert await to_check(services) == [ticket.id]
    assert (await services.deadlines.tick()).late_acceptances == 1
    # Next: Friday 09:00, the working day before the due day ("due tomorrow").
    assert await planned(services, ticket.id) == at_local(2026, 11, 20, 9, 0)


async def test_a_transition_has_the_ticket_looked_at_again(services: Services) -> None:
    services.clock.set(at_local(2026, 11, 16, 10, 0))
    ticket = await file(services, await resident(services))
    await services.deadlines.tick()
    async with services.db.transaction() as tx:
        fresh = await tx.tickets.get(ticket.id)
        await tx.tickets.save(replace(fresh, version=fresh.version + 1))
    assert await to_check(services) == [ticket.id]


async def test_a_plan_made_from_a_stale_read_is_not_kept(services: Services) -> None:
    services.clock.set(at_local(2026, 11, 16, 10, 0))
    ticket = await file(services, await resident(services))
    later = at_local(2026, 11, 20, 9, 0)
    async with services.db.transaction() as tx:
        assert await tx.tickets.plan_checks([(ticket.id, ticket.version + 5, later)]) == 0
    assert await planned(services, ticket.id) is None


async def test_a_holiday_added_later_brings_the_reminder_forward(services: Services) -> None:
    services.clock.set(at_local(2026, 11, 16, 10, 0))
    ticket = await file(services, await resident(services))
    services.clock.set(at_local(2026, 11, 18, 0, 0))  # the late-acceptance report
    await services.deadlines.tick()
    assert await planned(services, ticket.id) == at_local(2026, 11, 20, 9, 0)
    async with services.db.transaction() as tx:
        await tx.calendar.set_override(ticket.community_id, date(2026, 11, 20), False, "停电")
    # Friday is now a day off: the working day before Monday's due day is Thursday.
    services.clock.set(at_local(2026, 11, 19, 9, 30))
    assert (await services.deadlines.tick()).reminders == 1
    assert any("周一（" in t and ticket.number in t for t in await outbox_texts(services))


async def test_a_rule_change_has_every_active_ticket_planned_again(services: Services) -> None:
    services.clock.set(at_local(2026, 11, 16, 10, 0))
    ticket = await file(services, await resident(services))
    await services.deadlines.tick()
    async with services.db.transaction() as tx:
        await tx.communities.set_rule(ticket.community_id, "accept_workdays", "2")
    assert await to_check(services) == [ticket.id]


async def test_a_catch_up_goes_in_batches_and_fires_each_ticket_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadlines, "CHECK_BATCH", 4)
    async with services.db.transaction() as tx:
        await tx.communities.set_rule(1, "reports_per_hour", "1000")
        await tx.communities.set_rule(1, "duplicate_radius_m", "0")
    services.clock.set(at_local(2026, 11, 16, 10, 0))
    person = await resident(services)
    tickets = [await file(services, person, origin=f"601:{n}") for n in range(10)]
    # The bot was down for two weeks: every ticket is overdue at once.
    services.clock.set(at_local(2026, 11, 30, 10, 0))
    assert (await services.deadlines.tick()).escalations == 10
    assert await to_check(services) == []
    assert (await services.deadlines.tick()).total == 0
    texts = await outbox_texts(services)
    for ticket in tickets:
        assert sum("已超期" in t and ticket.number in t for t in texts) == 1
    services.clock.advance(timedelta(days=30))
    assert await to_check(services) == [], "nothing lies ahead of an escalated ticket"


@pytest.mark.sqlite_only
async def test_the_tick_query_searches_its_index(services: Services) -> None:
    statements: list[str] = []
    async with services.db.read() as tx:
        await tx.conn.raw.set_trace_callback(statements.append)
        await tx.tickets.list_to_check(services.clock.now(), 10)
        await tx.conn.raw.set_trace_callback(None)
        sql = next(s for s in statements if "next_check_at" in s)
        plan = await tx.conn.raw.execute_fetchall("EXPLAIN QUERY PLAN " + sql)
    details = [row[3] for row in plan]
    assert sum("USING INDEX tickets_next_check" in d for d in details) == 2, details
    assert not any(d.startswith("SCAN tickets") for d in details), details


async def test_a_bot_ticks_only_the_tickets_of_the_communities_it_serves(
    services: Services, tmp_path: Path
) -> None:
    """A city's bots share the database: each tick reminds through its own bot only."""
    services.clock.set(at_local(2026, 11, 16, 10, 0))
    ticket = await file(services, await resident(services))
    async with services.db.transaction() as tx:
        await tx.bots.adopt(EAST_BOT)
    path = getattr(services.db, "path", tmp_path / "unused.sqlite3")
    for bot_id, expected in ((EAST_BOT, [ticket.id]), (WEST_BOT, [])):
        async with database_for_test(path, bot_id=bot_id) as db, db.read() as tx:
            due = await tx.tickets.list_to_check(services.clock.now(), 1000)
        assert [t.id for t in due] == expected
