"""A photo received from anywhere (Telegram, an Open311 upload): sanitised on the image
thread, stored by content under the data dir, ready to attach to a report or ticket."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.domain.reports import DraftPhoto
from bot.render.photos import sanitize_photo, store_photo
from bot.render.worker import run_image_work


async def save_photo(data: bytes, data_dir: Path, file_id: str | None = None) -> DraftPhoto:
    """Sanitise and store; raises ``PhotoRejected`` for what is not a usable photo."""
    photo = await run_image_work(sanitize_photo, data)
    path = await asyncio.to_thread(store_photo, data_dir, photo)
    return DraftPhoto(photo.sha256, str(path.relative_to(data_dir)), file_id)
