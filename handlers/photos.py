"""Receiving a photo from Telegram: the largest size within limits, sanitised and stored."""

from __future__ import annotations

import io

from telegram import Message

from bot.domain import keys
from bot.domain.errors import InvalidInput
from bot.domain.reports import DraftPhoto
from bot.render.photos import PhotoRejected
from bot.render.uploads import save_photo
from handlers.base import Ctx

# Telegram's getFile serves files up to 20 MB to bots.
MAX_DOWNLOAD = 20 * 1024 * 1024


async def receive_photo(message: Message, ctx: Ctx) -> DraftPhoto:
    """Download, verify, strip metadata, store by content; refuse bad files clearly."""
    file_id: str | None
    if message.photo:
        sizes = [p for p in message.photo if (p.file_size or 0) <= MAX_DOWNLOAD] or [
            message.photo[0]
        ]
        best = max(sizes, key=lambda p: p.width * p.height)
        file_id, size = best.file_id, best.file_size or 0
    elif message.document is not None:
        file_id, size = message.document.file_id, message.document.file_size or 0
    else:
        raise InvalidInput("report.photo_missing")
    if size > MAX_DOWNLOAD:
        raise InvalidInput("report.photo_too_large")
    file = await ctx.bot.get_file(file_id)
    buffer = io.BytesIO()
    await file.download_to_memory(buffer)
    try:
        # Telegram's file_id is of the original upload; ours is re-encoded, so no reuse.
        return await save_photo(buffer.getvalue(), ctx.svc.settings.data_dir)
    except PhotoRejected as rejected:
        raise InvalidInput(f"report.photo_{rejected.reason.value}") from None


def origin_key(message: Message) -> str:
    return keys.report_origin(message.chat.id, message.message_id, message.get_bot().id)
