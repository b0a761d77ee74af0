"""Inspections: /inspect picks a zone, then each site's checklist is marked item by item;
a failed item needs a photo and becomes a ticket; the last site gives the score."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.domain import checklists
from bot.domain.models import Language
from bot.i18n import site_category
from bot.services.inspections import SiteCheck
from handlers.base import Ctx, answer, clear_buttons, reply

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED


def _button(label: str, action: str, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.build(callbacks.INSPECT, action, *args)
    )


def _label(ctx: Ctx, item: checklists.Item) -> str:
    return item.en if ctx.lang is Language.EN else item.zh


def _fault(ctx: Ctx, item: checklists.Item) -> str:
    return item.fail_en if ctx.lang is Language.EN else item.fail_zh


async def start(update: Update, ctx: Ctx) -> None:
    """/inspect — resume the open inspection, or choose a zone (oldest-inspected first)."""
    actor, _ = ctx.require_actor()
    current = await ctx.svc.inspections.current(actor)
    if current is not None:
        await _show(update, ctx, current)
        return
    plan = await ctx.svc.inspections.plan_for(actor)
    rows = [[_button(f"{p.zone.name}（{len(p.sites)}）", "z", p.zone.id)] for p in plan]
    await reply(update, ctx.t("inspect.choose_zone"), InlineKeyboardMarkup(rows))


async def _show(update: Update, ctx: Ctx, check: SiteCheck) -> None:
    """One site's checklist: each item toggles ✅/❌; then 'site done'."""
    inspection = check.inspection
    rows = [
        [
            _button(
                ("❌ " if item.code in check.failed else "✅ ") + _label(ctx, item),
                "t",
                inspection.id,
                check.site.id,
                item.code,
            )
        ]
        for item in check.items
    ]
    rows.append([_button(ctx.t("inspect.site_done"), "s", inspection.id, check.site.id)])
    text = ctx.t(
        "inspect.site",
        zone=check.zone.name,
        site=check.site.name,
        category=site_category(check.site.category),
        index=check.index + 1,
        count=check.count,
        kind=ctx.t(f"inspect.kind_{inspection.kind}"),
    )
    markup = InlineKeyboardMarkup(rows)
    query = update.callback_query
    # A toggle redraws the checklist in place; anything else sends it afresh.
    if (
        query is not None
        and query.message is not None
        and callbacks.is_action(query.data, callbacks.INSPECT, "t")
    ):
        await query.edit_message_text(text, reply_markup=markup)
    else:
        await reply(update, text, markup)


async def on_button(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    actor, _ = ctx.require_actor()
    cb = callbacks.parse(query.data, expect=callbacks.INSPECT)
    svc = ctx.svc.inspections
    if cb.action == "z":
        check = await svc.start(actor, cb.int_arg())
        await answer(query)
        await _show(update, ctx, check)
    elif cb.action == "t" and len(cb.args) == 3:
        check = await svc.toggle(actor, cb.int_arg(0), cb.int_arg(1), cb.args[2])
        await answer(query)
        await _show(update, ctx, check)
    elif cb.action == "s":
        inspection_id, site_id = cb.int_arg(0), cb.int_arg(1)
        # The service checks first; only then does the keyboard go.
        await ctx.svc.inspections.check_open(actor, inspection_id)
        await answer(query)
        await clear_buttons(update)
        await after_site(update, ctx, inspection_id, site_id)
    else:
        raise callbacks.StaleButton(query.data)


async def after_site(update: Update, ctx: Ctx, inspection_id: int, site_id: int) -> None:
    """Ask for the next missing photo, else show the next site, else finish."""
    actor, _ = ctx.require_actor()
    # When photos are missing, the service has asked for the first one.
    check, missing = await ctx.svc.inspections.site_done(actor, inspection_id, site_id)
    if missing:
        item = checklists.ITEMS[missing[0]]
        site = check.site.name if check else ""
        await reply(update, ctx.t("inspect.photo_for", item=_fault(ctx, item), site=site))
    elif check is not None and check.total != -1:
        await _show(update, ctx, check)
    else:
        await _finish(update, ctx, inspection_id)


async def _finish(update: Update, ctx: Ctx, inspection_id: int) -> None:
    actor, _ = ctx.require_actor()
    done = await ctx.svc.inspections.finish(actor, inspection_id)
    numbers = "、".join(t.number for t in done.tickets) or "—"
    await reply(
        update,
        ctx.t(
            "inspect.finished",
            zone=done.zone.name,
            score=f"{done.score:g}",
            failed=done.failed,
            tickets=numbers,
        ),
    )


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    return [
        CommandHandler("inspect", start, filters=PRIVATE & NOT_EDITED),
        CallbackQueryHandler(on_button, pattern=callbacks.pattern(callbacks.INSPECT)),
    ]
