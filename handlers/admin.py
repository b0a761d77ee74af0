"""Admin commands in private chat: communities, zones, sites, invites, people, imports."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, JiayuanError, NotAllowed
from bot.domain.models import Language, Role
from bot.domain.rules import BOUNDS as RULE_BOUNDS
from bot.i18n import Moment, Safe, site_category
from bot.importer import ImportFailed
from bot.importer.worker import load_plan_isolated
from bot.services.invites import INVITE_PREFIX
from handlers.base import (
    Ctx,
    answer,
    command_args,
    community_tz,
    deep_link,
    edit,
    parse_id,
    reply,
)
from handlers.errors import tell_error

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED
MAX_IMPORT_MB = 5
IMPORT_SUFFIXES = (".xlsx", ".yaml", ".yml", ".csv")
MAX_INVITES_LISTED = 30  # one Revoke button each, within one message


async def new_community(update: Update, ctx: Ctx) -> None:
    """/newcommunity CODE NAME — super-admins create a community."""
    actor, _ = ctx.require_actor()
    args = command_args(ctx)
    if len(args) < 2:
        await reply(update, ctx.t("admin.usage_newcommunity"))
        return
    community = await ctx.svc.communities.create(actor, args[0], " ".join(args[1:]))
    await reply(update, ctx.t("admin.community_created", name=community.name, code=community.code))


async def add_zone(update: Update, ctx: Ctx) -> None:
    """/addzone CODE NAME."""
    actor, _ = ctx.require_actor()
    args = command_args(ctx)
    if len(args) < 2:
        await reply(update, ctx.t("admin.usage_addzone"))
        return
    zone = await ctx.svc.communities.add_zone(actor, args[0], " ".join(args[1:]))
    await reply(update, ctx.t("admin.zone_added", name=zone.name, code=zone.code))


async def add_site(update: Update, ctx: Ctx) -> None:
    """/addsite NAME / CATEGORY / ZONE."""
    actor, _ = ctx.require_actor()
    parts = [p.strip() for p in " ".join(command_args(ctx)).replace("|", "/").split("/")]
    if len(parts) < 3 or not all(parts[:3]):
        await reply(update, ctx.t("admin.usage_addsite"))
        return
    site, zone = await ctx.svc.communities.add_site(actor, parts[0], parts[1], parts[2])
    await reply(
        update,
        ctx.t(
            "admin.site_added",
            name=site.name,
            category=site_category(site.category),
            zone=zone.name,
        ),
    )


async def invite(update: Update, ctx: Ctx) -> None:
    """/invite ROLE [ZONE] [USES] [DAYS] — a deep link that hands out a role."""
    actor, _ = ctx.require_actor()
    args = command_args(ctx)
    if not args:
        await reply(update, ctx.t("admin.usage_invite"))
        return
    try:
        role = Role(args[0].lower())
    except ValueError:
        await reply(update, ctx.t("admin.usage_invite"))
        return
    rest = args[1:]
    zone_code = rest.pop(0) if rest and parse_id(rest[0]) is None else None
    numbers = [n for n in (parse_id(a) for a in rest) if n is not None]
    if len(numbers) != len(rest):
        raise InvalidInput("admin.usage_invite")
    uses = numbers[0] if numbers else 1
    days = numbers[1] if len(numbers) > 1 else None
    created, zone = await ctx.svc.invites.create(actor, role, zone_code, uses, days)
    await reply(
        update,
        ctx.t(
            "admin.invite_created",
            role=ctx.t(f"roles.{role.value}"),
            zone=ctx.t("invite.zone_suffix", zone=zone.name) if zone else "",
            uses=created.max_uses,
            expires=await _date(created.expires_at, ctx),
            link=deep_link(ctx, INVITE_PREFIX + created.code),
        ),
    )


async def list_invites(update: Update, ctx: Ctx) -> None:
    """/invites — the links still usable, each with a Revoke button."""
    actor, _ = ctx.require_actor()
    text, markup = await _invites_view(ctx, actor)
    await reply(update, text, markup)


async def on_invite_button(update: Update, ctx: Ctx) -> None:
    """Revoke a link from the /invites list; the service re-checks the admin's rights."""
    query = update.callback_query
    assert query is not None
    actor, _ = ctx.require_actor()
    cb = callbacks.parse(query.data, expect=callbacks.INVITE)
    if cb.action != "rev" or len(cb.args) != 1:
        raise callbacks.StaleButton(query.data)
    await ctx.svc.invites.revoke(actor, cb.args[0])
    await answer(query, ctx.t("admin.invite_revoked"))
    text, markup = await _invites_view(ctx, actor)
    await edit(update, ctx.t("admin.invite_revoked") + "\n\n" + text, markup)


