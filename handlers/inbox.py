"""Private messages that are not commands: route each to the question it answers.

A pending ticket question (a reason, an after-photo) comes first, then the report flow.
PTB stops at the first matching handler in a group, so one router decides.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, MessageHandler, filters

from handlers import common, inspect, ratings, report, tickets, volunteer
from handlers.base import Ctx, reply

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED
IMAGE_DOCUMENT = filters.Document.IMAGE


async def route(update: Update, ctx: Ctx) -> None:
    """Pending question (ticket, phone, …) → report draft → onboarding location → a hint."""
    message = update.effective_message
    assert message is not None
    _, person = ctx.require_actor()
    pending = await ctx.svc.pending.get(person)
    if pending is not None and pending.kind == volunteer.CHECKIN:
        await volunteer.answer_check_in(update, ctx, message, pending.payload)
        return
    if pending is not None and pending.kind == ratings.OBJECTION and message.text:
        await ratings.answer_objection(update, ctx, message, pending.payload)
        return
    if pending is not None and pending.kind == inspect.PHOTO_KIND:
        await inspect.answer_photo(update, ctx, message, pending.payload)
        return
    if (
        pending is not None
        and pending.kind == report.PHONE_KIND
        and message.text
        and await report.answer_phone(update, ctx, message)
    ):
        return
    if await tickets.answer_pending(update, ctx, message):
        return
    if message.photo or (
        message.document
        and message.document.mime_type
        and message.document.mime_type.startswith("image/")
    ):
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
