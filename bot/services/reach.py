"""A cadre the bot cannot reach: the admins learn it once per ticket, and a cadre who comes
back gets the tickets that waited for them.

Whether a ticket's cadre is unreachable is read from the person's state (blocked the bot, or
never opened it), so the admins' queue needs no flag to clear: a ticket leaves it when
someone takes it over or the cadre writes to the bot again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain import keys
from bot.domain.models import Language, Person, Role
from bot.domain.tickets import Status, Ticket
from bot.i18n import Safe, t
from bot.services import messages
from bot.services.ticket_cards import format_due, ticket_buttons_for_cadre, ticket_params
from storage.transaction import Transaction

log = logging.getLogger(__name__)

HELD = frozenset({Status.ASSIGNED, Status.ACCEPTED})
QUEUE_LINES = 30  # tickets listed in a returning cadre's message


async def assignee_or_admins(
    tx: Transaction, community_id: int, assignee_person_id: int | None
) -> list[Person]:
    """Who answers for a ticket: its cadre, else (nobody assigned) the community's admins."""
    if assignee_person_id:
        return [await tx.people.get(assignee_person_id)]
    return await tx.people.list_with_role(community_id, Role.ADMIN)


def unreachable_key(ticket_id: int, person_id: int) -> str:
    """Claimed once per ticket and cadre: the admins hear of it once."""
    return keys.cadre_unreachable(ticket_id, person_id)


async def tell_admins(tx: Transaction, ticket: Ticket, cadre: Person, now: datetime) -> bool:
    """Tell the community's admins that this ticket's cadre cannot be reached (once)."""
    if ticket.status not in HELD or ticket.assignee_person_id != cadre.id:
        return False
    key = unreachable_key(ticket.id, cadre.id)
    if not await tx.occurrences.claim(key, now):
        return False
    community = await tx.communities.get(ticket.community_id)
    params = await ticket_params(tx, ticket, community.timezone)
    params["cadre"] = cadre.name
    for admin in await tx.people.list_with_role(ticket.community_id, Role.ADMIN):
        if admin.id == cadre.id:
            continue
        await messages.to_person(
            tx,
            admin,
            now,
            "tickets.cadre_unreachable",
            buttons=ticket_buttons_for_cadre(ticket),
            dedupe_key=keys.to_person(key, admin.id),
            **params,
        )
    log.info("cadre unreachable ticket_id=%s person_id=%s", ticket.id, cadre.id)
    return True


async def person_unreachable(tx: Transaction, telegram_id: int, now: datetime) -> int:
    """Record that a person cannot be reached; the admins hear of each ticket they hold."""
    await tx.people.set_reachable(telegram_id, False)
    person = await tx.people.find_by_telegram(telegram_id)
    if person is None:
        return 0
    told = 0
    for ticket in await tx.tickets.list_held_by(person.id):
        told += await tell_admins(tx, ticket, person, now)
    return told


async def send_queue(tx: Transaction, person: Person, now: datetime) -> bool:
    """Send a cadre who can be reached again the tickets that waited for them."""
    held = await tx.tickets.list_held_by(person.id)
    if not held:
        return False
    language = person.language or Language.ZH
    timezones: dict[int, str] = {}
    lines = []
    for ticket in held[:QUEUE_LINES]:
        if ticket.community_id not in timezones:
            timezones[ticket.community_id] = (
                await tx.communities.get(ticket.community_id)
            ).timezone
        lines.append(
            t(
                language,
                "tickets.back_queue_line",
                number=ticket.number,
                status=t(language, f"status.{ticket.status.value}"),
                category=t(language, f"categories.{ticket.category}"),
                due=format_due(ticket, timezones[ticket.community_id]),
            )
        )
    return await messages.to_person(
        tx,
        person,
        now,
        "tickets.back_queue",
        count=len(held),
        tickets=Safe("\n".join(lines)),
    )
