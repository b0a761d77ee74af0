"""Private messages that are not commands: route each to the question it answers.

An open question (a reason, an after-photo, a check-in, the phone, …) comes first, then
the report flow, then onboarding's location. PTB stops at the first matching handler in
a group, so one router decides: parse → InboxService → match the outcome → reply.
See docs/flows/inbox.mmd.
"""

from __future__ import annotations

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from bot.domain.reports import DraftPhoto
from bot.services import inbox as outcomes
from bot.services.inbox import Answer
from bot.services.ticket_cards import format_due
from bot.services.volunteers import title_of
from handlers import common, inspect, report, tickets
from handlers.base import Ctx, community_tz, reply
from handlers.photos import receive_photo

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED
IMAGE_DOCUMENT = filters.Document.IMAGE


def _is_image(message: Message) -> bool:
    return bool(
        message.photo
        or (
            message.document
            and message.document.mime_type
            and message.document.mime_type.startswith("image/")
        )
    )


def _answer(ctx: Ctx, message: Message) -> Answer:
    async def photo() -> DraftPhoto:
        return await receive_photo(message, ctx)

    location = message.location
    return Answer(
        text=(message.text or message.caption or ""),
        photo=photo if _is_image(message) else None,
        location=(location.latitude, location.longitude) if location else None,
        language=ctx.lang,
    )


async def route(update: Update, ctx: Ctx) -> None:
    """Open question → report draft → onboarding location → a hint."""
    message = update.effective_message
    assert message is not None
    actor, person = ctx.require_actor()
    outcome = await ctx.svc.inbox.answer(actor, person, _answer(ctx, message))
    match outcome:
        case outcomes.NoQuestion():
            await _not_an_answer(update, ctx, message)
        case outcomes.StillAsking(key=key, params=params):
            await reply(update, ctx.t(key, **params))
        case outcomes.PhoneInvalid():
            await reply(update, ctx.t("report.phone_invalid"), report.phone_keyboard(ctx))
        case outcomes.PhoneShared(view=view):
            await reply(update, ctx.t("report.phone_shared"), ReplyKeyboardRemove())
            await report.ask_next(update, ctx, view)
        case outcomes.Transferred(ticket=ticket):
            await reply(update, ctx.t("tickets.transferred", number=ticket.number))
        case outcomes.Rejected(ticket=ticket):
            await reply(update, ctx.t("tickets.rejected", number=ticket.number))
        case outcomes.Rectified(ticket=ticket):
            await reply(update, ctx.t("tickets.rectified", number=ticket.number))
        case outcomes.Reopened(ticket=ticket):
            tz = await community_tz(ctx, ticket.community_id)
            due = format_due(ticket, tz)
            await reply(update, ctx.t("tickets.reopened", number=ticket.number, due=due))
        case outcomes.ExtensionDaysChosen(ticket=ticket, days=days):
            await tickets.ask_extension_reason(update, ctx, ticket, days)
        case outcomes.ExtensionAsked(ticket=ticket, days=days):
            text = ctx.t("tickets.extension_sent", number=ticket.number, days=days)
            await reply(update, text)
        case outcomes.CheckedIn(activity=activity):
            text = ctx.t("volunteer.checked_in", title=title_of(activity))
            await reply(update, text, ReplyKeyboardRemove())
        case outcomes.ObjectionSent(rating=rating):
            await reply(update, ctx.t("ratings.objection_sent", name=rating.name))
        case outcomes.InspectionPhotoFiled(ticket=ticket, inspection_id=inspection, site_id=site):
            await reply(update, ctx.t("inspect.ticket_filed", number=ticket.number))
            await inspect.after_site(update, ctx, inspection, site)


async def _not_an_answer(update: Update, ctx: Ctx, message: Message) -> None:
    """No question takes this message: it starts or continues a report."""
    if _is_image(message):
        await report.on_photo(update, ctx, message)
    elif message.location is not None:
        if not await report.on_location(update, ctx, message):
            await common.on_location(update, ctx)
    elif message.text:
        await report.on_text(update, ctx, message)


async def unsupported(update: Update, ctx: Ctx) -> None:
    """Stickers, voice, video and other files: say what the bot can take instead."""
    message = update.effective_message
    if message is not None and message.document is not None:
        await reply(update, ctx.t("report.photo_not_an_image"))
    else:
        await reply(update, ctx.t("report.hint"))


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    content = filters.PHOTO | IMAGE_DOCUMENT | filters.LOCATION | (filters.TEXT & ~filters.COMMAND)
    other = (
        filters.Document.ALL
        | filters.Sticker.ALL
        | filters.VOICE
        | filters.AUDIO
        | filters.VIDEO
        | filters.VIDEO_NOTE
    )
    return [
        MessageHandler(PRIVATE & NOT_EDITED & content, route),
        MessageHandler(PRIVATE & NOT_EDITED & other, unsupported),
    ]
