"""Ticket lists (/tickets, /my, /recheck): one page, in the same order and with the same
card parameters as one ticket's messages get from ``ticket_params``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.domain.access import Actor
from bot.domain.models import Language, Role, RoleGrant
from bot.domain.tickets import ACTIVE_STATUSES, Source, Status, Ticket
from bot.importer import load_plan
from bot.services.container import Services
from bot.services.ticket_cards import ticket_params
from bot.services.tickets import PAGE_SIZE
from tests.factories import SAMPLE_YAML, T0, open_services

D = timedelta(days=1)


@pytest.fixture
async def services(tmp_path: Path) -> Any:
    svc = await open_services(tmp_path)
    await svc.communities.apply_plan(load_plan(SAMPLE_YAML))
    yield svc
    await svc.db.close()


async def seed(svc: Services, count: int) -> tuple[int, int, int]:
    """``count`` tickets with every kind of place and reporter; returns the community,
    a zone and a person for the actors."""
    async with svc.db.transaction() as tx:
        community = (await tx.communities.list_all())[0]
        zones = await tx.zones.list_by_community(community.id)
        buildings = await tx.buildings.list_by_community(community.id)
        sites = await tx.sites.list_by_community(community.id)
        named = await tx.people.add("王芳", T0, telegram_id=701, phone="13800000000")
        plain = await tx.people.add("赵强", T0, telegram_id=702, language=Language.EN)
        statuses = [*sorted(ACTIVE_STATUSES), Status.CLOSED]
        for i in range(count):
            zone = zones[i % len(zones)] if i % 7 else None
            kind = i % 3
            await tx.tickets.add(
                Ticket(
                    id=0,
                    community_id=community.id,
                    number=f"2026-{i + 1:04d}",
                    source=Source.RESIDENT,
                    reporter_person_id=(named if i % 2 else plain).id,
                    category="litter",
                    zone_id=zone.id if zone else None,
                    building_id=buildings[i % len(buildings)].id if zone and kind == 0 else None,
                    site_id=sites[i % len(sites)].id if zone and kind == 1 else None,
                    lat=None,
                    lon=None,
                    description="" if i % 4 else f"问题{i}",
                    status=statuses[i % len(statuses)],
                    assignee_person_id=named.id if i % 2 == 0 else None,
                    created_at=T0 - 20 * D,
                    dispatched_at=T0 - 20 * D,
                    # Repeated deadlines and undated tickets test the tie-break and NULLs last.
                    due_at=None if i % 5 == 0 else T0 - (i % 9) * D,
                    anonymous=i % 4 == 1,
                    share_phone=i % 3 == 2,
                ),
                f"seed:{i}",
            )
    return community.id, zones[0].id, named.id


async def expected(svc: Services, tickets: list[Ticket]) -> list[tuple[Ticket, dict[str, Any]]]:
    """What the lists showed before: ticket_params, ticket by ticket."""
    async with svc.db.read() as tx:
        out = []
        for ticket in tickets:
            community = await tx.communities.get(ticket.community_id)
            out.append((ticket, await ticket_params(tx, ticket, community.timezone)))
        return out


async def test_admin_queue_is_the_first_page_of_all_active_tickets(services: Services) -> None:
    community_id, _, person_id = await seed(services, 60)
    admin = Actor(person_id, 701, community_id, (), super_admin=True)
    async with services.db.read() as tx:
        everything = await tx.tickets.list_by_status(community_id, ACTIVE_STATUSES)
    assert len(everything) > PAGE_SIZE
    assert await services.tickets.queue(admin) == await expected(services, everything[:PAGE_SIZE])


async def test_cadre_queue_is_the_first_page_of_their_tickets(services: Services) -> None:
    community_id, zone_id, person_id = await seed(services, 120)
    grant = RoleGrant(person_id, community_id, Role.CADRE, zone_id)
    cadre = Actor(person_id, 701, community_id, (grant,))
    async with services.db.read() as tx:
        theirs = await tx.tickets.list_for_assignee(person_id, cadre.cadre_zone_ids())
    assert len(theirs) > PAGE_SIZE
    assert await services.tickets.queue(cadre) == await expected(services, theirs[:PAGE_SIZE])


async def test_mine_and_recheck_cards_match_ticket_params(services: Services) -> None:
    community_id, _, person_id = await seed(services, 40)
    _, person = await services.people.identify(701, "王芳", None, False)
    async with services.db.read() as tx:
        own = await tx.tickets.list_for_reporter(person.id)
        rectified = await tx.tickets.list_by_status(community_id, frozenset({Status.RECTIFIED}))
    assert await services.tickets.mine(person) == await expected(services, own)
    inspector = Actor(person_id, 701, community_id, (), super_admin=True)
    assert await services.tickets.recheck_queue(inspector) == await expected(
        services, rectified[:PAGE_SIZE]
    )


@pytest.mark.sqlite_only
async def test_a_page_costs_three_statements_whatever_its_length(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    community_id, _, person_id = await seed(services, 60)
    admin = Actor(person_id, 701, community_id, (), super_admin=True)
    sent: list[str] = []
    original = aiosqlite.Connection.execute_fetchall

    async def counting(self: aiosqlite.Connection, sql: str, params: Any = None) -> Any:
        sent.append(sql)
        return await original(self, sql, params)

    monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", counting)
    page = await services.tickets.queue(admin)
    assert len(page) == PAGE_SIZE
    # Tickets whose cadre cannot be reached (first in an admin's queue), the page, and the
    # names on its cards.
    assert len(sent) == 3
