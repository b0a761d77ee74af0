"""An inspection (督查) of a zone and the checklist items it recorded, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Inspection:
    id: int
    community_id: int
    zone_id: int
    inspector_person_id: int
    day: date
    kind: str
    status: str
    score: float | None


@dataclass(frozen=True, slots=True)
class InspectionItem:
    site_id: int
    item_code: str
    passed: bool
    deduction: float
    photo_path: str | None
    ticket_id: int | None
