"""Reporting a problem in private chat: photos, category, place, description, confirm.

See docs/flows/report.mmd. Each answer is stored in the draft at once; the bot then
asks only for what is still missing.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.domain.reports import (
    CATEGORIES,
    MAX_DESCRIPTION,
    PlaceOption,
    Step,
    clean_description,
    description_clipped,
    place_page,
)
from bot.domain.tickets import Ticket
from bot.i18n import Day
from bot.services.reports import DraftView
from bot.services.ticket_cards import format_due, format_local
from handlers.base import Ctx, answer, community_tz, deep_link, edit, reply
from handlers.photos import origin_key, receive_photo

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
NOT_EDITED = ~filters.UpdateType.EDITED
REPORT_PAYLOAD = "report"
MAX_FOUND_PLACES = 30


def _button(label: str, action: str, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.build(callbacks.REPORT, action, *args)
    )


async def start_report(update: Update, ctx: Ctx) -> None:
    """/report in private chat: a report without a photo yet."""
    actor, person = ctx.require_actor()
    message = update.effective_message
    assert message is not None
    view = await ctx.svc.reports.start(actor, person, origin_key(message))
    await ask_next(update, ctx, view)


async def on_photo(update: Update, ctx: Ctx, message: Message) -> None:
    """A photo (or image file) in private chat starts or extends a report."""
    actor, person = ctx.require_actor()
    photo = await receive_photo(message, ctx)
    view, ask = await ctx.svc.reports.add_photo(
        actor, person, photo, message.caption, origin_key(message), message.media_group_id
    )
    if ask:
        await reply(update, ctx.t("report.photo_received", count=len(view.draft.photos)))
        caption = message.caption or ""
        if description_clipped(caption) and view.draft.description == _clipped(caption):
            await _say_clipped(update, ctx, caption)
        await ask_next(update, ctx, view)


async def on_text(update: Update, ctx: Ctx, message: Message) -> None:
    """Free text: the description if a draft asks for one, otherwise a hint."""
    _, person = ctx.require_actor()
    view = await ctx.svc.reports.current(person)
    if view is None:
        await reply(update, ctx.t("report.hint"))
        return
    text = message.text or ""
    if view.step is Step.PLACE:
        # At "where?", typed text is a place name to look for, not the description.
        await _search_places(update, ctx, text)
        return
    view = await ctx.svc.reports.set_description(person, text)
    if description_clipped(text):
        await _say_clipped(update, ctx, text)
    await ask_next(update, ctx, view)


def _clipped(text: str) -> str:
    return clean_description(text)[:MAX_DESCRIPTION]


async def _say_clipped(update: Update, ctx: Ctx, text: str) -> None:
    length = len(clean_description(text))
    await reply(update, ctx.t("report.description_clipped", max=MAX_DESCRIPTION, length=length))


def phone_keyboard(ctx: Ctx) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(ctx.t("report.share_phone"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def on_location(update: Update, ctx: Ctx, message: Message) -> bool:
    """A location answers 'where?' when a draft is waiting for it; False otherwise."""
    _, person = ctx.require_actor()
    view = await ctx.svc.reports.current(person)
    if view is None or view.step is not Step.PLACE or message.location is None:
        return False
    view = await ctx.svc.reports.set_place_location(
        person, message.location.latitude, message.location.longitude
    )
    await reply(
        update,
        ctx.t(
            "report.place_set",
            place=view.place_name or "",
            zone=view.zone.name if view.zone else "",
        ),
        ReplyKeyboardRemove(),
    )
    await ask_next(update, ctx, view)
    return True


async def on_contact(update: Update, ctx: Ctx) -> None:
    """The reporter shares their own phone to show the assigned cadre."""
    _, person = ctx.require_actor()
    message = update.effective_message
    assert message is not None and message.contact is not None
    user = update.effective_user
    if user is None or message.contact.user_id != user.id:
        await reply(update, ctx.t("report.own_contact_only"))
        return
    if await ctx.svc.reports.current(person) is None:
        # Not for a report: volunteers give their phone once, for organisers' rosters.
        await ctx.svc.people.set_phone(person, message.contact.phone_number)
        await reply(update, ctx.t("volunteer.phone_saved"), ReplyKeyboardRemove())
        return
    view = await ctx.svc.reports.set_share_phone(person, message.contact.phone_number)
    await reply(update, ctx.t("report.phone_shared"), ReplyKeyboardRemove())
    await ask_next(update, ctx, view)


async def ask_next(update: Update, ctx: Ctx, view: DraftView) -> None:
    """Ask for exactly what the draft is missing."""
    step = view.step
    if step is Step.PHOTO:
        markup = InlineKeyboardMarkup(
            [
                [_button(ctx.t("report.continue_without_photo"), "nophoto")],
                [_button(ctx.t("buttons.cancel"), "cancel")],
            ]
        )
        await reply(update, ctx.t("report.ask_photo"), markup)
    elif step is Step.CATEGORY:
        buttons = [_button(ctx.t(f"categories.{c}"), "cat", c) for c in CATEGORIES]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        await reply(update, ctx.t("report.ask_category"), InlineKeyboardMarkup(rows))
    elif step is Step.PLACE:
        text, markup = await _place_picker(ctx, 0)
        await reply(update, text, markup)
        location = ReplyKeyboardMarkup(
            [[KeyboardButton(ctx.t("start.share_location"), request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await reply(update, ctx.t("report.or_location"), location)
    elif step is Step.DESCRIPTION:
        markup = InlineKeyboardMarkup([[_button(ctx.t("report.skip_description"), "nodesc")]])
        await reply(update, ctx.t("report.ask_description"), markup)
    elif not view.draft.duplicates_seen and await _offer_duplicates(update, ctx):
        return
    else:
        await _confirm(update, ctx, view)


def _place_rows(
    options: tuple[PlaceOption, ...] | list[PlaceOption],
) -> list[list[InlineKeyboardButton]]:
    buttons = [_button(o.name, o.kind, o.id) for o in options]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


async def _place_picker(ctx: Ctx, page: int) -> tuple[str, InlineKeyboardMarkup]:
    """One page of every building and site, grouped by zone, the resident's own first."""
    _, person = ctx.require_actor()
    shown = place_page(await ctx.svc.reports.place_options(person), page)
    rows = _place_rows(shown.options)
    nav = []
    if shown.page > 0:
        nav.append(_button(ctx.t("report.page_prev"), "pg", shown.page - 1))
    if shown.page < shown.pages - 1:
        nav.append(_button(ctx.t("report.page_next"), "pg", shown.page + 1))
    if nav:
        rows.append(nav)
    zones = " · ".join(dict.fromkeys(o.zone_name for o in shown.options if o.zone_name))
    text = ctx.t("report.ask_place", page=shown.page + 1, pages=shown.pages, zones=zones or "—")
    return text, InlineKeyboardMarkup(rows)


