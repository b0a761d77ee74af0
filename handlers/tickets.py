"""Working tickets: the cadre's buttons, re-check and rating, /tickets, /my, /ticket N.

Buttons carry only a ticket id; the service reloads the ticket and re-checks the actor
and state every time (see docs/flows/tickets.mmd).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.domain.access import Actor
from bot.domain.errors import InvalidInput
from bot.domain.tickets import (
    EXTENSION_DAY_CHOICES,
    MAX_EXTENSION_DAYS,
    Rating,
    RejectReason,
    Ticket,
)
from bot.i18n import Day, Safe
from bot.keyboards import inline
from bot.services.messages import localized
from bot.services.ticket_cards import (
    event_note,
    format_due,
    format_local,
    open_button,
    queue_action,
    recheck_buttons,
    ticket_buttons_for_cadre,
)
from bot.services.tickets import Timeline
from handlers.base import (
    Ctx,
    answer,
    clear_buttons,
    community_tz,
    reply,
    set_buttons,
)

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED


def _button(label: str, action: str, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.build(callbacks.TICKET, action, *args)
    )


def _markup(ctx: Ctx, ticket: Ticket) -> InlineKeyboardMarkup | None:
    rows = ticket_buttons_for_cadre(ticket)
    return inline(ctx.lang, rows)


async def on_button(update: Update, ctx: Ctx) -> None:
    """Every ticket button; the payload is only a lookup key."""
    query = update.callback_query
    assert query is not None
    actor, _ = ctx.require_actor()
    cb = callbacks.parse(query.data, expect=callbacks.TICKET)
    ticket_id = cb.int_arg(0)
    svc = ctx.svc.tickets
    if cb.action in ("acc", "qac"):
        ticket = await svc.accept(actor, ticket_id)
        await answer(query, ctx.t("tickets.accepted_short", number=ticket.number))
        if cb.action == "qac":  # pressed in /tickets: the list's buttons follow the queue
            await set_buttons(update, _queue_markup(ctx, actor, await svc.queue(actor)))
        else:
            await set_buttons(update, _markup(ctx, ticket))
        # Accepted late: say since when it is overdue rather than a date already past.
        key = (
            "tickets.accepted_overdue"
            if ticket.overdue_at(ctx.svc.clock.now())
            else "tickets.accepted"
        )
        await reply(update, ctx.t(key, number=ticket.number, due=await _due(ctx, ticket)))
    elif cb.action == "opn":
        timeline = await svc.timeline_of(actor, ticket_id)
        await answer(query)
        await _send_timeline(update, ctx, timeline)
    elif cb.action == "tra":
        zones = await svc.transfer_targets(actor, ticket_id)
        rows = [[_button(z.name, "trz", ticket_id, z.id)] for z in zones[:20]]
        rows.append([_button(ctx.t("tickets.back_to_admins"), "trz", ticket_id, 0)])
        await answer(query)
        await reply(update, ctx.t("tickets.transfer_where"), InlineKeyboardMarkup(rows))
    elif cb.action == "trz":
        zone_id = cb.int_arg(1)
        ticket = await svc.ask_transfer_reason(actor, ticket_id, zone_id or None)
        await answer(query)
        await reply(update, ctx.t("tickets.ask_reason", number=ticket.number))
    elif cb.action == "rej":
        rows = [
            [_button(ctx.t(f"tickets.reject_{k.value}"), "rjk", ticket_id, k.value)]
            for k in RejectReason
        ]
        await answer(query)
        await reply(update, ctx.t("tickets.reject_why"), InlineKeyboardMarkup(rows))
    elif cb.action == "rjk":
        kind = (
            RejectReason(cb.args[1])
            if len(cb.args) > 1 and cb.args[1] in set(RejectReason)
            else None
        )
        if kind is None:
            raise callbacks.StaleButton(query.data)
        ticket = await svc.ask_reject_reason(actor, ticket_id, kind)
        await answer(query)
        await reply(update, ctx.t("tickets.ask_reason", number=ticket.number))
    elif cb.action == "fix":
        ticket = await svc.ask_after_photo(actor, ticket_id)
        await answer(query)
        await reply(update, ctx.t("tickets.ask_after_photo", number=ticket.number))
    elif cb.action == "ext":
        ticket = await svc.start_extension(actor, ticket_id)
        rows = [
            [
                _button(ctx.t("tickets.extension_days_button", days=d), "exd", ticket_id, d)
                for d in EXTENSION_DAY_CHOICES
            ]
        ]
        await answer(query)
        text = ctx.t("tickets.ask_extension_days", number=ticket.number, max=MAX_EXTENSION_DAYS)
        await reply(update, text, InlineKeyboardMarkup(rows))
    elif cb.action == "exd":
        ticket = await svc.choose_extension_days(actor, ticket_id, cb.int_arg(1))
        await answer(query)
        await clear_buttons(update)
        await ask_extension_reason(update, ctx, ticket, cb.int_arg(1))
    elif cb.action in ("exy", "exn"):
        ticket = await svc.decide_extension(actor, ticket_id, grant=cb.action == "exy")
        await answer(query)
        await clear_buttons(update)
        key = (
            "tickets.extension_granted_leader"
            if cb.action == "exy"
            else "tickets.extension_refused_leader"
        )
        await reply(update, ctx.t(key, number=ticket.number, due=await _due(ctx, ticket)))
    elif cb.action == "ok":
        ticket = await svc.confirm(actor, ticket_id)
        await answer(query)
        await clear_buttons(update)
        await reply(update, ctx.t("tickets.confirmed", number=ticket.number))
    elif cb.action == "no":
        ticket = await svc.ask_reopen_reason(actor, ticket_id)
        await answer(query)
        await reply(update, ctx.t("tickets.ask_reopen_reason", number=ticket.number))
    elif cb.action == "rt":
        try:
            rating = Rating(cb.args[1])
        except (IndexError, ValueError):
            raise callbacks.StaleButton(query.data) from None
        ticket = await svc.rate(actor, ticket_id, rating)
        await answer(query)
        await clear_buttons(update)
        await reply(update, ctx.t("tickets.rated", number=ticket.number))
    else:
        raise callbacks.StaleButton(query.data)


async def list_queue(update: Update, ctx: Ctx) -> None:
    """/tickets — the cadre's queue, overdue first, then by due date."""
    actor, _ = ctx.require_actor()
    found = await ctx.svc.tickets.queue(actor)
    if not found:
        await reply(update, ctx.t("tickets.queue_empty"))
        return
    now = ctx.svc.clock.now()
    lines = [ctx.t("tickets.queue_title", count=len(found))]
    for ticket, params in found:
        flag = "🔴 " if ticket.overdue_at(now) else ""
        if params.get("unreachable_cadre"):
            flag += ctx.t("tickets.queue_unreachable", cadre=params["unreachable_cadre"])
        lines.append(flag + _line(ctx, ticket, params))
    await reply(update, "\n".join(lines), _queue_markup(ctx, actor, found))


