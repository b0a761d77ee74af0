"""Volunteers: sign up from the group's deep link, cancel, check in on site, check out;
/volunteer for my activities and hours, /activities, /newactivity and /roster for organisers."""

from __future__ import annotations

import csv
import html
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.domain.errors import InvalidInput
from bot.domain.volunteers import Activity, SignupStatus
from bot.i18n import Span
from bot.services.volunteers import SIGNUP_PREFIX, title_of, when
from handlers.base import Ctx, answer, community_tz, deep_link, edit, parse_id, reply

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED


def _button(label: str, action: str, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.build(callbacks.VOLUNTEER, action, *args)
    )


async def _when(ctx: Ctx, activity: Activity) -> Span:
    return when(activity, await community_tz(ctx, activity.community_id))


async def sign_up_link(update: Update, ctx: Ctx, activity_id: int) -> None:
    """/start vol_<id>: the group's Sign up button lands here."""
    _, person = ctx.require_actor()
    result = await ctx.svc.volunteers.sign_up(person, activity_id)
    activity = result.activity
    if result.status is SignupStatus.CONFIRMED:
        text = ctx.t(
            "volunteer.signed_up",
            title=title_of(activity),
            when=await _when(ctx, activity),
            place=activity.place,
        )
    else:
        text = ctx.t("volunteer.waitlisted", title=title_of(activity), position=result.position)
    if result.already:
        text = ctx.t("volunteer.already") + "\n" + text
    markup = InlineKeyboardMarkup(
        [
            [
                _button(ctx.t("volunteer.check_in_button"), "in", activity.id),
                _button(ctx.t("volunteer.check_out_button"), "out", activity.id),
            ],
            [_button(ctx.t("volunteer.cancel_button"), "cancel", activity.id)],
            [_button(ctx.t("volunteer.name_me_button"), "named", 1)],
        ]
    )
    await reply(update, text, markup)
    if person.phone is None and not result.already:
        # Asked once: organisers need a number to reach volunteers on the day.
        ask = ReplyKeyboardMarkup(
            [[KeyboardButton(ctx.t("volunteer.share_phone_button"), request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await reply(update, ctx.t("volunteer.ask_phone"), ask)


async def my_activities(update: Update, ctx: Ctx) -> None:
    """/volunteer — my activities and hours served."""
    _, person = ctx.require_actor()
    rows, total = await ctx.svc.volunteers.mine(person)
    lines = [ctx.t("volunteer.mine_title", hours=f"{total:g}")]
    for activity, signup, hours in rows:
        lines.append(
            ctx.t(
                "volunteer.mine_line",
                title=title_of(activity),
                when=await _when(ctx, activity),
                status=ctx.t(f"volunteer.status_{signup.status.value}"),
                hours=f"{hours:g}",
            )
        )
    if not rows:
        lines.append(ctx.t("volunteer.mine_empty"))
    await reply(update, "\n".join(lines))


async def list_activities(update: Update, ctx: Ctx) -> None:
    """/activities — upcoming activities with sign-up buttons."""
    _, person = ctx.require_actor()
    if person.community_id is None:
        raise InvalidInput("start.pick_community_first")
    activities = await ctx.svc.volunteers.upcoming(person.community_id)
    if not activities:
        await reply(update, ctx.t("volunteer.none_upcoming"))
        return
    for activity in activities[:10]:
        link = deep_link(ctx, f"{SIGNUP_PREFIX}{activity.id}")
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(ctx.t("volunteer.sign_up_button"), url=link)]]
        )
        await reply(
            update,
            ctx.t(
                "volunteer.activity_line",
                id=activity.id,
                title=title_of(activity),
                when=await _when(ctx, activity),
                place=activity.place,
                headcount=activity.headcount,
            ),
            markup,
        )


async def new_activity(update: Update, ctx: Ctx) -> None:
    """/newactivity 2026-12-05 09:00 2 20 Title / Place — organisers create an activity."""
    actor, _ = ctx.require_actor()
    args = ctx.args or []
    text = " ".join(args[4:])
    title, _, place = text.partition("/")
    tz = ZoneInfo(await community_tz(ctx))
    try:
        starts = datetime.fromisoformat(f"{args[0]}T{args[1]}").replace(tzinfo=tz)
        hours, headcount = float(args[2]), int(args[3])
    except (IndexError, ValueError):
        await reply(update, ctx.t("volunteer.usage_new"))
        return
    activity = await ctx.svc.volunteers.create(
        actor, title, place or title, starts, hours, headcount
    )
    link = deep_link(ctx, f"{SIGNUP_PREFIX}{activity.id}")
    await reply(
        update,
        ctx.t(
            "volunteer.created",
            id=activity.id,
            title=title_of(activity),
            when=await _when(ctx, activity),
            link=link,
        ),
    )


async def roster(update: Update, ctx: Ctx) -> None:
    """/roster ID — who signed up, who waits, hours; also as a CSV file."""
    actor, _ = ctx.require_actor()
    activity_id = parse_id(ctx.args[0]) if ctx.args else None
    if activity_id is None:
        await reply(update, ctx.t("volunteer.usage_roster"))
        return
    found = await ctx.svc.volunteers.roster(actor, activity_id)
    lines = [
        ctx.t(
            "volunteer.roster_title",
            title=title_of(found.activity),
            count=len(found.confirmed),
            headcount=found.activity.headcount,
        )
    ]
    for person, signup, hours in found.confirmed:
        mark = "✅" if signup.checked_in_at else "·"
        lines.append(f"{mark} {person.name} {person.phone or ''} {hours:g}h".rstrip())
    if found.waiting:
        lines.append(ctx.t("volunteer.roster_waiting", count=len(found.waiting)))
        lines += [f"… {p.name}" for p, _ in found.waiting]
    # Names are user text: escape everything after the (already escaped) title line.
    await reply(update, "\n".join([lines[0], *(html.escape(line) for line in lines[1:])]))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名 name", "电话 phone", "状态 status", "签到 check-in", "时长 hours"])
    # Whoever opens the file reads the status in their language and times on the local clock.
    confirmed, waitlisted = (
        ctx.t("volunteer.status_confirmed"),
        ctx.t("volunteer.status_waitlisted"),
    )
    tz = ZoneInfo(await community_tz(ctx, found.activity.community_id))
    for person, signup, hours in found.confirmed:
        checked_in = signup.checked_in_at
        local = f"{checked_in.astimezone(tz):%Y-%m-%d %H:%M}" if checked_in else ""
        writer.writerow([person.name, person.phone or "", confirmed, local, hours])
    for person, _signup in found.waiting:
        writer.writerow([person.name, person.phone or "", waitlisted, "", 0])
    chat = update.effective_chat
    assert chat is not None
    await chat.send_document(
        ("\ufeff" + buffer.getvalue()).encode(), filename=f"roster-{found.activity.id}.csv"
    )


async def on_button(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    _, person = ctx.require_actor()
    cb = callbacks.parse(query.data, expect=callbacks.VOLUNTEER)
    svc = ctx.svc.volunteers
    if cb.action == "cancel":
        activity = await svc.cancel(person, cb.int_arg())
        await answer(query)
        await edit(update, ctx.t("volunteer.cancelled", title=title_of(activity)))
    elif cb.action == "in":
        await svc.ask_check_in(person, cb.int_arg())
        await answer(query)
        markup = ReplyKeyboardMarkup(
            [[KeyboardButton(ctx.t("start.share_location"), request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await reply(update, ctx.t("volunteer.check_in_how"), markup)
    elif cb.action == "out":
        hours = await svc.check_out(person, cb.int_arg())
        await answer(query)
        await reply(update, ctx.t("volunteer.checked_out", hours=f"{hours:g}"))
    elif cb.action == "named":
        await svc.set_named(person, cb.int_arg() == 1)
        await answer(query, ctx.t("volunteer.named_ok"))
    else:
        raise callbacks.StaleButton(query.data)


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    private = PRIVATE & NOT_EDITED
    return [
        CommandHandler("volunteer", my_activities, filters=private),
        CommandHandler("activities", list_activities, filters=private),
        CommandHandler("newactivity", new_activity, filters=private),
        CommandHandler("roster", roster, filters=private),
        CallbackQueryHandler(on_button, pattern=callbacks.pattern(callbacks.VOLUNTEER)),
    ]
