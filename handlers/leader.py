"""Leaders and the office: /digest on demand, /digestmode, announcements and broadcasts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.domain.errors import InvalidInput
from bot.domain.scoring import YearMonth
from bot.render.trend import render_trend
from bot.render.worker import run_image_work
from bot.services.digest_text import digest_params
from handlers.base import Ctx, community_tz, reply

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED


async def digest(update: Update, ctx: Ctx) -> None:
    """/digest — today's digest now."""
    actor, _ = ctx.require_actor()
    built = await ctx.svc.digests.on_demand(actor)
    await reply(update, ctx.t("digest.daily", **digest_params(built, ctx.lang)))


async def digest_mode(update: Update, ctx: Ctx) -> None:
    """/digestmode daily|weekly|off."""
    actor, _ = ctx.require_actor()
    mode = (ctx.args or [""])[0].lower()
    await ctx.svc.digests.set_mode(actor, mode)
    await reply(update, ctx.t("digest.mode_set", mode=ctx.t(f"digest.mode_{mode}")))


async def announce(update: Update, ctx: Ctx) -> None:
    """/announce TEXT — to the community's groups."""
    actor, _ = ctx.require_actor()
    text = _rest(update)
    queued = await ctx.svc.announcements.announce(actor, "groups", text)
    await reply(update, ctx.t("announce.queued", count=queued))


async def broadcast(update: Update, ctx: Ctx) -> None:
    """/broadcast AUDIENCE TEXT — to every resident, volunteer, cadre… of the community."""
    actor, _ = ctx.require_actor()
    parts = _rest(update).split(maxsplit=1)
    if len(parts) < 2:
        await reply(update, ctx.t("announce.usage"))
        return
    queued = await ctx.svc.announcements.announce(actor, parts[0].lower(), parts[1])
    await reply(update, ctx.t("announce.queued", count=queued))


async def trend(update: Update, ctx: Ctx) -> None:
    """/trend ZONE — the zone's 12-month score trend as a picture."""
    actor, _ = ctx.require_actor()
    if not ctx.args:
        raise InvalidInput("review.usage_trend")
    last = YearMonth.of(ctx.svc.clock.now().astimezone(ZoneInfo(await community_tz(ctx))).date())
    zone, points = await ctx.svc.scoring.trend(actor, " ".join(ctx.args), last)
    png = await run_image_work(render_trend, zone.name, points)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_photo(png, caption=ctx.t("review.trend_caption", zone=zone.name))


def _rest(update: Update) -> str:
    """The command's text after the command, keeping line breaks."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    return text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    private = PRIVATE & NOT_EDITED
    return [
        CommandHandler("digest", digest, filters=private),
        CommandHandler("digestmode", digest_mode, filters=private),
        CommandHandler("announce", announce, filters=private),
        CommandHandler("broadcast", broadcast, filters=private),
        CommandHandler("trend", trend, filters=private),
    ]
