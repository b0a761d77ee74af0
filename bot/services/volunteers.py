"""Volunteer activities: Clean Day each month, others made by admins and cadres; sign-up
with a waiting list, check-in on site, check-out and hours served."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain import keys, prompts
from bot.domain.access import Actor
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.geo import distance_m
from bot.domain.models import Person, Role
from bot.domain.schedule import clean_day
from bot.domain.volunteers import (
    CHECK_IN_RADIUS_M,
    Activity,
    Signup,
    SignupStatus,
    clean_day_record_title,
    hours_served,
    next_in_line,
    status_for_new,
)
from bot.i18n import ByLanguage, Month, Safe, Span, t
from bot.services import messages
from bot.services.base import Service
from storage.transaction import Transaction

log = logging.getLogger(__name__)

CLEAN_DAY_HOURS = (time(8, 30), time(11, 0))
CLEAN_DAY_HEADCOUNT = 30
SIGNUP_PREFIX = "vol_"


@dataclass(frozen=True, slots=True)
class SignupResult:
    activity: Activity
    status: SignupStatus
    position: int  # place in the waiting list (0 when confirmed)
    already: bool


@dataclass(frozen=True, slots=True)
class Roster:
    activity: Activity
    confirmed: list[tuple[Person, Signup, float]]
    waiting: list[tuple[Person, Signup]]


class VolunteerService(Service):
    async def ensure_clean_day(
        self, tx: Transaction, community_id: int, year: int, month: int
    ) -> Activity:
        """The month's Clean Day activity, created on first need (and only once)."""
        key = keys.clean_day_series(community_id, year, month)
        found = await tx.activities.find_series(key)
        if found is not None:
            return found
        community = await tx.communities.get(community_id)
        rules = await tx.communities.rules(community_id)
        tz = ZoneInfo(community.timezone)
        day = clean_day(year, month, rules.clean_day)
        start = datetime.combine(day, CLEAN_DAY_HOURS[0], tz)
        end = datetime.combine(day, CLEAN_DAY_HOURS[1], tz)
        sites = await tx.sites.list_by_community(community_id)
        place = sites[0] if sites else None
        activity = Activity(
            0,
            community_id,
            "clean_day",
            clean_day_record_title(month),
            place.name if place else community.name,
            place.lat if place else None,
            place.lon if place else None,
            start,
            end,
            CLEAN_DAY_HEADCOUNT,
            None,
        )
        return await tx.activities.add(activity, None, self.clock.now(), key)

    async def create(
        self,
        actor: Actor,
        title: str,
        place: str,
        starts_at: datetime,
        hours: float,
        headcount: int,
    ) -> Activity:
        """Admins and cadres create activities (title, place, time, headcount)."""
        if actor.community_id is None:
            raise InvalidInput("start.pick_community_first")
        if not (actor.is_admin() or actor.has(Role.CADRE)):
            raise NotAllowed()
        if not 1 <= headcount <= 500 or not 0.5 <= hours <= 12:
            raise InvalidInput("volunteer.usage_new")
        if starts_at <= self.clock.now():
            raise InvalidInput("volunteer.in_the_past")
        if starts_at > self.clock.now() + timedelta(days=366):
            raise InvalidInput("volunteer.too_far_ahead")
        title, place = " ".join(title.split())[:64], " ".join(place.split())[:64]
        if not title or not place:
            raise InvalidInput("volunteer.usage_new")
        async with self.db.transaction() as tx:
            zone_id = next(iter(sorted(actor.cadre_zone_ids())), None)
            activity = Activity(
                0,
                actor.community_id,
                "custom",
                title,
                place,
                None,
                None,
                starts_at,
                starts_at + timedelta(hours=hours),
                headcount,
                zone_id,
            )
            return await tx.activities.add(activity, actor.person_id, self.clock.now(), None)

    async def upcoming(self, community_id: int) -> list[Activity]:
        async with self.db.transaction() as tx:
            now = self.clock.now()
            community = await tx.communities.get(community_id)
            local = now.astimezone(ZoneInfo(community.timezone))
            await self.ensure_clean_day(tx, community_id, local.year, local.month)
            return await tx.activities.list_upcoming(community_id, now)

    async def sign_up(self, person: Person, activity_id: int) -> SignupResult:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            activity = await tx.activities.get(activity_id)
            if person.community_id != activity.community_id:
                raise NotAllowed("errors.not_your_community")
            if activity.cancelled or activity.ends_at <= now:
                raise InvalidInput("volunteer.closed")
            existing = await tx.activities.signup(activity_id, person.id)
            if existing is not None and existing.status is not SignupStatus.CANCELLED:
                return SignupResult(
                    activity, existing.status, await self._position(tx, existing), True
                )
            confirmed = await tx.activities.count_confirmed(activity_id)
            status = status_for_new(confirmed, activity.headcount)
            signup = Signup(activity_id, person.id, status, now)
            await tx.activities.put_signup(signup)
            await tx.roles.grant(person.id, activity.community_id, Role.VOLUNTEER, None, None, now)
            position = await self._position(tx, signup)
        log.info("volunteer signed up activity_id=%s status=%s", activity_id, status.value)
        return SignupResult(activity, status, position, False)

    async def cancel(self, person: Person, activity_id: int) -> Activity:
        """Give up a place; the first in the waiting list gets it and is told."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            activity = await tx.activities.get(activity_id)
            signup = await tx.activities.signup(activity_id, person.id)
            if signup is None or signup.status is SignupStatus.CANCELLED:
                raise NotFound("volunteer.not_signed_up")
            await tx.activities.put_signup(replace(signup, status=SignupStatus.CANCELLED))
            if signup.status is SignupStatus.CONFIRMED:
                promoted = next_in_line(await tx.activities.signups(activity_id))
                if promoted is not None:
                    await tx.activities.put_signup(
                        replace(promoted, status=SignupStatus.CONFIRMED)
                    )
                    lucky = await tx.people.get(promoted.person_id)
                    await messages.to_person(
                        tx,
                        lucky,
                        now,
                        "volunteer.promoted",
                        title=title_of(activity),
                        when=_when(activity, await _tz(tx, activity)),
                        dedupe_key=keys.promoted(activity_id, lucky.id),
                    )
        self._wake_outbox()
        return activity

    async def check_in(
        self,
        person: Person,
        activity_id: int,
        lat: float | None = None,
        lon: float | None = None,
        with_photo: bool = False,
    ) -> Activity:
        """On site (a location near the place, or a photo), within the activity's window."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            activity = await tx.activities.get(activity_id)
            signup = await tx.activities.signup(activity_id, person.id)
            if signup is None or signup.status is not SignupStatus.CONFIRMED:
                raise NotAllowed("volunteer.not_signed_up")
            if not activity.check_in_open(now):
                raise InvalidInput("volunteer.check_in_closed")
            if signup.checked_in_at is not None:
                raise Conflict("volunteer.already_checked_in")
            if not with_photo:
                if lat is None or lon is None:
                    raise InvalidInput("volunteer.check_in_how")
                far = (
                    activity.lat is not None
                    and activity.lon is not None
                    and distance_m(lat, lon, activity.lat, activity.lon) > CHECK_IN_RADIUS_M
                )
                if far:
                    raise InvalidInput("volunteer.too_far", metres=int(CHECK_IN_RADIUS_M))
            await tx.activities.put_signup(replace(signup, checked_in_at=now))
            await tx.prompts.clear(person.id)
        return activity

    async def ask_check_in(self, person: Person, activity_id: int) -> None:
        """The volunteer's next message (a location or a photo) checks them in."""
        async with self.db.transaction() as tx:
            await tx.prompts.put(
                person.id, prompts.ask(prompts.CheckIn(activity_id), self.clock.now())
            )

    async def check_out(self, person: Person, activity_id: int) -> float:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            activity = await tx.activities.get(activity_id)
            signup = await tx.activities.signup(activity_id, person.id)
            if signup is None or signup.checked_in_at is None:
                raise InvalidInput("volunteer.not_checked_in")
            if signup.checked_out_at is not None:
                raise Conflict("volunteer.already_checked_out")
            hours = hours_served(signup.checked_in_at, now, activity)
            await tx.activities.put_signup(replace(signup, checked_out_at=now), hours)
        return hours

    async def mine(self, person: Person) -> tuple[list[tuple[Activity, Signup, float]], float]:
        async with self.db.read() as tx:
            return await tx.activities.for_person(person.id), await tx.activities.total_hours(
                person.id
            )

    async def roster(self, actor: Actor, activity_id: int) -> Roster:
        async with self.db.read() as tx:
            activity = await tx.activities.get(activity_id)
            if actor.community_id != activity.community_id or not (
                actor.is_admin() or actor.has(Role.CADRE) or actor.has(Role.LEADER)
            ):
                raise NotAllowed()
            confirmed, waiting = [], []
            for signup in await tx.activities.signups(activity_id):
                person = await tx.people.get(signup.person_id)
                if signup.status is SignupStatus.CONFIRMED:
                    hours = 0.0
                    if signup.checked_in_at and signup.checked_out_at:
                        hours = hours_served(signup.checked_in_at, signup.checked_out_at, activity)
                    confirmed.append((person, signup, hours))
                elif signup.status is SignupStatus.WAITLISTED:
                    waiting.append((person, signup))
        return Roster(activity, confirmed, waiting)

    async def set_named(self, person: Person, named: bool) -> None:
        async with self.db.transaction() as tx:
            await tx.activities.set_named(person.id, named)

    async def _position(self, tx: Transaction, signup: Signup) -> int:
        if signup.status is not SignupStatus.WAITLISTED:
            return 0
        waiting = [
            s
            for s in await tx.activities.signups(signup.activity_id)
            if s.status is SignupStatus.WAITLISTED
        ]
        return 1 + [s.person_id for s in waiting].index(signup.person_id)


async def _tz(tx: Transaction, activity: Activity) -> ZoneInfo:
    return ZoneInfo((await tx.communities.get(activity.community_id)).timezone)


def _when(activity: Activity, tz: ZoneInfo) -> Span:
    return Span(activity.starts_at.astimezone(tz), activity.ends_at.astimezone(tz))


def title_of(activity: Activity) -> str | ByLanguage:
    """An activity's title; Clean Day's is ours to write, so it follows the reader."""
    if activity.kind != "clean_day":
        return activity.title
    month = Month(activity.starts_at.year, activity.starts_at.month)
    return ByLanguage.of(lambda lang: Safe(t(lang, "volunteer.clean_day_title", month=month)))


def when(activity: Activity, timezone: str) -> Span:
    """How an activity's time is shown: 12月18日 08:30–11:00 / Fri 18 Dec 08:30–11:00."""
    return _when(activity, ZoneInfo(timezone))
