"""The one place errors become replies: expected ones politely, the rest logged."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import callbacks
from bot.domain.errors import JiayuanError
from bot.domain.models import Language
from bot.i18n import t
from bot.textlimits import MESSAGE_LIMIT, clip_html
from bot.workers import note_interrupted
from storage.availability import unavailable

log = logging.getLogger(__name__)


async def tell_error(update: Update, ctx: Any, error: Exception) -> None:
    """Say what went wrong in the user's language (an alert for buttons)."""
    lang = getattr(ctx, "lang", Language.ZH)
    if isinstance(error, JiayuanError):
        text = clip_html(t(lang, error.key, **error.params), MESSAGE_LIMIT)
    else:
        text = t(lang, "errors.button_expired")
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(_plain(text)[:200], show_alert=True)
            return
        except BadRequest:
            pass  # already answered or too old: say it in the chat instead
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text)


async def on_error(update: object, ctx: Any) -> None:
    """Log the failure with its update; tell the user as much as is useful."""
    error = ctx.error
    if not isinstance(update, Update):
        log.error("error outside an update", exc_info=error)
        return
    user = update.effective_user
    chat = update.effective_chat
    fields = (
        f"update_id={update.update_id} user_id={user.id if user else None} "
        f"chat_id={chat.id if chat else None}"
    )
    if unavailable(error):
        # Not the user's fault nor a bug: no apology; the worker hands the update back
        # and it runs again once the database answers.
        log.warning("update interrupted, the database is unavailable %s: %s", fields, error)
        note_interrupted(ctx.bot_data, update.update_id, error)
        return
    # PTB hands the error handler a fresh context: the gatekeeper's language is not on it.
    ctx.lang = await _reader_language(update, ctx)
    if isinstance(error, JiayuanError | callbacks.StaleButton):
        log.info("refused %s key=%s", fields, getattr(error, "key", "button_expired"))
        await _safely(tell_error(update, ctx, error))
        return
    if isinstance(error, Forbidden):
        log.info("user blocked the bot %s", fields)
        if user is not None and "services" in ctx.bot_data:
            await ctx.bot_data["services"].people.mark_unreachable(user.id)
        return
    log.error("unhandled error %s", fields, exc_info=error)
    lang = getattr(ctx, "lang", Language.ZH)
    if update.callback_query is not None:
        await _safely(
            update.callback_query.answer(t(lang, "errors.internal")[:200], show_alert=True)
        )
    elif chat is not None:
        await _safely(chat.send_message(t(lang, "errors.internal")))
    ops = getattr(ctx.bot_data.get("services"), "settings", None)
    if ops is not None and ops.ops_chat_id:
        note = (
            f"<b>Error</b> {html.escape(fields)}\n<code>{html.escape(repr(error))[:3000]}</code>"
        )
        await _safely(ctx.bot.send_message(ops.ops_chat_id, note))


async def _reader_language(update: Update, ctx: Any) -> Language:
    """The language the person chose, else their Telegram app's."""
    user = update.effective_user
    if user is None:
        return Language.ZH
    services = ctx.bot_data.get("services")
    try:
        person = await services.people.find(user.id) if services is not None else None
    except Exception:
        # The database may be what failed: the reply still goes out, by the app's language.
        log.warning("no language for user_id=%s", user.id, exc_info=True)
        person = None
    chosen: Language | None = person.language if person is not None else None
    return chosen or Language.from_telegram(user.language_code)


async def _safely(coro: Any) -> None:
    # Reporting an error must not raise another one into PTB's error machinery.
    try:
        await coro
    except TelegramError as exc:
        log.warning("could not tell the user about an error: %s", exc)


def _plain(text: str) -> str:
    """Alerts are plain text: drop tags, unescape entities."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
