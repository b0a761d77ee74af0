"""Working a ticket: accept, transfer, reject, rectify, re-check, rate, extensions, views.

Every action reloads the ticket and lets the domain check the actor against its current
state, so a forged or stale button changes nothing. Each action and the messages it
causes are one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import keys, prompts
from bot.domain import tickets as rules
from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.models import Person, Role, Zone
from bot.domain.reports import DraftPhoto
from bot.domain.tickets import Event, Rating, RejectReason, Status, Ticket
from bot.services import messages, reach
from bot.services.base import Service
from bot.services.messages import Buttons
from bot.services.reports import community_calendar
from bot.services.ticket_cards import (
    actions_for,
    card_params,
    extension_decision_buttons,
    rating_buttons,
    recheck_buttons,
    ticket_buttons_for_cadre,
    ticket_params,
)
from storage.tickets import StoredEvent, TicketPhoto
from storage.transaction import Transaction

log = logging.getLogger(__name__)

PAGE_SIZE = 30  # tickets a list shows


@dataclass(frozen=True, slots=True)
class Timeline:
    ticket: Ticket
    params: dict[str, Any]
    events: list[StoredEvent]
    photos: list[TicketPhoto]
    people: dict[int, str]
    timezone: str  # the community's: event times are shown in it
    actions: Buttons  # what the viewer may do with it now


class TicketService(Service):
    async def get_for(self, actor: Actor, ticket_id: int) -> Ticket:
        async with self.db.read() as tx:
            ticket = await tx.tickets.get(ticket_id)
        if not rules.can_view(actor, ticket):
            raise NotAllowed("tickets.not_yours")
        return ticket

    async def accept(self, actor: Actor, ticket_id: int) -> Ticket:
        """签收: the cadre takes the ticket."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            now = self.clock.now()
            ticket, events = rules.accept(ticket, actor, now)
            await self._record(tx, ticket, events)
            params = await self._params(tx, ticket)
            # Accepted after its deadline: the reporter is not given a date already past.
            key = (
                "tickets.to_reporter_accepted_overdue"
                if ticket.overdue_at(now)
                else "tickets.to_reporter_accepted"
            )
            await self._tell_followers(tx, ticket, key, params)
        self._wake_outbox()
        return ticket

    async def transfer_targets(self, actor: Actor, ticket_id: int) -> list[Zone]:
        async with self.db.read() as tx:
            ticket = await tx.tickets.get(ticket_id)
            if not rules.is_handler(actor, ticket):
                raise NotAllowed("tickets.not_yours")
            zones = await tx.zones.list_by_community(ticket.community_id)
        return [z for z in zones if z.id != ticket.zone_id]

    async def transfer(
        self, actor: Actor, ticket_id: int, zone_id: int | None, reason: str
    ) -> Ticket:
        """Hand to another zone's responsible cadre, or back to the admins (zone None)."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            assignee = None
            if zone_id is not None:
                zone = await tx.zones.get(zone_id)
                if zone.community_id != ticket.community_id:
                    raise NotAllowed("tickets.not_yours")
                assignee = zone.responsible_person_id
            now = self.clock.now()
            ticket, events = rules.transfer(ticket, actor, now, reason, zone_id, assignee)
            await self._record(tx, ticket, events)
            await tx.prompts.clear(actor.person_id)
            params = await self._params(tx, ticket)
            params["reason"] = events[-1].note
            targets = await reach.assignee_or_admins(tx, ticket.community_id, assignee)
            for person in targets:
                reached = await messages.to_person(
                    tx,
                    person,
                    now,
                    "tickets.transferred_to_you",
                    buttons=ticket_buttons_for_cadre(ticket),
                    photo=await _before_photo(tx, ticket),
                    dedupe_key=keys.transfer(ticket.id, ticket.version, person.id),
                    **params,
                )
                if not reached:
                    await reach.tell_admins(tx, ticket, person, now)
            await self._tell_followers(tx, ticket, "tickets.to_reporter_transferred", params)
        self._wake_outbox()
        return ticket

    async def reject(
        self, actor: Actor, ticket_id: int, kind: RejectReason, reason: str
    ) -> Ticket:
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            now = self.clock.now()
            ticket, events = rules.reject(ticket, actor, now, kind, reason)
            await self._record(tx, ticket, events)
            await tx.prompts.clear(actor.person_id)
            params = await self._params(tx, ticket)
            params["reason"] = " ".join(reason.split())[:500]
            params["kind_key"] = f"tickets.reject_{kind.value}"
            await self._tell_followers(tx, ticket, "tickets.to_reporter_rejected", params)
        self._wake_outbox()
        return ticket

    async def rectify(self, actor: Actor, ticket_id: int, photo: DraftPhoto, note: str) -> Ticket:
        """已整改: the fix with its after-photo; the reporter is asked to confirm."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            now = self.clock.now()
            ticket, events = rules.rectify(ticket, actor, now, note)
            await self._record(tx, ticket, events)
            await tx.tickets.add_photo(
                ticket.id, "after", photo.sha256, photo.path, photo.file_id, now
            )
            await tx.prompts.clear(actor.person_id)
            params = await self._params(tx, ticket)
            params["note"] = events[-1].note or "—"
            reporter = await tx.people.get(ticket.reporter_person_id)
            await messages.to_person(
                tx,
                reporter,
                now,
                "tickets.to_reporter_rectified",
                buttons=recheck_buttons(ticket),
                photo=photo.path,
                dedupe_key=keys.rectified(ticket.id, ticket.version),
                **params,
            )
            for supporter_id in await tx.tickets.supporters(ticket.id):
                supporter = await tx.people.get(supporter_id)
                await messages.to_person(
                    tx,
                    supporter,
                    now,
                    "tickets.to_supporter_rectified",
                    photo=photo.path,
                    dedupe_key=keys.rectified(ticket.id, ticket.version, supporter_id),
                    **params,
                )
        self._wake_outbox()
        return ticket

    async def confirm(self, actor: Actor, ticket_id: int) -> Ticket:
        """回头看 passed → 销号; the reporter is asked to rate the handling."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            now = self.clock.now()
            ticket, events = rules.confirm(ticket, actor, now)
            await self._record(tx, ticket, events)
            params = await self._params(tx, ticket)
            reporter = await tx.people.get(ticket.reporter_person_id)
            if rules.is_rated(ticket):
                await messages.to_person(
                    tx,
                    reporter,
                    now,
                    "tickets.to_reporter_closed",
                    buttons=rating_buttons(ticket),
                    dedupe_key=keys.closed(ticket.id),
                    **params,
                )
            elif reporter.id != actor.person_id:
                # The inspector who found it hears that it is closed; there is nothing to rate.
                await messages.to_person(
                    tx,
                    reporter,
                    now,
                    "tickets.to_finder_closed",
                    dedupe_key=keys.closed(ticket.id),
                    **params,
                )
            if ticket.assignee_person_id:
                cadre = await tx.people.get(ticket.assignee_person_id)
                await messages.to_person(tx, cadre, now, "tickets.to_cadre_closed", **params)
            await self._tell_supporters(tx, ticket, "tickets.to_supporter_closed", params)
        self._wake_outbox()
        return ticket

    async def reopen(
        self, actor: Actor, ticket_id: int, reason: str, photo: DraftPhoto | None
    ) -> Ticket:
        """A failed re-check: back to the cadre with a fresh deadline."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            now = self.clock.now()
            community = await tx.communities.get(ticket.community_id)
            settings = await tx.communities.rules(ticket.community_id)
            calendar = await community_calendar(tx, ticket.community_id)
            due = calendar.deadline_instant(
                now, settings.rectify_workdays, ZoneInfo(community.timezone)
            )
            ticket, events = rules.reopen(ticket, actor, now, reason, due)
            await self._record(tx, ticket, events)
            if photo is not None:
                await tx.tickets.add_photo(
                    ticket.id, "recheck", photo.sha256, photo.path, photo.file_id, now
                )
            await tx.prompts.clear(actor.person_id)
            params = await self._params(tx, ticket)
            params["reason"] = events[-1].note
            targets = await reach.assignee_or_admins(
                tx, ticket.community_id, ticket.assignee_person_id
            )
            for person in targets:
                reached = await messages.to_person(
                    tx,
                    person,
                    now,
                    "tickets.to_cadre_reopened",
                    buttons=ticket_buttons_for_cadre(ticket),
                    photo=photo.path if photo else None,
                    dedupe_key=keys.reopened(ticket.id, ticket.version, person.id),
                    **params,
                )
                if not reached:
                    await reach.tell_admins(tx, ticket, person, now)
            if actor.person_id != ticket.reporter_person_id:
                await self._tell_followers(tx, ticket, "tickets.to_reporter_reopened", params)
        self._wake_outbox()
        return ticket

    async def rate(self, actor: Actor, ticket_id: int, rating: Rating) -> Ticket:
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            ticket, events = rules.rate(ticket, actor, self.clock.now(), rating)
            await self._record(tx, ticket, events)
        return ticket

    async def start_extension(self, actor: Actor, ticket_id: int) -> Ticket:
        """The cadre is about to ask for more time: the next answer is the working days."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            rules.can_ask_extension(actor, ticket)
            await tx.prompts.put(
                actor.person_id, prompts.ask(prompts.ExtensionDays(ticket_id), self.clock.now())
            )
        return ticket

    async def choose_extension_days(self, actor: Actor, ticket_id: int, days: int) -> Ticket:
        """The days are chosen; the next answer is the reason."""
        rules.check_extension_days(days)
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            rules.can_ask_extension(actor, ticket)
            await tx.prompts.put(
                actor.person_id,
                prompts.ask(prompts.ExtensionReason(ticket_id, days), self.clock.now()),
            )
        return ticket

    async def ask_extension(self, actor: Actor, ticket_id: int, reason: str, days: int) -> Ticket:
        """The request goes to the leaders with the days asked for and the reason."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            now = self.clock.now()
            ticket, events = rules.ask_extension(ticket, actor, now, reason, days)
            await self._record(tx, ticket, events)
            await tx.prompts.clear(actor.person_id)
            params = await self._params(tx, ticket)
            params["reason"] = ticket.extension_reason
            params["days"] = days
            buttons = extension_decision_buttons(ticket)
            for leader in await tx.people.list_with_role(ticket.community_id, Role.LEADER):
                await messages.to_person(
                    tx,
                    leader,
                    now,
                    "tickets.extension_asked",
                    buttons=buttons,
                    dedupe_key=keys.extension(ticket.id, ticket.version, leader.id),
                    **params,
                )
        self._wake_outbox()
        return ticket

    async def decide_extension(self, actor: Actor, ticket_id: int, grant: bool) -> Ticket:
        """Grant adds the working days the cadre asked for to the current deadline and tells
        the reporter the new date; a request from before days were asked gets the
        community's rectify period."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            now = self.clock.now()
            new_due = None
            if grant and ticket.due_at is not None:
                community = await tx.communities.get(ticket.community_id)
                settings = await tx.communities.rules(ticket.community_id)
                calendar = await community_calendar(tx, ticket.community_id)
                days = ticket.extension_days or settings.rectify_workdays
                # The old deadline is the start of a day; extend from the day before it.
                base = ticket.due_at - timedelta(microseconds=1)
                new_due = calendar.deadline_instant(base, days, ZoneInfo(community.timezone))
            ticket, events = rules.decide_extension(ticket, actor, now, new_due)
            await self._record(tx, ticket, events)
            params = await self._params(tx, ticket)
            if ticket.assignee_person_id:
                cadre = await tx.people.get(ticket.assignee_person_id)
                key = "tickets.extension_granted" if grant else "tickets.extension_refused"
                await messages.to_person(tx, cadre, now, key, **params)
            if new_due is not None:
                await self._tell_followers(tx, ticket, "tickets.to_reporter_extended", params)
        self._wake_outbox()
        return ticket

    async def ask_transfer_reason(
        self, actor: Actor, ticket_id: int, zone_id: int | None
    ) -> Ticket:
        """The zone is chosen (None: back to the admins); the next text is the reason."""
        return await self._ask(actor, ticket_id, prompts.TransferReason(ticket_id, zone_id))

    async def ask_reject_reason(self, actor: Actor, ticket_id: int, kind: RejectReason) -> Ticket:
        return await self._ask(actor, ticket_id, prompts.RejectWhy(ticket_id, kind))

    async def ask_after_photo(self, actor: Actor, ticket_id: int) -> Ticket:
        return await self._ask(actor, ticket_id, prompts.AfterPhoto(ticket_id))

    async def ask_reopen_reason(self, actor: Actor, ticket_id: int) -> Ticket:
        """The re-check failed: the next message says why (a photo may show it)."""
        return await self._ask(actor, ticket_id, prompts.ReopenReason(ticket_id))

    async def _ask(self, actor: Actor, ticket_id: int, payload: prompts.Payload) -> Ticket:
        """Remember that the next message from this person answers a question about a ticket."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            allowed = (
                rules.can_recheck(actor, ticket)
                if isinstance(payload, prompts.ReopenReason)
                else rules.is_handler(actor, ticket)
            )
            if not allowed:
                raise NotAllowed("tickets.not_yours")
            await tx.prompts.put(actor.person_id, prompts.ask(payload, self.clock.now()))
        return ticket

    async def queue(self, actor: Actor) -> list[tuple[Ticket, dict[str, Any]]]:
        """A cadre's (or admin's) open tickets, overdue first, then by due date."""
        if not (actor.has(Role.CADRE) or actor.is_admin()):
            raise NotAllowed()
        async with self.db.read() as tx:
            if actor.is_admin() and actor.community_id is not None:
                # Tickets whose cadre cannot be reached come first: nobody else will see them.
                stuck = dict(
                    (t.id, (t, name))
                    for t, name in await tx.tickets.list_unreachable_held(
                        actor.community_id, PAGE_SIZE
                    )
                )
                rest = await tx.tickets.list_by_status(
                    actor.community_id, rules.ACTIVE_STATUSES, PAGE_SIZE
                )
                found = [t for t, _ in stuck.values()]
                found += [t for t in rest if t.id not in stuck][: PAGE_SIZE - len(found)]
                cards = await _cards(tx, found)
                for ticket, params in cards:
                    if ticket.id in stuck:
                        params["unreachable_cadre"] = stuck[ticket.id][1]
                return cards
            found = await tx.tickets.list_for_assignee(
                actor.person_id, actor.cadre_zone_ids(), PAGE_SIZE
            )
            return await _cards(tx, found)

    async def mine(self, person: Person) -> list[tuple[Ticket, dict[str, Any]]]:
        async with self.db.read() as tx:
            return await _cards(tx, await tx.tickets.list_for_reporter(person.id))

    async def recheck_queue(self, actor: Actor) -> list[tuple[Ticket, dict[str, Any]]]:
        if actor.community_id is None or not (
            actor.has(Role.INSPECTOR) or actor.is_admin() or actor.has(Role.LEADER)
        ):
            raise NotAllowed()
        async with self.db.read() as tx:
            found = await tx.tickets.list_by_status(
                actor.community_id, frozenset({Status.RECTIFIED}), PAGE_SIZE
            )
            return await _cards(tx, found)

    async def timeline(self, actor: Actor, number: str) -> Timeline:
        """A ticket by its number; a bare sequence number (``1``) means this year's
        (``2026-0001``), the year being the community's local one."""
        if actor.community_id is None:
            raise InvalidInput("start.pick_community_first")
        number = number.strip().lstrip("#")
        async with self.db.read() as tx:
            if number.isascii() and number.isdigit() and len(number) <= 6:
                community = await tx.communities.get(actor.community_id)
                year = self.clock.now().astimezone(ZoneInfo(community.timezone)).year
                number = rules.format_number(year, int(number))
            ticket = await tx.tickets.find_by_number(actor.community_id, number)
            if ticket is None:
                raise NotFound("tickets.not_found")
            return await self._timeline(tx, actor, ticket)

    async def timeline_of(self, actor: Actor, ticket_id: int) -> Timeline:
        """A ticket by its id, from a button."""
        async with self.db.read() as tx:
            return await self._timeline(tx, actor, await tx.tickets.get(ticket_id))

    async def _timeline(self, tx: Transaction, actor: Actor, ticket: Ticket) -> Timeline:
        if not rules.can_view(actor, ticket):
            raise NotAllowed("tickets.not_yours")
        events = await tx.tickets.events(ticket.id)
        photos = await tx.tickets.photos(ticket.id)
        names: dict[int, str] = {}
        for event in events:
            if event.actor_person_id and event.actor_person_id not in names:
                names[event.actor_person_id] = (await tx.people.get(event.actor_person_id)).name
        if ticket.anonymous and not (
            actor.is_admin() or actor.person_id == ticket.reporter_person_id
        ):
            names[ticket.reporter_person_id] = "—"
        community = await tx.communities.get(ticket.community_id)
        return Timeline(
            ticket,
            await self._params(tx, ticket),
            events,
            photos,
            names,
            community.timezone,
            actions_for(actor, ticket),
        )

    async def _record(self, tx: Transaction, ticket: Ticket, events: list[Event]) -> None:
        await tx.tickets.save(ticket)
        await tx.tickets.add_events(ticket.id, events)
        log.info(
            "ticket changed ticket_id=%s status=%s version=%s",
            ticket.id,
            ticket.status.value,
            ticket.version,
        )

    async def _params(self, tx: Transaction, ticket: Ticket) -> dict[str, Any]:
        community = await tx.communities.get(ticket.community_id)
        return await ticket_params(tx, ticket, community.timezone)

    async def _tell_followers(
        self, tx: Transaction, ticket: Ticket, key: str, params: dict[str, Any]
    ) -> None:
        reporter = await tx.people.get(ticket.reporter_person_id)
        await messages.to_person(
            tx,
            reporter,
            self.clock.now(),
            key,
            dedupe_key=keys.reporter_news(key, ticket.id, ticket.version),
            **params,
        )
        await self._tell_supporters(tx, ticket, key, params)

    async def _tell_supporters(
        self, tx: Transaction, ticket: Ticket, key: str, params: dict[str, Any]
    ) -> None:
        for supporter_id in await tx.tickets.supporters(ticket.id):
            supporter = await tx.people.get(supporter_id)
            await messages.to_person(
                tx,
                supporter,
                self.clock.now(),
                key,
                dedupe_key=keys.reporter_news(key, ticket.id, ticket.version, supporter_id),
                **params,
            )


async def _cards(tx: Transaction, found: list[Ticket]) -> list[tuple[Ticket, dict[str, Any]]]:
    """A page of tickets with their card parameters: the names in one statement, not four
    lookups per ticket."""
    names = await tx.tickets.card_names([t.id for t in found])
    return [(t, card_params(t, names[t.id])) for t in found]


async def _before_photo(tx: Transaction, ticket: Ticket) -> str | None:
    photos = await tx.tickets.photos(ticket.id, "before")
    return photos[0].path if photos else None