def _queue_markup(
    ctx: Ctx, actor: Actor, found: list[tuple[Ticket, dict[str, object]]]
) -> InlineKeyboardMarkup | None:
    """A row per ticket: its next step (accept or report the fix) and its card."""
    now = ctx.svc.clock.now()
    rows = []
    for ticket, _ in found:
        flag = "🔴 " if ticket.overdue_at(now) else ""
        row = []
        step = queue_action(ticket)
        if step is not None:
            label, data = step
            row.append(
                InlineKeyboardButton(f"{flag}{ticket.number} {ctx.t(label)}", callback_data=data)
            )
        label = ctx.t("tickets.open_button", number=ticket.number)
        row.append(InlineKeyboardButton(label, callback_data=open_button(ticket)))
        rows.append(row)
    return InlineKeyboardMarkup(rows) if rows else None


async def list_mine(update: Update, ctx: Ctx) -> None:
    """/my — the reports I filed or follow."""
    _, person = ctx.require_actor()
    found = await ctx.svc.tickets.mine(person)
    if not found:
        await reply(update, ctx.t("tickets.mine_empty"))
        return
    lines = [ctx.t("tickets.mine_title")] + [_line(ctx, t, p) for t, p in found]
    await reply(update, "\n".join(lines))


async def list_recheck(update: Update, ctx: Ctx) -> None:
    """/recheck — rectified tickets waiting for 回头看, with buttons."""
    actor, _ = ctx.require_actor()
    found = await ctx.svc.tickets.recheck_queue(actor)
    if not found:
        await reply(update, ctx.t("tickets.recheck_empty"))
        return
    for ticket, params in found[:10]:
        markup = inline(ctx.lang, recheck_buttons(ticket))
        await reply(update, _line(ctx, ticket, params), markup)


