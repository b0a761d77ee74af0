"""/apikey: a community's admins issue, list and revoke Open311 API keys in chat."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.i18n import Day
from bot.web.open311 import PREFIX
from handlers.base import Ctx, reply

NOT_EDITED = ~filters.UpdateType.EDITED


async def apikey(update: Update, ctx: Ctx) -> None:
    """/apikey · /apikey new NAME · /apikey revoke N."""
    actor, _ = ctx.require_actor()
    args = ctx.args or []
    action = args[0].lower() if args else "list"
    if action == "new":
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            await reply(update, ctx.t("open311.key_private_only"))
            return
        key, plain = await ctx.svc.open311.issue_key(actor, " ".join(args[1:]))
        community = await ctx.svc.open311.community_of(actor)
        base = ctx.svc.settings.public_url or "https://<JIAYUAN_PUBLIC_URL>"
        await reply(
            update,
            ctx.t(
                "open311.key_issued",
                id=key.id,
                label=key.label,
                secret=plain,
                url=f"{base}{PREFIX}/requests.json",
                jurisdiction=community.code,
            ),
        )
    elif action == "revoke" and len(args) == 2 and args[1].lstrip("#").isdigit():
        key_id = int(args[1].lstrip("#"))
        await ctx.svc.open311.revoke_key(actor, key_id)
        await reply(update, ctx.t("open311.key_revoked_done", id=key_id))
    elif action == "list":
        community = await ctx.svc.open311.community_of(actor)
        keys = await ctx.svc.open311.keys(actor)
        tz = ZoneInfo(community.timezone)
        if not keys:
            await reply(update, ctx.t("open311.keys_none"))
            return
        lines = [ctx.t("open311.keys_title")]
        for key in keys:
            state = (
                ctx.t("open311.key_revoked", at=_day(key.revoked_at, tz))
                if key.revoked_at
                else ctx.t("open311.key_active")
            )
            lines.append(
                ctx.t(
                    "open311.key_line",
                    id=key.id,
                    label=key.label,
                    created=_day(key.created_at, tz),
                    state=state,
                )
            )
        await reply(update, "\n".join(lines))
    else:
        await reply(update, ctx.t("open311.usage"))


def _day(value: datetime, tz: ZoneInfo) -> Day:
    return Day(value.astimezone(tz).date())


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    return [CommandHandler("apikey", apikey, filters=NOT_EDITED)]
