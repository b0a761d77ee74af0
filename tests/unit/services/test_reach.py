"""A cadre who cannot be reached: the admins are told once per held ticket, the admins'
queue reads it from the cadre's state, and a cadre who writes again gets their queue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Role
from bot.domain.tickets import Source, Status, Ticket
from bot.importer import load_plan
from bot.services import reach
from bot.services.container import Services
from tests.factories import SAMPLE_YAML, T0, open_services

ADMIN_TG, CADRE_TG = 900, 901


@pytest.fixture
async def services(tmp_path: Path) -> Any:
    svc = await open_services(tmp_path)
    await svc.communities.apply_plan(load_plan(SAMPLE_YAML))
    yield svc
    await svc.db.close()


async def seed(svc: Services) -> dict[Status, str]:
    """An admin, a cadre, and one ticket of the cadre's in each status; numbers by status."""
    numbers = {}
    async with svc.db.transaction() as tx:
        community = (await tx.communities.list_all())[0]
        zone = (await tx.zones.list_by_community(community.id))[0]
        admin = await tx.people.add("刘主任", T0, telegram_id=ADMIN_TG)
        await tx.roles.grant(admin.id, community.id, Role.ADMIN, None, None, T0)
        cadre = await tx.people.add("陈建国", T0, telegram_id=CADRE_TG)
        await tx.roles.grant(cadre.id, community.id, Role.CADRE, zone.id, None, T0)
        for i, status in enumerate(
            [Status.ASSIGNED, Status.ACCEPTED, Status.RECTIFIED, Status.CLOSED], start=1
        ):
            number = f"2026-{i:04d}"
            numbers[status] = number
            await tx.tickets.add(
                Ticket(
                    id=0,
                    community_id=community.id,
                    number=number,
                    source=Source.RESIDENT,
                    reporter_person_id=admin.id,
                    category="litter",
                    zone_id=zone.id,
                    building_id=None,
                    site_id=None,
                    lat=None,
                    lon=None,
                    description="",
                    status=status,
                    assignee_person_id=cadre.id,
                    created_at=T0,
                    dispatched_at=T0,
                    due_at=T0 + timedelta(days=7),
                ),
                f"seed:{i}",
            )
    return numbers


async def texts_to(svc: Services, chat_id: int) -> list[str]:
    async with svc.db.read() as tx:
        due = await tx.outbox.due(T0 + timedelta(days=1), limit=500)
    return [
        i.payload.get("text") or i.payload.get("caption") or ""
        for i in due
        if i.chat_id == chat_id
    ]


class TestPersonUnreachable:
    async def test_admins_are_told_once_for_each_ticket_in_the_cadres_hands(
        self, services: Services
    ) -> None:
        numbers = await seed(services)
        async with services.db.transaction() as tx:
            assert await reach.person_unreachable(tx, CADRE_TG, T0) == 2
        async with services.db.transaction() as tx:
            assert await reach.person_unreachable(tx, CADRE_TG, T0) == 0
        told = await texts_to(services, ADMIN_TG)
        assert len(told) == 2
        for status in (Status.ASSIGNED, Status.ACCEPTED):
            assert any(numbers[status] in t and "陈建国" in t for t in told)
        assert not any(numbers[Status.RECTIFIED] in t for t in told)

    async def test_the_admins_queue_marks_held_tickets_only_while_the_cadre_is_unreachable(
        self, services: Services
    ) -> None:
        numbers = await seed(services)
        async with services.db.read() as tx:
            community_id = (await tx.communities.list_all())[0].id
        async with services.db.transaction() as tx:
            await reach.person_unreachable(tx, CADRE_TG, T0)
        async with services.db.read() as tx:
            held = await tx.tickets.list_unreachable_held(community_id)
        assert sorted((t.number, name) for t, name in held) == [
            (numbers[Status.ASSIGNED], "陈建国"),
            (numbers[Status.ACCEPTED], "陈建国"),
        ]
        # A blocking update is no sign of life; a private message is.
        await services.people.identify(CADRE_TG, "陈建国", None, False, contact=False)
        async with services.db.read() as tx:
            assert len(await tx.tickets.list_unreachable_held(community_id)) == 2
        await services.people.identify(CADRE_TG, "陈建国", None, False)
        async with services.db.read() as tx:
            assert await tx.tickets.list_unreachable_held(community_id) == []
        (queue,) = await texts_to(services, CADRE_TG)
        assert "有 2 张工单" in queue
        assert numbers[Status.ASSIGNED] in queue and numbers[Status.ACCEPTED] in queue


class TestAssigneeOrAdmins:
    async def test_the_cadre_answers_for_an_assigned_ticket_the_admins_for_the_rest(
        self, services: Services
    ) -> None:
        await seed(services)
        async with services.db.read() as tx:
            community_id = (await tx.communities.list_all())[0].id
            cadre = await tx.people.find_by_telegram(CADRE_TG)
            assert cadre is not None
            held = await reach.assignee_or_admins(tx, community_id, cadre.id)
            unassigned = await reach.assignee_or_admins(tx, community_id, None)
        assert [p.telegram_id for p in held] == [CADRE_TG]
        assert [p.telegram_id for p in unassigned] == [ADMIN_TG]