async def show_ticket(update: Update, ctx: Ctx) -> None:
    """/ticket 2026-0042 (or /ticket 42, this year's) — the timeline with before/after
    photos and the buttons for what the viewer may do now, to those allowed."""
    actor, _ = ctx.require_actor()
    if not ctx.args:
        raise InvalidInput("tickets.usage_ticket")
    await _send_timeline(update, ctx, await ctx.svc.tickets.timeline(actor, ctx.args[0]))


async def _send_timeline(update: Update, ctx: Ctx, timeline: Timeline) -> None:
    tz = timeline.timezone
    lines = [_line(ctx, timeline.ticket, timeline.params)]
    for event in timeline.events:
        who = timeline.people.get(event.actor_person_id or 0, "")
        note_key, note_params = event_note(event, timeline.ticket, tz)
        lines.append(
            ctx.t(
                "tickets.event_line",
                at=format_local(event.at, tz),
                event=ctx.t(f"events.{event.kind.value}"),
                who=who,
                # Already escaped piece by piece inside t().
                note=Safe(ctx.t(note_key, **localized(ctx.lang, note_params))),
            )
        )
    markup = inline(ctx.lang, timeline.actions)
    await reply(update, "\n".join(lines), markup)
    media = []
    for photo in timeline.photos[:10]:
        data = (ctx.svc.settings.data_dir / photo.path).read_bytes()
        media.append(InputMediaPhoto(data, caption=ctx.t(f"tickets.photo_{photo.kind}")))
    chat = update.effective_chat
    if chat is not None and len(media) == 1:
        await chat.send_photo(media[0].media, caption=media[0].caption)
    elif chat is not None and media:
        await chat.send_media_group(media)


async def show_notice(update: Update, ctx: Ctx) -> None:
    """/notice 2026-0042 — the rectification notice image."""
    actor, _ = ctx.require_actor()
    if not ctx.args:
        raise InvalidInput("tickets.usage_notice")
    timeline = await ctx.svc.tickets.timeline(actor, ctx.args[0])
    path = await ctx.svc.notices.for_viewer(actor, timeline.ticket.id)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_photo(
        path.read_bytes(), caption=ctx.t("tickets.notice_caption", number=timeline.ticket.number)
    )


def _line(ctx: Ctx, ticket: Ticket, params: dict[str, object]) -> str:
    return ctx.t(
        "tickets.line",
        number=ticket.number,
        status=ctx.t(f"status.{ticket.status.value}"),
        category=ctx.t(f"categories.{ticket.category}"),
        place=params["place"],
        due=params["due"],
        supporters=ticket.supporters,
    )


async def ask_extension_reason(update: Update, ctx: Ctx, ticket: Ticket, days: int) -> None:
    await reply(update, ctx.t("tickets.ask_extension_reason", number=ticket.number, days=days))


async def _due(ctx: Ctx, ticket: Ticket) -> Day | str:
    return format_due(ticket, await community_tz(ctx, ticket.community_id))


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    private = PRIVATE & NOT_EDITED
    return [
        CommandHandler("tickets", list_queue, filters=private),
        CommandHandler("my", list_mine, filters=private),
        CommandHandler("recheck", list_recheck, filters=private),
        CommandHandler("ticket", show_ticket, filters=private),
        CommandHandler("notice", show_notice, filters=private),
        CallbackQueryHandler(on_button, pattern=callbacks.pattern(callbacks.TICKET)),
    ]
