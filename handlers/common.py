"""Start, onboarding (community, building or location), language, help and cancel."""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.domain.access import Actor, visible_roles
from bot.domain.models import Language, Person, Role
from bot.services.invites import INVITE_PREFIX
from bot.services.volunteers import SIGNUP_PREFIX
from handlers import report, volunteer
from handlers.base import Ctx, answer, deep_link, edit, parse_id, reply

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED


async def start(update: Update, ctx: Ctx) -> None:
    """Greet, redeem an invite link, or walk a newcomer to their community and building."""
    _, person = ctx.require_actor()
    payload = ctx.args[0] if ctx.args else ""
    if payload.startswith(INVITE_PREFIX):
        await _redeem(update, ctx, person, payload.removeprefix(INVITE_PREFIX))
        return
    activity_id = parse_id(payload.removeprefix(SIGNUP_PREFIX))
    if payload.startswith(SIGNUP_PREFIX) and activity_id is not None:
        await volunteer.sign_up_link(update, ctx, activity_id)
        return
    if payload == report.REPORT_PAYLOAD and person.community_id is not None:
        await report.start_report(update, ctx)
        return
    if person.community_id is None:
        await reply(update, ctx.t("start.welcome", name=person.name))
        await _ask_community(update, ctx)
        return
    community, zone, building = await ctx.svc.people.home(person)
    home = ""
    if zone is not None:
        home = ctx.t(
            "start.home_suffix", zone=zone.name, building=f" {building.name}" if building else ""
        )
    await reply(
        update,
        ctx.t(
            "start.welcome_back",
            name=person.name,
            community=community.name if community else "",
            home=home,
        )
        + "\n"
        + ctx.t("start.next_steps"),
        _change_building(ctx) if zone is not None else None,
    )
    if zone is None:
        await _ask_building(update, ctx, person.community_id)


def _change_building(ctx: Ctx) -> InlineKeyboardMarkup:
    """Someone who moved (or picked the wrong building) changes it here or with /building."""
    data = callbacks.build(callbacks.START, "chg")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.t("start.change_building"), callback_data=data)]]
    )


async def building(update: Update, ctx: Ctx) -> None:
    """/building — choose the building again (a move, or a wrong first choice)."""
    _, person = ctx.require_actor()
    if person.community_id is None:
        await _ask_community(update, ctx)
        return
    await _ask_building(update, ctx, person.community_id)


async def _redeem(update: Update, ctx: Ctx, person: Person, code: str) -> None:
    redeemed = await ctx.svc.invites.redeem(person, code)
    role = ctx.t(f"roles.{redeemed.invite.role.value}")
    zone = ctx.t("invite.zone_suffix", zone=redeemed.zone.name) if redeemed.zone else ""
    key = "invite.already" if redeemed.already_had else "invite.joined"
    await reply(update, ctx.t(key, community=redeemed.community.name, role=role, zone=zone))
    actor, _ = ctx.require_actor()
    refreshed, _ = await ctx.svc.people.identify(
        person.telegram_id or 0, person.name, None, actor.super_admin
    )
    await reply(update, help_text(ctx, refreshed))


async def _ask_community(update: Update, ctx: Ctx) -> None:
    communities = await ctx.svc.people.communities()
    if not communities:
        await reply(update, ctx.t("start.no_communities"))
        return
    rows = [
        [InlineKeyboardButton(c.name, callback_data=callbacks.build(callbacks.START, "com", c.id))]
        for c in communities[:50]
    ]
    await reply(update, ctx.t("start.pick_community"), InlineKeyboardMarkup(rows))


