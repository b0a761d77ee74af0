"""Several bots over one database: each sees its own updates, messages, groups, leases,
sending budget, communities and refusals; unbound communities are adopted; a community
can move."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.models import Role
from bot.domain.tickets import Source, Status, Ticket
from storage.database import Database, SqliteDatabase, migration_scripts
from storage.inbox import Incoming
from tests.factories import T0, database_for_test

CADRE_TG = 5001

EAST, WEST = 111111, 222222


@dataclass
class City:
    east: Database
    west: Database
    office: Database  # a command-line task: no bot of its own


@pytest.fixture
async def city(tmp_path: Path) -> AsyncIterator[City]:
    path = tmp_path / "city.sqlite3"
    async with (
        database_for_test(path) as office,
        database_for_test(path, bot_id=EAST) as east,
        database_for_test(path, bot_id=WEST) as west,
    ):
        yield City(east, west, office)


async def _add_community(db: Database, code: str) -> int:
    async with db.transaction() as tx:
        return (await tx.communities.add(code, code, "Asia/Shanghai", T0)).id


async def test_the_same_update_id_from_two_bots_is_two_updates(city: City) -> None:
    for db, text in ((city.east, "east"), (city.west, "west")):
        async with db.claim() as tx:
            await tx.inbox.store_batch([Incoming(1, "42", text)], T0)
    for db, text in ((city.east, "east"), (city.west, "west")):
        async with db.claim() as tx:
            item = await tx.inbox.claim("worker", T0, 30)
            assert item is not None and item.payload == text
            assert await tx.inbox.claim("worker", T0, 30) is None, "only its own bot's"
            await tx.updates.mark(1, T0)
    async with city.east.read() as tx:
        assert await tx.updates.seen(1)
    async with city.office.read() as tx:
        assert not await tx.updates.seen(1), "bot 0 (a task's view) processed nothing"


async def test_each_bot_sends_only_its_own_messages(city: City) -> None:
    for db, text in ((city.east, "east"), (city.west, "west")):
        async with db.transaction() as tx:
            await tx.outbox.add(7, {"text": text}, T0)
    for db, text in ((city.east, "east"), (city.west, "west")):
        async with db.claim() as tx:
            claimed = await tx.outbox.claim_due("sender", T0, 10, 20)
            assert [i.payload["text"] for i in claimed] == [text]
            assert await tx.outbox.unsettled(T0) == 1


async def test_a_bot_serves_the_communities_bound_to_it(city: City) -> None:
    east_id = await _add_community(city.east, "EAST-1")
    west_id = await _add_community(city.west, "WEST-1")
    async with city.east.read() as tx:
        assert [c.code for c in await tx.communities.list_all()] == ["EAST-1"]
        assert tx.communities.serves(await tx.communities.get(east_id))
        assert not tx.communities.serves(await tx.communities.get(west_id))
    async with city.office.read() as tx:
        assert {c.code for c in await tx.communities.list_all()} == {"EAST-1", "WEST-1"}


async def test_one_person_holds_roles_under_two_bots_each_bot_sees_its_own(city: City) -> None:
    east_id = await _add_community(city.east, "EAST-1")
    west_id = await _add_community(city.west, "WEST-1")
    async with city.office.transaction() as tx:
        person = await tx.people.add("王主任", T0, telegram_id=5001)
        await tx.roles.grant(person.id, east_id, Role.CADRE, None, None, T0)
        await tx.roles.grant(person.id, west_id, Role.LEADER, None, None, T0)
    for db, community, role in (
        (city.east, east_id, Role.CADRE),
        (city.west, west_id, Role.LEADER),
    ):
        async with db.read() as tx:
            grants = await tx.roles.list_for_person(person.id)
        assert [(g.community_id, g.role) for g in grants] == [(community, role)]
    async with city.office.read() as tx:
        assert len(await tx.roles.list_for_person(person.id)) == 2


async def test_groups_are_bound_per_bot(city: City) -> None:
    east_id = await _add_community(city.east, "EAST-1")
    west_id = await _add_community(city.west, "WEST-1")
    # One group holding both bots, each bound to its own community.
    async with city.east.transaction() as tx:
        await tx.groups.bind(-100777, east_id, "两区联席群", 1, T0)
    async with city.west.transaction() as tx:
        await tx.groups.bind(-100777, west_id, "两区联席群", 1, T0)
    for db, community in ((city.east, east_id), (city.west, west_id)):
        async with db.read() as tx:
            group = await tx.groups.find(-100777)
            assert group is not None and group.community_id == community


async def test_leases_and_sending_budgets_are_per_bot(city: City) -> None:
    async with city.east.claim() as tx:
        assert await tx.leases.acquire("leader", "east-1", T0, 30)
        assert await tx.send_slots.take("all", 10.0) == 0.0
    async with city.west.claim() as tx:
        assert await tx.leases.acquire("leader", "west-1", T0, 30), "its own leader"
        assert await tx.send_slots.take("all", 10.0) == 0.0, "its own 30 a second"
    async with city.east.claim() as tx:
        assert not await tx.leases.acquire("leader", "east-2", T0 + timedelta(seconds=1), 30)
        assert await tx.send_slots.take("all", 10.0) > 0.0


async def test_the_first_bot_adopts_what_no_bot_serves(city: City) -> None:
    unbound = await _add_community(city.office, "OLD-1")
    async with city.office.transaction() as tx:
        await tx.groups.bind(-100888, unbound, "老群", 1, T0)
        await tx.outbox.add(9, {"text": "queued before any bot"}, T0)
    async with city.east.transaction() as tx:
        adopted = await tx.bots.adopt(EAST)
        assert (adopted.communities, adopted.rows) == (1, 2)
    async with city.west.transaction() as tx:
        assert (await tx.bots.adopt(WEST)).communities == 0, "already bound to the first"
    async with city.east.read() as tx:
        assert [c.code for c in await tx.communities.list_all()] == ["OLD-1"]
        assert await tx.groups.find(-100888) is not None
        assert await tx.outbox.unsettled(T0) == 1
    async with city.office.read() as tx:
        served = await tx.bots.served()
    assert [(b.bot_id, b.codes) for b in served] == [(EAST, ("OLD-1",))]


async def test_a_community_moves_to_another_bot_with_its_groups(city: City) -> None:
    community = await _add_community(city.east, "EAST-1")
    async with city.east.transaction() as tx:
        await tx.groups.bind(-100999, community, "东区群", 1, T0)
    async with city.office.transaction() as tx:
        assert await tx.bots.bind("EAST-1", WEST) == 1
    async with city.west.read() as tx:
        assert [c.code for c in await tx.communities.list_all()] == ["EAST-1"]
        assert [g.chat_id for g in await tx.groups.list_by_community(community)] == [-100999]
    async with city.east.read() as tx:
        assert await tx.communities.list_all() == []
        assert await tx.groups.find(-100999) is None


async def test_a_one_bot_file_follows_a_new_token(city: City) -> None:
    await _add_community(city.east, "EAST-1")
    async with city.east.transaction() as tx:
        await tx.outbox.add(9, {"text": "still to send"}, T0)
    async with city.west.transaction() as tx:
        adopted = await tx.bots.adopt(WEST, everything=True)
    assert adopted.communities == 1
    async with city.west.read() as tx:
        assert [c.code for c in await tx.communities.list_all()] == ["EAST-1"]
        assert await tx.outbox.unsettled(T0) == 1, "the old bot's queue goes out"


async def _ticket(db: Database, community: int, number: str, cadre: int, reporter: int) -> int:
    async with db.transaction() as tx:
        stored = await tx.tickets.add(
            Ticket(
                id=0,
                community_id=community,
                number=number,
                source=Source.RESIDENT,
                reporter_person_id=reporter,
                category="litter",
                zone_id=None,
                building_id=None,
                site_id=None,
                lat=None,
                lon=None,
                description="",
                status=Status.ASSIGNED,
                assignee_person_id=cadre,
                created_at=T0,
                dispatched_at=T0,
                due_at=T0 + timedelta(days=7),
            ),
            None,
        )
    return stored.id


async def test_a_person_who_blocks_one_bot_is_still_reached_by_the_other(city: City) -> None:
    east_id = await _add_community(city.east, "EAST-1")
    west_id = await _add_community(city.west, "WEST-1")
    async with city.office.transaction() as tx:
        cadre = await tx.people.add("陈建国", T0, telegram_id=CADRE_TG)
        await tx.roles.grant(cadre.id, east_id, Role.CADRE, None, None, T0)
        await tx.roles.grant(cadre.id, west_id, Role.CADRE, None, None, T0)
    east_ticket = await _ticket(city.east, east_id, "E-1", cadre.id, cadre.id)
    west_ticket = await _ticket(city.west, west_id, "W-1", cadre.id, cadre.id)
    async with city.east.transaction() as tx:
        await tx.people.set_reachable(CADRE_TG, False)  # a 403 from the east bot

    async with city.east.read() as tx:
        found = await tx.people.find_by_telegram(CADRE_TG)
        assert found is not None and not found.reachable
        assert [t.id for t, _ in await tx.tickets.list_unreachable_held(east_id)] == [east_ticket]
        assert [t.id for t in await tx.tickets.list_held_by(cadre.id)] == [east_ticket]
    async with city.west.read() as tx:
        found = await tx.people.find_by_telegram(CADRE_TG)
        assert found is not None and found.reachable, "the west bot was never refused"
        assert (await tx.people.get(cadre.id)).reachable
        assert await tx.tickets.list_unreachable_held(west_id) == []
        assert [t.id for t in await tx.tickets.list_held_by(cadre.id)] == [west_ticket]

    async with city.east.transaction() as tx:
        await tx.people.set_reachable(CADRE_TG, True)  # they wrote to the east bot again
    async with city.east.read() as tx:
        assert (await tx.people.get(cadre.id)).reachable
        assert await tx.tickets.list_unreachable_held(east_id) == []


async def test_a_cadres_and_a_residents_lists_hold_only_this_bots_tickets(city: City) -> None:
    east_id = await _add_community(city.east, "EAST-1")
    west_id = await _add_community(city.west, "WEST-1")
    async with city.office.transaction() as tx:
        cadre = await tx.people.add("陈建国", T0, telegram_id=CADRE_TG)
        resident = await tx.people.add("李阿姨", T0, telegram_id=CADRE_TG + 1)
    east_ticket = await _ticket(city.east, east_id, "E-1", cadre.id, resident.id)
    west_ticket = await _ticket(city.west, west_id, "W-1", cadre.id, resident.id)
    for db, ticket in ((city.east, east_ticket), (city.west, west_ticket)):
        async with db.read() as tx:
            assert [t.id for t in await tx.tickets.list_for_assignee(cadre.id, frozenset())] == [
                ticket
            ]
            assert [t.id for t in await tx.tickets.list_for_reporter(resident.id)] == [ticket]
    async with city.office.read() as tx:
        assert len(await tx.tickets.list_for_reporter(resident.id)) == 2, "a task sees all"


@pytest.mark.sqlite_only  # the upgrade itself; PostgreSQL runs the same statements
async def test_an_upgrade_keeps_a_refusal_for_every_bot_bound_so_far(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations "
            "(number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for number, name, sql in migration_scripts("sqlite"):
            if number >= 22:
                break
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (number, name))
        conn.execute(
            "INSERT INTO communities (code, name, timezone, created_at, bot_id)"
            " VALUES ('EAST-1', 'E', 'Asia/Shanghai', 'then', ?)",
            (EAST,),
        )
        conn.execute(
            "INSERT INTO people (telegram_id, name, created_at, reachable)"
            " VALUES (7, 'blocked', 'then', 0), (8, 'fine', 'then', 1)"
        )
    db = SqliteDatabase(path)
    await db.connect()
    await db.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT u.bot_id, p.telegram_id FROM unreachable_people u"
            " JOIN people p ON p.id = u.person_id ORDER BY u.bot_id"
        ).fetchall()
    assert rows == [(0, 7), (EAST, 7)]
    async with database_for_test(path, bot_id=WEST) as west:
        async with west.transaction() as tx:
            await tx.bots.adopt(WEST)  # bot 0's refusal goes to the next bot to start
        async with west.read() as tx:
            blocked = await tx.people.find_by_telegram(7)
            assert blocked is not None and not blocked.reachable
