"""The handler's view of the world: a typed context and the few reply helpers."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import Application, CallbackContext, ExtBot

from bot.domain.access import Actor
from bot.domain.models import Language, Person
from bot.i18n import t
from bot.services.container import Services
from bot.textlimits import CAPTION_LIMIT, MESSAGE_LIMIT, clip_html

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


class Ctx(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """One update's context; the gatekeeper fills in who is acting."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.actor: Actor | None = None
        self.person: Person | None = None
        self.lang: Language = Language.ZH

    @property
    def svc(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    def t(self, key: str, **params: Any) -> str:
        return t(self.lang, key, **params)

    def require_actor(self) -> tuple[Actor, Person]:
        if self.actor is None or self.person is None:
            raise RuntimeError("the gatekeeper did not identify the user")
        return self.actor, self.person


async def reply(update: Update, text: str, markup: Markup = None) -> Message | None:
    """Answer in the chat the update came from (clipped to Telegram's length limit)."""
    text = clip_html(text, MESSAGE_LIMIT)
    chat = update.effective_chat
    if chat is None:
        return None
    message = update.effective_message
    if message is not None and update.callback_query is None:
        return await message.reply_text(text, reply_markup=markup)
    return await chat.send_message(text, reply_markup=markup)


async def edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the text of the message whose button was pressed."""
    query = update.callback_query
    if query is None or query.message is None:
        await reply(update, text, markup)
        return
    try:
        # A photo's words are its caption: Telegram refuses editMessageText there.
        message = query.message
        if isinstance(message, Message) and (message.caption is not None or message.photo):
            await query.edit_message_caption(
                caption=clip_html(text, CAPTION_LIMIT), reply_markup=markup
            )
        else:
            await query.edit_message_text(clip_html(text, MESSAGE_LIMIT), reply_markup=markup)
    except BadRequest as exc:
        # Pressing the same button twice asks for the same content: nothing to do.
        if "not modified" not in exc.message.lower():
            raise


async def answer(query: CallbackQuery, text: str | None = None, show_alert: bool = False) -> None:
    """Answer a button press. A press handled again after a crash was already answered
    before the crash; Telegram then calls the query too old, which is no reason to stop."""
    try:
        await query.answer(text, show_alert=show_alert)
    except BadRequest as exc:
        message = exc.message.lower()
        if "query is too old" not in message and "query id is invalid" not in message:
            raise
        log.info("callback query already answered or expired: %s", exc.message)


async def set_buttons(update: Update, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the pressed message's keyboard (None takes it off)."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:
        # The same buttons again (a double tap, or a press handled again after a crash).
        if "not modified" not in exc.message.lower():
            raise


async def clear_buttons(update: Update) -> None:
    """Take the keyboard off the pressed message; pressing twice is not an error."""
    await set_buttons(update, None)


async def community_tz(ctx: Ctx, community_id: int | None = None) -> str:
    """The time zone dates are shown in: the community's (the actor's, unless given);
    JIAYUAN_TZ only for someone who belongs to no community yet."""
    if community_id is None and ctx.actor is not None:
        community_id = ctx.actor.community_id
    if community_id is None:
        return ctx.svc.settings.timezone
    return await ctx.svc.communities.timezone(community_id)


def parse_id(text: str) -> int | None:
    """A record id typed by a person: ASCII digits (an optional #), within SQLite's range."""
    text = text.strip().lstrip("#")
    if not (text.isascii() and text.isdigit()) or len(text) > 15:
        return None
    return int(text)


def command_args(ctx: Ctx) -> list[str]:
    return list(ctx.args or [])


def deep_link(ctx: Ctx, payload: str) -> str:
    """A t.me link that opens a private chat with the bot and sends /start <payload>."""
    return f"https://t.me/{ctx.bot.username}?start={payload}"
