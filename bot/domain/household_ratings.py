"""A household or shop rating (文明卫生户 / 文明卫生门店) on its way from nomination to
publication; not the resident's rating of a ticket (``bot.domain.tickets.Rating``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HouseholdRating:
    id: int
    community_id: int
    kind: str
    name: str
    zone_id: int | None
    month: str
    status: str
    nominated_by: int
    self_applied: bool
    notice_until: datetime | None