async def _invites_view(ctx: Ctx, actor: Actor) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await ctx.svc.invites.open_links(actor)
    if not found:
        return ctx.t("admin.no_invites"), None
    lines = [ctx.t("admin.invites_title")]
    rows = []
    for n, (inv, zone) in enumerate(found[:MAX_INVITES_LISTED], start=1):
        lines.append(
            ctx.t(
                "admin.invite_line",
                n=n,
                role=ctx.t(f"roles.{inv.role.value}"),
                zone=ctx.t("invite.zone_suffix", zone=zone.name) if zone else "",
                left=inv.max_uses - inv.uses,
                uses=inv.max_uses,
                expires=await _date(inv.expires_at, ctx),
                code=inv.code,
            )
        )
        data = callbacks.build(callbacks.INVITE, "rev", inv.code)
        label = ctx.t("buttons.revoke_invite", n=n)
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def people(update: Update, ctx: Ctx) -> None:
    """/people — everyone holding a role here, with ids for /revoke."""
    actor, _ = ctx.require_actor()
    listed = await ctx.svc.people.list_people(actor)
    if not listed:
        await reply(update, ctx.t("admin.no_people"))
        return
    overview = await ctx.svc.communities.overview(actor.community_id or 0)
    lines = [ctx.t("admin.people_title", community=overview.community.name)]
    for person, grants in listed[:100]:
        roles = ", ".join(sorted({ctx.t(f"roles.{g.role.value}") for g in grants}))
        lines.append(
            ctx.t(
                "admin.person_line",
                id=person.id,
                name=person.name,
                phone=f" {person.phone}" if person.phone else "",
                roles=roles,
                unlinked=ctx.t("admin.unlinked") if person.telegram_id is None else "",
            )
        )
    await reply(update, "\n".join(lines))


async def revoke(update: Update, ctx: Ctx) -> None:
    """/revoke PERSON_ID ROLE."""
    actor, _ = ctx.require_actor()
    args = command_args(ctx)
    person_id = parse_id(args[0]) if len(args) == 2 else None
    if person_id is None:
        await reply(update, ctx.t("admin.usage_revoke"))
        return
    try:
        role = Role(args[1].lower())
    except ValueError:
        await reply(update, ctx.t("admin.usage_revoke"))
        return
    person = await ctx.svc.people.revoke(actor, person_id, role)
    await reply(
        update, ctx.t("admin.role_revoked", name=person.name, role=ctx.t(f"roles.{role.value}"))
    )


async def block(update: Update, ctx: Ctx) -> None:
    """/block PERSON_ID and /unblock PERSON_ID — stop or allow someone's reports."""
    actor, _ = ctx.require_actor()
    args = command_args(ctx)
    message = update.effective_message
    assert message is not None
    blocking = (message.text or "").startswith("/block")
    person_id = parse_id(args[0]) if len(args) == 1 else None
    if person_id is None:
        await reply(update, ctx.t("admin.usage_block"))
        return
    person = await ctx.svc.people.block_reporting(actor, person_id, blocking)
    key = "admin.blocked" if blocking else "admin.unblocked"
    await reply(update, ctx.t(key, name=person.name))


