"""Households and shops: /nominate (cadres), /apply (residents and shops), inspectors'
verification, the public notice with its "object" button, /ratings and /pledge."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.domain.errors import InvalidInput
from bot.keyboards import inline
from bot.services.ratings import verify_buttons
from handlers.base import Ctx, answer, edit, reply

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED


async def nominate(update: Update, ctx: Ctx) -> None:
    """/nominate household|shop NAME — cadres put a household or shop forward."""
    await _put_forward(update, ctx, own=False)


async def apply(update: Update, ctx: Ctx) -> None:
    """/apply household|shop NAME (or 文明卫生户/文明卫生门店) — for one's own home or shop."""
    await _put_forward(update, ctx, own=True)


async def _put_forward(update: Update, ctx: Ctx, *, own: bool) -> None:
    actor, person = ctx.require_actor()
    args = ctx.args or []
    if len(args) < 2:
        raise InvalidInput("ratings.usage_apply" if own else "ratings.usage")
    rating = await ctx.svc.ratings.nominate(actor, person, args[0], " ".join(args[1:]), own=own)
    await reply(
        update,
        ctx.t("ratings.nominated", kind=ctx.t(f"ratings.kind_{rating.kind}"), name=rating.name),
    )


async def listing(update: Update, ctx: Ctx) -> None:
    """/ratings — nominations to verify, notices under way, and published this month."""
    actor, _ = ctx.require_actor()
    found = await ctx.svc.ratings.listing(actor)
    lines = []
    for status in ("nominated", "notice", "published"):
        lines.append(ctx.t(f"ratings.section_{status}", count=len(found[status])))
        for rating in found[status][:20]:
            lines.append(
                ctx.t(
                    "ratings.line",
                    id=rating.id,
                    kind=ctx.t(f"ratings.kind_{rating.kind}"),
                    name=rating.name,
                )
            )
    await reply(update, "\n".join(lines))
    for rating in found["nominated"][:10]:
        markup = inline(ctx.lang, verify_buttons(rating.id))
        await reply(
            update,
            ctx.t(
                "ratings.to_verify", kind=ctx.t(f"ratings.kind_{rating.kind}"), name=rating.name
            ),
            markup,
        )


async def pledge(update: Update, ctx: Ctx) -> None:
    """/pledge SITE / SIGNER — a shop's 门前三包 pledge."""
    actor, _ = ctx.require_actor()
    site, _, signer = " ".join(ctx.args or []).partition("/")
    if not site.strip() or not signer.strip():
        raise InvalidInput("ratings.usage_pledge")
    name = await ctx.svc.ratings.pledge(actor, site, signer)
    await reply(update, ctx.t("ratings.pledged", site=name, signer=signer.strip()))


async def on_button(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    actor, person = ctx.require_actor()
    cb = callbacks.parse(query.data, expect=callbacks.RATING)
    rating_id = cb.int_arg()
    if cb.action in ("ok", "no"):
        rating = await ctx.svc.ratings.verify(actor, rating_id, approve=cb.action == "ok")
        await answer(query)
        key = "ratings.verified" if cb.action == "ok" else "ratings.declined"
        await edit(update, ctx.t(key, name=rating.name))
    elif cb.action == "obj":
        # Pressed in the group: the reason is asked privately, so the objector is not exposed.
        rating = await ctx.svc.ratings.ask_objection(person, rating_id)
        await answer(query, ctx.t("ratings.object_private"), show_alert=True)
        await ctx.bot.send_message(
            person.telegram_id or 0, ctx.t("ratings.ask_objection", name=rating.name)
        )
    else:
        raise callbacks.StaleButton(query.data)


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    private = PRIVATE & NOT_EDITED
    return [
        CommandHandler("nominate", nominate, filters=private),
        CommandHandler("apply", apply, filters=private),
        CommandHandler("ratings", listing, filters=private),
        CommandHandler("pledge", pledge, filters=private),
        CallbackQueryHandler(on_button, pattern=callbacks.pattern(callbacks.RATING)),
    ]
