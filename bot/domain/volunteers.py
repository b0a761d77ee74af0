"""Volunteer activities: sign-up within a headcount, a waiting list, check-in and hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

CHECK_IN_EARLY = timedelta(minutes=30)
CHECK_IN_RADIUS_M = 300.0


class SignupStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Activity:
    id: int
    community_id: int
    kind: str  # clean_day | custom
    title: str
    place: str
    lat: float | None
    lon: float | None
    starts_at: datetime
    ends_at: datetime
    headcount: int
    zone_id: int | None
    cancelled: bool = False

    def check_in_open(self, now: datetime) -> bool:
        """From half an hour before the start until the end."""
        return self.starts_at - CHECK_IN_EARLY <= now <= self.ends_at


@dataclass(frozen=True, slots=True)
class Signup:
    activity_id: int
    person_id: int
    status: SignupStatus
    signed_up_at: datetime
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None


def status_for_new(confirmed: int, headcount: int) -> SignupStatus:
    """A new sign-up takes a place while one is free; otherwise it waits in line."""
    return SignupStatus.CONFIRMED if confirmed < headcount else SignupStatus.WAITLISTED


def next_in_line(signups: list[Signup]) -> Signup | None:
    """Who gets a freed place: the earliest waiting sign-up."""
    waiting = [s for s in signups if s.status is SignupStatus.WAITLISTED]
    return min(waiting, key=lambda s: (s.signed_up_at, s.person_id)) if waiting else None


def hours_served(checked_in: datetime, checked_out: datetime, activity: Activity) -> float:
    """Time on site within the activity's window, in half hours (rounded down)."""
    start = max(checked_in, activity.starts_at)
    end = min(checked_out, activity.ends_at)
    if end <= start:
        return 0.0
    half_hours = int((end - start).total_seconds() // 1800)
    return half_hours / 2


def clean_day_record_title(month: int) -> str:
    """The Clean Day activity's title as recorded (the ledger's Chinese); readers are shown
    the catalog's title in their own language."""
    return f"{month}月清洁日"