async def _search_places(update: Update, ctx: Ctx, query: str) -> None:
    """Typed text at "where?": matching buildings and sites as buttons, else the picker."""
    _, person = ctx.require_actor()
    found = await ctx.svc.reports.search_places(person, query)
    shown_query = " ".join(query.split())[:40]
    if not found:
        await reply(update, ctx.t("report.place_none", query=shown_query))
        text, markup = await _place_picker(ctx, 0)
        await reply(update, text, markup)
        return
    rows = _place_rows(found[:MAX_FOUND_PLACES])
    rows.append([_button(ctx.t("report.place_all"), "pg", 0)])
    key = "report.place_found" if len(found) <= MAX_FOUND_PLACES else "report.place_found_many"
    text = ctx.t(key, query=shown_query, count=len(found), shown=MAX_FOUND_PLACES)
    await reply(update, text, InlineKeyboardMarkup(rows))


async def _offer_duplicates(update: Update, ctx: Ctx) -> bool:
    _, person = ctx.require_actor()
    found = await ctx.svc.reports.duplicates(person)
    await ctx.svc.reports.duplicates_seen(person)
    if not found:
        return False
    await reply(update, ctx.t("report.duplicates_found", count=len(found)))
    chat = update.effective_chat
    assert chat is not None
    for dup in found:
        distance = (
            ctx.t("report.distance", metres=round(dup.distance_m))
            if dup.distance_m is not None
            else ""
        )
        # Category, place, photo and time only: the description is another resident's
        # own words and may carry a name or a phone number.
        text = ctx.t(
            "report.duplicate_line",
            number=dup.ticket.number,
            status=ctx.t(f"status.{dup.ticket.status.value}"),
            supporters=dup.ticket.supporters,
            distance=distance,
            category=ctx.t(f"categories.{dup.ticket.category}"),
            place=dup.place_name or "—",
            time=format_local(
                dup.ticket.created_at, await community_tz(ctx, dup.ticket.community_id)
            ),
        )
        markup = InlineKeyboardMarkup(
            [[_button(ctx.t("report.follow", number=dup.ticket.number), "dup", dup.ticket.id)]]
        )
        if dup.photo:
            data = await asyncio.to_thread((ctx.svc.settings.data_dir / dup.photo).read_bytes)
            await chat.send_photo(data, caption=text, reply_markup=markup)
        else:
            await chat.send_message(text, reply_markup=markup)
    await reply(
        update,
        ctx.t("report.not_duplicate_hint"),
        InlineKeyboardMarkup([[_button(ctx.t("report.new_anyway"), "new")]]),
    )
    return True


