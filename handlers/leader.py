"""Leaders and the office: /digest on demand, /digestmode, announcements and broadcasts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.domain.errors import InvalidInput
from bot.domain.scoring import YearMonth
from bot.render.trend import month_points, render_trend
from bot.render.worker import run_image_work
from bot.services.digest_text import digest_params
from handlers.base import Ctx, answer, community_tz, reply

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
    """/trend ZONE — the zone's 12-month score trend as a picture; without a zone, the
    zones as buttons."""
    actor, _ = ctx.require_actor()
    if not ctx.args:
        zones = await ctx.svc.scoring.trend_zones(actor)
        if not zones:
            raise InvalidInput("review.usage_trend")
        buttons = [
            InlineKeyboardButton(z.name, callback_data=callbacks.build(callbacks.TREND, "z", z.id))
            for z in zones
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        await reply(update, ctx.t("review.trend_pick"), InlineKeyboardMarkup(rows))
        return
    await _send_trend(update, ctx, " ".join(ctx.args))


async def on_trend_button(update: Update, ctx: Ctx) -> None:
    """A zone pressed under /trend: drawn if the presser may still see trends."""
    query = update.callback_query
    assert query is not None
    cb = callbacks.parse(query.data, expect=callbacks.TREND)
    if cb.action != "z":
        raise callbacks.StaleButton(query.data)
    await _send_trend(update, ctx, cb.int_arg())
    await answer(query)


async def _send_trend(update: Update, ctx: Ctx, zone_query: str | int) -> None:
    # The service re-checks the role: a button may be pressed after the role was revoked.
    actor, _ = ctx.require_actor()
    tz = ZoneInfo(await community_tz(ctx))
    last = YearMonth.of(ctx.svc.clock.now().astimezone(tz).date())
    zone, points = await ctx.svc.scoring.trend(actor, zone_query, last)
    png = await run_image_work(render_trend, zone.name, month_points(points))
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
        CallbackQueryHandler(on_trend_button, pattern=callbacks.pattern(callbacks.TREND)),
    ]