async def settings(update: Update, ctx: Ctx) -> None:
    """/settings — the community's rules; /set KEY VALUE changes one."""
    actor, _ = ctx.require_actor()
    if actor.community_id is None:
        raise InvalidInput("start.pick_community_first")
    ov = await ctx.svc.communities.overview(actor.community_id)
    lines = [ctx.t("admin.settings_title")]
    lines += [_setting_line(ctx, key, value) for key, value in ov.rules.to_mapping().items()]
    lines.append(ctx.t("admin.settings_hint"))
    await reply(update, "\n".join(lines))


def _setting_line(ctx: Ctx, name: str, value: str) -> str:
    """A rule by its name in the reader's language, its value, bounds and one line of help."""
    low, high = RULE_BOUNDS.get(name, (None, None))
    bounds = "" if low is None else ctx.t("admin.setting_bounds", low=f"{low:g}", high=f"{high:g}")
    return ctx.t(
        "admin.setting_line",
        label=ctx.t(f"admin.rule_{name}"),
        value=value,
        bounds=Safe(bounds),
        name=name,
        help=ctx.t(f"admin.rule_{name}_help"),
    )


async def set_setting(update: Update, ctx: Ctx) -> None:
    """/set KEY VALUE."""
    actor, _ = ctx.require_actor()
    args = command_args(ctx)
    if len(args) < 2:
        raise InvalidInput("admin.settings_hint")
    changed = await ctx.svc.communities.set_rule(actor, args[0], " ".join(args[1:]))
    await reply(
        update, ctx.t("admin.setting_changed", name=args[0], value=changed.to_mapping()[args[0]])
    )


async def holiday(update: Update, ctx: Ctx) -> None:
    """/holiday 2027-01-01 [workday] [note] — an extra day off, or a make-up working day."""
    actor, _ = ctx.require_actor()
    args = command_args(ctx)
    try:
        day = date.fromisoformat(args[0])
    except (IndexError, ValueError):
        raise InvalidInput("admin.usage_holiday") from None
    workday = len(args) > 1 and args[1].lower() in ("workday", "上班", "调休")
    note = " ".join(args[2:] if workday else args[1:])
    moved = await ctx.svc.communities.set_day(actor, day, workday, note)
    key = "admin.workday_set" if workday else "admin.holiday_set"
    text = ctx.t(key, day=day.isoformat())
    if moved:
        text += "\n" + ctx.t("calendar.redated_count", count=moved)
    await reply(update, text)


async def community(update: Update, ctx: Ctx) -> None:
    """/community — the community at a glance."""
    actor, _ = ctx.require_actor()
    if actor.community_id is None:
        raise InvalidInput("start.pick_community_first")
    if not (actor.is_admin() or actor.has(Role.LEADER)):
        raise NotAllowed()
    ov = await ctx.svc.communities.overview(actor.community_id)
    listed = (
        {p.id: p for p, _ in await ctx.svc.people.list_people(actor)} if actor.is_admin() else {}
    )
    lines = [
        ctx.t(
            "admin.overview",
            name=ov.community.name,
            code=ov.community.code,
            zones=len(ov.zones),
            buildings=ov.buildings,
            sites=ov.sites,
            groups=len(ov.groups),
            rectify=ov.rules.rectify_workdays,
            clean_day=ov.rules.clean_day,
            inspections=",".join(str(d) for d in ov.rules.inspection_days),
        )
    ]
    for zone in ov.zones:
        cadre = listed.get(zone.responsible_person_id or 0)
        lines.append(
            ctx.t(
                "admin.zone_line",
                code=zone.code,
                name=zone.name,
                cadre=cadre.name if cadre else ctx.t("admin.no_cadre"),
            )
        )
    await reply(update, "\n".join(lines))