async def _ask_building(update: Update, ctx: Ctx, community_id: int) -> None:
    buildings = await ctx.svc.people.buildings(community_id)
    rows, row = [], []
    for building, zone in buildings[:60]:
        data = callbacks.build(callbacks.START, "bld", building.id)
        row.append(InlineKeyboardButton(f"{building.name}·{zone.name}", callback_data=data))
        if len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    rows.append(
        [
            InlineKeyboardButton(
                ctx.t("start.skip"), callback_data=callbacks.build(callbacks.START, "skip")
            )
        ]
    )
    await reply(update, ctx.t("start.pick_building"), InlineKeyboardMarkup(rows))
    location = ReplyKeyboardMarkup(
        [[KeyboardButton(ctx.t("start.share_location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await reply(update, ctx.t("start.share_location"), location)


async def on_start_button(update: Update, ctx: Ctx) -> None:
    """Community or building chosen from the onboarding keyboards."""
    query = update.callback_query
    assert query is not None
    _, person = ctx.require_actor()
    cb = callbacks.parse(query.data, expect=callbacks.START)
    if cb.action == "com":
        chosen = await ctx.svc.people.choose_community(person, cb.int_arg())
        await answer(query)
        text = ctx.t("start.community_chosen", community=chosen.community.name)
        if chosen.left is not None:
            text += "\n" + ctx.t("start.home_moved", previous=chosen.left.name)
        await edit(update, text)
        await _ask_building(update, ctx, chosen.community.id)
    elif cb.action == "bld":
        building, zone = await ctx.svc.people.choose_building(person, cb.int_arg())
        await answer(query)
        await edit(update, ctx.t("start.building_chosen", building=building.name, zone=zone.name))
        await reply(update, ctx.t("start.next_steps"), ReplyKeyboardRemove())
    elif cb.action == "chg" and person.community_id is not None:
        await answer(query)
        await _ask_building(update, ctx, person.community_id)
    elif cb.action == "skip":
        await answer(query)
        await edit(update, ctx.t("start.skipped"))
    else:
        raise callbacks.StaleButton(query.data)


async def on_location(update: Update, ctx: Ctx) -> None:
    """A shared location in private chat places the resident in the nearest zone."""
    message = update.effective_message
    assert message is not None and message.location is not None
    _, person = ctx.require_actor()
    located = await ctx.svc.people.locate(
        person, message.location.latitude, message.location.longitude
    )
    building = f" {located.building.name}" if located.building else ""
    await reply(
        update,
        ctx.t(
            "start.location_matched",
            zone=located.zone.name,
            building=building,
            distance=round(located.distance_m),
        )
        + "\n"
        + ctx.t("start.next_steps"),
        ReplyKeyboardRemove(),
    )


async def language(update: Update, ctx: Ctx) -> None:
    """Offer the two languages."""
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "中文", callback_data=callbacks.build(callbacks.LANGUAGE, "set", "zh")
                ),
                InlineKeyboardButton(
                    "English", callback_data=callbacks.build(callbacks.LANGUAGE, "set", "en")
                ),
            ]
        ]
    )
    await reply(update, ctx.t("language.choose"), markup)


async def on_language_button(update: Update, ctx: Ctx) -> None:
    """Store the chosen language and answer in it."""
    query = update.callback_query
    assert query is not None
    _, person = ctx.require_actor()
    cb = callbacks.parse(query.data, expect=callbacks.LANGUAGE)
    try:
        chosen = Language(cb.args[0])
    except (IndexError, ValueError):
        raise callbacks.StaleButton(query.data) from None
    await ctx.svc.people.set_language(person, chosen)
    ctx.lang = chosen
    await answer(query)
    await edit(update, ctx.t("language.set"))


def help_text(ctx: Ctx, actor: Actor) -> str:
    roles = visible_roles(actor.roles)
    names = [ctx.t(f"roles.{r.value}") for r in roles]
    if actor.super_admin:
        names.append(ctx.t("roles.super_admin"))
    parts = [ctx.t("help.title")]
    if names:
        parts.append(
            ctx.t(
                "help.roles",
                roles="、".join(names) if ctx.lang is Language.ZH else ", ".join(names),
            )
        )
    for role in roles:
        parts.append(ctx.t(f"help.{role.value}"))
    if Role.RESIDENT not in roles:
        parts.append(ctx.t("help.resident"))
    if actor.super_admin:
        parts.append(ctx.t("help.super_admin"))
    parts.append(ctx.t("help.common"))
    return "\n\n".join(parts)


async def help_command(update: Update, ctx: Ctx) -> None:
    """Explain what this person can do, by their roles."""
    actor, _ = ctx.require_actor()
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await reply(update, ctx.t("help.group") + "\n" + deep_link(ctx, "help"))
        return
    await reply(update, help_text(ctx, actor))


async def cancel(update: Update, ctx: Ctx) -> None:
    """Drop whatever multi-step action is under way."""
    _, person = ctx.require_actor()
    had = await ctx.svc.inbox.cancel(person)
    await reply(update, ctx.t("cancel.done" if had else "cancel.nothing"), ReplyKeyboardRemove())


async def stale_button(update: Update, ctx: Ctx) -> None:
    """A button no handler claims: old version, forged, or from a removed flow."""
    query = update.callback_query
    assert query is not None
    await answer(query, ctx.t("errors.button_expired"), show_alert=True)


async def unknown_command(update: Update, ctx: Ctx) -> None:
    """Private-chat commands nobody handles get a pointer to /help."""
    await reply(update, ctx.t("errors.unknown_command"))


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    return [
        CommandHandler("start", start, filters=PRIVATE & NOT_EDITED),
        CommandHandler("help", help_command, filters=NOT_EDITED),
        CommandHandler("building", building, filters=PRIVATE & NOT_EDITED),
        CommandHandler("language", language, filters=PRIVATE & NOT_EDITED),
        CommandHandler("cancel", cancel, filters=PRIVATE & NOT_EDITED),
        CallbackQueryHandler(on_start_button, pattern=callbacks.pattern(callbacks.START)),
        CallbackQueryHandler(on_language_button, pattern=callbacks.pattern(callbacks.LANGUAGE)),
    ]


def fallbacks() -> list[BaseHandler[Update, Ctx, None]]:
    """Registered last in group 0: nothing else claimed the update."""
    return [
        CallbackQueryHandler(stale_button),
        MessageHandler(PRIVATE & filters.COMMAND & NOT_EDITED, unknown_command),
    ]
