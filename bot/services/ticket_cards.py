"""What a ticket looks like in a message: its parameters and its buttons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import callbacks
from bot.domain.tickets import Status, Ticket
from bot.i18n import Day, Moment
from bot.services.messages import Buttons
from storage.tickets import CardNames
from storage.transaction import Transaction


def format_local(value: datetime, timezone: str) -> Moment:
    """An instant in the community's time zone, written the reader's way by ``t``."""
    return Moment.of(value, timezone)


def format_due(ticket: Ticket, timezone: str) -> Day | str:
    """The last day to fix it: the deadline is the start of the next local day."""
    if ticket.due_at is None:
        return "—"
    return Day.last_before(ticket.due_at, timezone)


async def ticket_params(tx: Transaction, ticket: Ticket, timezone: str) -> dict[str, Any]:
    """Everything the ticket message templates may mention."""
    zone = await tx.zones.get(ticket.zone_id) if ticket.zone_id else None
    place = None
    if ticket.building_id:
        place = (await tx.buildings.get(ticket.building_id)).name
    elif ticket.site_id:
        place = (await tx.sites.get(ticket.site_id)).name
    reporter = await tx.people.get(ticket.reporter_person_id)
    names = CardNames(timezone, zone.name if zone else None, place, reporter.name, reporter.phone)
    return card_params(ticket, names)


def card_params(ticket: Ticket, names: CardNames) -> dict[str, Any]:
    """``ticket_params`` from names already at hand (a page of cards fetches them at once)."""
    zone = names.zone if names.zone is not None else "—"
    return {
        "number": ticket.number,
        "category": ticket.category,
        "category_key": f"categories.{ticket.category}",
        "zone": zone,
        "place": names.place or zone,
        "description": ticket.description or "—",
        "due": format_due(ticket, names.timezone),
        "supporters": ticket.supporters,
        "reporter": "—" if ticket.anonymous else names.reporter,
        "phone": names.reporter_phone if ticket.share_phone and names.reporter_phone else "—",
    }


def ticket_buttons_for_cadre(ticket: Ticket) -> Buttons:
    tid = ticket.id
    if ticket.status in (Status.ASSIGNED, Status.QUEUED):
        return [
            [("buttons.accept", callbacks.build(callbacks.TICKET, "acc", tid))],
            [
                ("buttons.transfer", callbacks.build(callbacks.TICKET, "tra", tid)),
                ("buttons.reject", callbacks.build(callbacks.TICKET, "rej", tid)),
            ],
        ]
    if ticket.status is Status.ACCEPTED:
        return [
            [("buttons.rectified", callbacks.build(callbacks.TICKET, "fix", tid))],
            [
                ("buttons.extension", callbacks.build(callbacks.TICKET, "ext", tid)),
                ("buttons.transfer", callbacks.build(callbacks.TICKET, "tra", tid)),
            ],
        ]
    return []


def recheck_buttons(ticket: Ticket) -> Buttons:
    return [
        [
            ("buttons.fixed_yes", callbacks.build(callbacks.TICKET, "ok", ticket.id)),
            ("buttons.fixed_no", callbacks.build(callbacks.TICKET, "no", ticket.id)),
        ]
    ]


def rating_buttons(ticket: Ticket) -> Buttons:
    return [
        [
            (
                "buttons.rate_satisfied",
                callbacks.build(callbacks.TICKET, "rt", ticket.id, "satisfied"),
            ),
            ("buttons.rate_fair", callbacks.build(callbacks.TICKET, "rt", ticket.id, "fair")),
            (
                "buttons.rate_unsatisfied",
                callbacks.build(callbacks.TICKET, "rt", ticket.id, "unsatisfied"),
            ),
        ]
    ]
