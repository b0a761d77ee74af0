"""满意率 counts the reporters of residents' reports, never an inspector's re-check."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.scoring import YearMonth
from bot.domain.tickets import Rating, Source, Status, Ticket
from bot.importer import load_plan
from bot.services.container import Services
from tests.factories import SAMPLE_YAML, T0, open_services

D = timedelta(days=1)


@pytest.fixture
async def services(tmp_path: Path) -> Any:
    svc = await open_services(tmp_path)
    await svc.communities.apply_plan(load_plan(SAMPLE_YAML))
    yield svc
    await svc.db.close()


async def test_rated_inspection_findings_do_not_count_toward_satisfaction(
    services: Services,
) -> None:
    async with services.db.transaction() as tx:
        community = (await tx.communities.list_all())[0]
        zone = (await tx.zones.list_by_community(community.id))[0]
        person = await tx.people.add("王芳", T0, telegram_id=701)
        # Three residents satisfied; three inspection findings carrying a rating from before
        # inspectors stopped being asked (old data must not count either).
        cases = [(Source.RESIDENT, Rating.SATISFIED)] * 3 + [
            (Source.INSPECTION, Rating.UNSATISFIED)
        ] * 3
        for i, (source, rating) in enumerate(cases):
            await tx.tickets.add(
                Ticket(
                    id=0,
                    community_id=community.id,
                    number=f"2026-{i + 1:04d}",
                    source=source,
                    reporter_person_id=person.id,
                    category="litter",
                    zone_id=zone.id,
                    building_id=None,
                    site_id=None,
                    lat=None,
                    lon=None,
                    description="",
                    status=Status.CLOSED,
                    assignee_person_id=person.id,
                    created_at=T0 - 3 * D,
                    dispatched_at=T0 - 3 * D,
                    due_at=T0 + 3 * D,
                    accepted_at=T0 - 2 * D,
                    rectified_at=T0 - D,
                    closed_at=T0,
                    rating=rating,
                ),
                f"seed:{i}",
            )
    scores = await services.scoring.compute(community.id, YearMonth(2026, 11))
    row = next(s for s in scores if s.zone_id == zone.id)
    assert row.indicators["satisfaction"] == 1.0