async def _confirm(update: Update, ctx: Ctx, view: DraftView) -> None:
    draft = view.draft
    summary = ctx.t(
        "report.summary",
        photos=len(draft.photos),
        category=ctx.t(f"categories.{draft.category}"),
        place=view.place_name or (view.zone.name if view.zone else "—"),
        zone=view.zone.name if view.zone else "—",
        description=draft.description or "—",
        anonymity=ctx.t("report.anonymous_yes" if draft.anonymous else "report.anonymous_no"),
        phone=ctx.t("report.phone_yes" if draft.share_phone else "report.phone_no"),
    )
    markup = InlineKeyboardMarkup(
        [
            [_button(ctx.t("report.submit"), "ok")],
            [
                _button(ctx.t("report.toggle_anonymous"), "anon"),
                _button(ctx.t("report.share_phone"), "phone"),
            ],
            [_button(ctx.t("buttons.cancel"), "cancel")],
        ]
    )
    await reply(update, summary, markup)


async def on_button(update: Update, ctx: Ctx) -> None:
    """Every report button: the draft is reloaded and the step re-checked each time."""
    query = update.callback_query
    assert query is not None
    actor, person = ctx.require_actor()
    cb = callbacks.parse(query.data, expect=callbacks.REPORT)
    reports = ctx.svc.reports
    # Answered once the action worked; a refusal is answered by the error handler as an alert.
    if cb.action == "cancel":
        await reports.cancel(person)
        await answer(query)
        await edit(update, ctx.t("report.cancelled"))
        return
    if cb.action == "ok":
        filed = await reports.submit(actor, person)
        await answer(query)
        await edit(
            update,
            ctx.t("report.filed", number=filed.ticket.number, due=await _due(ctx, filed.ticket)),
        )
        return
    if cb.action == "dup":
        ticket = await reports.follow(actor, person, cb.int_arg())
        await answer(query)
        await edit(update, ctx.t("report.following", number=ticket.number))
        return
    if cb.action == "new":
        view = await reports.duplicates_seen(person)
        await answer(query)
        await edit(update, ctx.t("report.new_anyway_ok"))
        await _confirm(update, ctx, view)
        return
    if cb.action == "phone":
        await reports.ask_phone(person)
        await answer(query)
        await reply(update, ctx.t("report.ask_phone"), phone_keyboard(ctx))
        return
    if cb.action == "pg":
        text, markup = await _place_picker(ctx, cb.int_arg())
        await answer(query)
        await edit(update, text, markup)
        return
    if cb.action == "nophoto":
        view = await reports.nudged(person)
    elif cb.action == "cat":
        view = await reports.set_category(person, cb.args[0] if cb.args else "")
    elif cb.action == "bld":
        view = await reports.set_place_building(person, cb.int_arg())
    elif cb.action == "site":
        view = await reports.set_place_site(person, cb.int_arg())
    elif cb.action == "nodesc":
        view = await reports.skip_description(person)
    elif cb.action == "anon":
        view = await reports.toggle_anonymous(person)
    else:
        raise callbacks.StaleButton(query.data)
    await answer(query)
    await edit(update, _picked(ctx, cb.action, view))
    await ask_next(update, ctx, view)


def _picked(ctx: Ctx, action: str, view: DraftView) -> str:
    """What the pressed choice recorded, so the edited message still says it."""
    draft = view.draft
    if action == "cat" and draft.category:
        return ctx.t("report.picked_category", category=ctx.t(f"categories.{draft.category}"))
    if action in ("bld", "site") and view.place_name:
        return ctx.t(
            "report.place_set", place=view.place_name, zone=view.zone.name if view.zone else "—"
        )
    if action == "nophoto":
        return ctx.t("report.picked_no_photo")
    if action == "nodesc":
        return ctx.t("report.picked_no_description")
    if action == "anon":
        return ctx.t("report.anonymous_yes" if draft.anonymous else "report.anonymous_no")
    return ctx.t("report.noted")


async def _due(ctx: Ctx, ticket: Ticket) -> Day | str:
    return format_due(ticket, await community_tz(ctx, ticket.community_id))


async def in_group(update: Update, ctx: Ctx) -> None:
    """/report (or a photo tagged #报告) in a group: continue privately, so nothing is exposed."""
    link = deep_link(ctx, REPORT_PAYLOAD)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(ctx.t("report.open_private"), url=link)]])
    await reply(update, ctx.t("report.go_private"), markup)


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    return [
        CommandHandler("report", start_report, filters=PRIVATE & NOT_EDITED),
        CommandHandler("report", in_group, filters=GROUPS & NOT_EDITED),
        MessageHandler(
            GROUPS & filters.PHOTO & filters.CaptionRegex(r"#(报告|report)") & NOT_EDITED, in_group
        ),
        MessageHandler(PRIVATE & filters.CONTACT & NOT_EDITED, on_contact),
        CallbackQueryHandler(on_button, pattern=callbacks.pattern(callbacks.REPORT)),
    ]
