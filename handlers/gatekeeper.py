"""Group -1: decide whether an update is ours to handle, and who is acting."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.domain.models import Language
from handlers.base import Ctx

log = logging.getLogger(__name__)


async def identify(update: Update, ctx: Ctx) -> None:
    """Load the acting person; ignore edits and other bots."""
    if update.edited_message or update.edited_channel_post:
        # An edit must never re-run a command or re-file a report.
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None:
        return
    if user.is_bot:
        raise ApplicationHandlerStop
    super_admin = user.id in ctx.svc.settings.admins
    actor, person = await ctx.svc.people.identify(
        user.id, user.full_name, user.language_code, super_admin
    )
    ctx.actor, ctx.person = actor, person
    ctx.lang = person.language or Language.from_telegram(user.language_code)
    log.debug(
        "update_id=%s user_id=%s chat_id=%s person_id=%s",
        update.update_id,
        user.id,
        update.effective_chat.id if update.effective_chat else None,
        person.id,
    )


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    return [TypeHandler(Update, identify)]
