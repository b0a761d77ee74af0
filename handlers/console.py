"""/console: a staff member's way into the office console — a one-time sign-in link for a
desktop browser, and the Mini App on the chat's menu button and a button of the reply."""

from __future__ import annotations

import contextlib

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.web.console import PREFIX
from handlers.base import Ctx, reply

NOT_EDITED = ~filters.UpdateType.EDITED


async def console(update: Update, ctx: Ctx) -> None:
    """/console — sign-in link (private chat only) and the Mini App."""
    actor, _ = ctx.require_actor()
    base = console_base(ctx)
    if base is None:
        await reply(update, ctx.t("console.command_off"))
        return
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        await reply(update, ctx.t("console.command_private_only"))
        return
    token = await ctx.svc.console.issue_login(actor)
    link = f"{base}{PREFIX}/login?token={token}"
    rows = [[InlineKeyboardButton(ctx.t("console.command_button"), url=link)]]
    if base.startswith("https://"):
        # Telegram opens Mini Apps over https only.
        app = WebAppInfo(f"{base}{PREFIX}/app")
        rows.append([InlineKeyboardButton("📱 " + ctx.t("console.command_button"), web_app=app)])
        # Failing, only the menu shortcut is lost; the buttons below still work.
        with contextlib.suppress(TelegramError):
            await ctx.bot.set_chat_menu_button(
                chat.id, MenuButtonWebApp(ctx.t("console.title"), app)
            )
    message = update.effective_message
    assert message is not None
    # No preview: Telegram's preview fetch must not be the one that opens the link.
    await message.reply_text(
        ctx.t("console.command_link", url=link),
        reply_markup=InlineKeyboardMarkup(rows),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


def console_base(ctx: Ctx) -> str | None:
    """Where people reach the console, or None when it is not served."""
    settings = ctx.svc.settings
    if settings.web_port is None:
        return None
    return settings.public_url or f"http://127.0.0.1:{settings.web_port}"


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    return [CommandHandler("console", console, filters=NOT_EDITED)]