async def import_document(update: Update, ctx: Ctx) -> None:
    """A ledger file sent with the caption /import: load it, all or nothing."""
    actor, _ = ctx.require_actor()
    message = update.effective_message
    assert message is not None and message.document is not None
    if not actor.is_admin():
        raise NotAllowed()
    document = message.document
    name = document.file_name or ""
    if not name.lower().endswith(IMPORT_SUFFIXES):
        await reply(update, ctx.t("admin.import_bad_file"))
        return
    if (document.file_size or 0) > MAX_IMPORT_MB * 1024 * 1024:
        await reply(update, ctx.t("admin.import_too_big", max_mb=MAX_IMPORT_MB))
        return
    # This chat's next update is handled only after this returns (the inbox keeps a
    # chat's order), so the file is read in the background: nobody waits for it.
    # Application.stop() waits for the task.
    ctx.application.create_task(
        _import(update, ctx, actor, document), update=update, name=f"import:{message.chat_id}"
    )


async def _import(update: Update, ctx: Ctx, actor: Actor, document: Document) -> None:
    """Download, read in a worker process, then write in one transaction and answer."""
    try:
        file = await document.get_file()
        with tempfile.TemporaryDirectory() as tmp:
            # The name is user input: only its suffix is used, never as a path.
            name = (document.file_name or "").replace(chr(0), "")
            suffix = Path(name).suffix.lower()
            path = Path(tmp) / f"upload{suffix}"
            await file.download_to_drive(path)
            code = None
            if path.suffix.lower() == ".csv":
                overview = await ctx.svc.communities.overview(actor.community_id or 0)
                code = overview.community.code
            try:
                plan = await load_plan_isolated(path, community_code=code)
            except ImportFailed as failed:
                errors = _problems(failed, path.name, Path(name).name, ctx.lang is Language.EN)
                await reply(update, ctx.t("admin.import_failed", errors=errors[:3500]))
                return
        if not actor.super_admin and actor.community_id is not None:
            current = await ctx.svc.communities.overview(actor.community_id)
            if plan.code != current.community.code:
                raise NotAllowed()
        summary = await ctx.svc.communities.apply_plan(plan)
    except JiayuanError as refused:
        # Said here, in the reader's language: the error handler's context has no actor.
        await tell_error(update, ctx, refused)
        return
    lines = [
        ctx.t(
            "admin.import_done",
            community=summary.community.name,
            zones=summary.zones,
            buildings=summary.buildings,
            sites=summary.sites,
        )
    ]
    if summary.cadre_invites:
        lines.append(ctx.t("admin.import_invites"))
        for zone_code, cadre_name, code in summary.cadre_invites:
            link = deep_link(ctx, INVITE_PREFIX + code)
            lines.append(
                ctx.t("admin.import_invite_line", zone=zone_code, name=cadre_name, link=link)
            )
    await reply(update, "\n".join(lines))


def _problems(failed: ImportFailed, upload: str, sent: str, english: bool) -> str:
    """One line per problem in the reader's language; the file named as the admin sent it."""
    return "\n".join(
        (replace(error, sheet=sent) if error.sheet == upload and sent else error).text(
            english=english
        )
        for error in failed.errors
    )


async def _date(value: datetime, ctx: Ctx) -> Moment:
    return Moment.of(value, await community_tz(ctx))


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    private = PRIVATE & NOT_EDITED
    return [
        CommandHandler("newcommunity", new_community, filters=private),
        CommandHandler("addzone", add_zone, filters=private),
        CommandHandler("addsite", add_site, filters=private),
        CommandHandler("invite", invite, filters=private),
        CommandHandler("invites", list_invites, filters=private),
        CallbackQueryHandler(on_invite_button, pattern=callbacks.pattern(callbacks.INVITE)),
        CommandHandler("people", people, filters=private),
        CommandHandler("revoke", revoke, filters=private),
        CommandHandler("community", community, filters=private),
        CommandHandler(["block", "unblock"], block, filters=private),
        CommandHandler("settings", settings, filters=private),
        CommandHandler("set", set_setting, filters=private),
        CommandHandler("holiday", holiday, filters=private),
        MessageHandler(
            private & filters.Document.ALL & filters.CaptionRegex(r"^/import\b"), import_document
        ),
    ]
