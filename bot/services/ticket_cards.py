"""What a ticket looks like in a message: its parameters and its buttons."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from bot import callbacks
from bot.domain import tickets as rules
from bot.domain.access import Actor
from bot.domain.models import Role
from bot.domain.tickets import (
    EventKind,
    Rating,
    RejectReason,
    Status,
    Ticket,
    split_extension_note,
)
from bot.i18n import Day, Moment
from bot.services.messages import Buttons
from storage.tickets import CardNames, StoredEvent
from storage.transaction import Transaction


def format_local(value: datetime, timezone: str) -> Moment:
    """An instant in the community's time zone, written the reader's way by ``t``."""
    return Moment.of(value, timezone)


def format_due(ticket: Ticket, timezone: str) -> Day | str:
    """The last day to fix it: the deadline is the start of the next local day."""
    if ticket.due_at is None:
        return "—"
    return Day.last_before(ticket.due_at, timezone)


def event_note(event: StoredEvent, ticket: Ticket, timezone: str) -> tuple[str, dict[str, Any]]:
    """A timeline event's note in the reader's words: a catalog key and its parameters
    (``x_key`` parameters name catalog keys). Some kinds store machine values in the note
    (a rating, a reject reason code, a deadline instant); those never reach the reader raw."""
    note = event.note
    kinds_without_note = (EventKind.DISPATCHED, EventKind.ESCALATED, EventKind.QUEUED)
    if not note or event.kind in kinds_without_note:
        return "tickets.note_none", {}
    if event.kind is EventKind.RATED:
        if note in set(Rating):
            return "tickets.note_rating", {"rating_key": f"buttons.rate_{note}"}
        return "tickets.note_none", {}
    if event.kind is EventKind.EXTENSION_GRANTED:
        try:
            due_at = datetime.fromisoformat(note)
        except ValueError:
            return "tickets.note_none", {}
        return "tickets.note_new_due", {
            "due": format_due(replace(ticket, due_at=due_at), timezone)
        }
    if event.kind is EventKind.EXTENSION_ASKED:
        days, reason = split_extension_note(note)
        if days is not None:
            return "tickets.note_extension", {"days": days, "text": reason}
    if event.kind is EventKind.REDATED:
        old, _, new = note.partition(" → ")
        try:
            return "tickets.note_redated", {
                "old": Day(date.fromisoformat(old)),
                "new": Day(date.fromisoformat(new)),
            }
        except ValueError:
            return "tickets.note_text", {"text": note}
    if event.kind is EventKind.REJECTED:
        code, _, reason = note.partition(": ")
        if code in set(RejectReason):
            return "tickets.note_rejected", {"kind_key": f"tickets.reject_{code}", "text": reason}
    return "tickets.note_text", {"text": note}


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


def actions_for(actor: Actor, ticket: Ticket) -> Buttons:
    """The buttons for what this viewer may do with the ticket now; each press is checked
    again by the service, so this only decides what is worth showing."""
    rows: list[list[tuple[str, str]]] = []
    if rules.is_handler(actor, ticket):
        rows += [list(row) for row in ticket_buttons_for_cadre(ticket)]
    if ticket.status is Status.RECTIFIED and rules.can_recheck(actor, ticket):
        rows += [list(row) for row in recheck_buttons(ticket)]
    if rules.can_rate(actor, ticket):
        rows += [list(row) for row in rating_buttons(ticket)]
    leads = actor.community_id == ticket.community_id and (
        actor.has(Role.LEADER) or actor.is_admin()
    )
    if ticket.extension_reason is not None and leads:
        rows += [list(row) for row in extension_decision_buttons(ticket)]
    return rows


def extension_decision_buttons(ticket: Ticket) -> Buttons:
    return [
        [
            ("buttons.grant", callbacks.build(callbacks.TICKET, "exy", ticket.id)),
            ("buttons.refuse", callbacks.build(callbacks.TICKET, "exn", ticket.id)),
        ]
    ]


def queue_action(ticket: Ticket) -> tuple[str, str] | None:
    """The one step a queue row offers beside opening the card: accept (``qac`` refreshes
    the list it was pressed in) or report the fix."""
    if ticket.status in (Status.ASSIGNED, Status.QUEUED):
        return "buttons.accept", callbacks.build(callbacks.TICKET, "qac", ticket.id)
    if ticket.status is Status.ACCEPTED:
        return "buttons.rectified", callbacks.build(callbacks.TICKET, "fix", ticket.id)
    return None


def open_button(ticket: Ticket) -> str:
    return callbacks.build(callbacks.TICKET, "opn", ticket.id)
