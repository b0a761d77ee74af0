"""/export: a month's ledgers (台账) as an Excel workbook or CSV, for leaders and admins."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.domain.errors import InvalidInput
from bot.domain.scoring import YearMonth
from bot.services.exports import FORMATS, WHATS
from handlers.base import Ctx, command_args

PRIVATE = filters.ChatType.PRIVATE
NOT_EDITED = ~filters.UpdateType.EDITED


async def export(update: Update, ctx: Ctx) -> None:
    """/export [2026-11] [what] [xlsx|csv] — send the ledgers as a document."""
    actor, _ = ctx.require_actor()
    month, what, fmt = parse_args(command_args(ctx))
    made = await ctx.svc.exports.prepare(actor, month, what, fmt)
    lines = [ctx.t("export.caption", community=made.community.name, month=str(made.month))]
    lines += [ctx.t("export.sheet_line", sheet=name, count=n) for name, n in made.sheets]
    chat = update.effective_chat
    if chat is not None:
        await chat.send_document(made.data, filename=made.filename, caption="\n".join(lines))


def parse_args(args: list[str]) -> tuple[YearMonth | None, str, str]:
    """Month, ledger and format in any order; each at most once (None: last month)."""
    month: YearMonth | None = None
    what, fmt = "", ""
    for arg in (a.lower() for a in args):
        if arg in WHATS and not what:
            what = arg
        elif arg in FORMATS and not fmt:
            fmt = arg
        elif month is None and arg[:1].isdigit():
            try:
                month = YearMonth.parse(arg)
            except ValueError:
                raise InvalidInput("export.usage") from None
        else:
            raise InvalidInput("export.usage")
    return month, what or "all", fmt or "xlsx"


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    return [CommandHandler("export", export, filters=PRIVATE & NOT_EDITED)]
