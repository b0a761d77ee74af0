"""Stored files: what users and the bot uploaded, addressable by file_id and file_path.

Photos become a list of PhotoSize objects like Telegram's (thumbnails 90/320/800/1280 px
made with Pillow, smallest first). The largest size keeps the uploaded bytes unchanged,
unlike Telegram, which re-encodes: a test can then check that the *bot* strips EXIF/GPS,
and a bot upload downloads back byte for byte.
"""

from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass
from typing import Any

from PIL import Image

from bot.sandbox.errors import bad_request

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files, as Telegram does
_THUMB_SIDES = (90, 320, 800, 1280)
_THUMB_MAX_PIXELS = 50_000_000  # don't decode huge (possibly hostile) images to thumbnail
_FILE_ID_PREFIX = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
}
_DIRECTORY = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "sticker": "stickers",
    "video": "videos",
    "audio": "music",
    "animation": "animations",
    "video_note": "video_notes",
}


@dataclass(slots=True)
class StoredFile:
    """One file: its identifiers, download path and bytes."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    kind: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def file_size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def to_file(self) -> dict[str, Any]:
        """Return the ``File`` object getFile answers with."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def to_photo_size(self) -> dict[str, Any]:
        """Return this file as a ``PhotoSize``."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "width": self.width or 0,
            "height": self.height or 0,
        }

    def to_document(self) -> dict[str, Any]:
        """Return this file as a ``Document``."""
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc


class FileStore:
    """All files the simulated Telegram knows, with deterministic identifiers."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[StoredFile]] = {}
        self._counter = 0

    def add(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        """Store ``data`` and return its record with fresh file_id/file_unique_id/path."""
        self._counter += 1
        n = self._counter
        prefix = _FILE_ID_PREFIX.get(kind, "BAACAgIAAxkBAAI")
        extension = _extension(kind, file_name, mime_type)
        stored = StoredFile(
            file_id=f"{prefix}{n:08d}",
            file_unique_id=f"AQAD{n:08d}",
            file_path=f"{_DIRECTORY.get(kind, kind + 's')}/file_{n}{extension}",
            data=data,
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """Return the file with ``file_id``, or None."""
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        """Return the file served at ``/file/bot<token>/<file_path>``, or None."""
        return self._by_path.get(file_path)

    def photo_set(self, file_id: str) -> list[StoredFile] | None:
        """Return all sizes of the photo that ``file_id`` (any of its sizes) belongs to."""
        return self._photo_sets.get(file_id)

    def add_photo(self, data: bytes, *, strict: bool) -> list[StoredFile]:
        """Store a photo and its thumbnails; smallest first, the original bytes last.

        ``strict`` applies Telegram's checks on bot uploads (a decodable image within the
        size and dimension limits); user-sent photos are taken as they come, so tests can
        feed the bot broken or hostile images.
        """
        if strict and len(data) > MAX_PHOTO_BYTES:
            raise bad_request("file is too big")
        width, height, thumbs = _analyse_photo(data, strict=strict)
        sizes = [self.add(t_data, "photo", width=w, height=h) for t_data, w, h in thumbs]
        sizes.append(self.add(data, "photo", width=width, height=height))
        for size in sizes:
            self._photo_sets[size.file_id] = sizes
        return sizes


def _extension(kind: str, file_name: str | None, mime_type: str | None) -> str:
    if kind == "photo":
        return ".jpg"
    if kind == "voice":
        return ".oga"
    if kind == "sticker":
        return ".webp"
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[1].lower()
    guessed = mimetypes.guess_extension(mime_type) if mime_type else None
    return guessed or ""


def _analyse_photo(data: bytes, *, strict: bool) -> tuple[int, int, list[tuple[bytes, int, int]]]:
    """Return the photo's size and thumbnails as (jpeg bytes, width, height)."""
    try:
        # Pillow's own bomb check applies; its limit is process-wide state the bot's code
        # may rely on from another thread, so the sandbox never changes it.
        image = Image.open(io.BytesIO(data))
        width, height = image.size
    except Exception as exc:  # Pillow raises many types for undecodable or hostile input
        if strict:
            raise bad_request("IMAGE_PROCESS_FAILED") from exc
        return 0, 0, []
    if strict and (width + height > 10000 or max(width, height) > 20 * max(1, min(width, height))):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    if width * height > _THUMB_MAX_PIXELS:
        return width, height, []
    try:
        image.load()
        rgb = image.convert("RGB")
    except Exception as exc:  # a truncated or corrupt body only shows on decoding
        if strict:
            raise bad_request("IMAGE_PROCESS_FAILED") from exc
        return width, height, []
    thumbs: list[tuple[bytes, int, int]] = []
    for side in _THUMB_SIDES:
        if side >= max(width, height):
            break
        thumb = rgb.copy()
        thumb.thumbnail((side, side))
        buffer = io.BytesIO()
        thumb.save(buffer, "JPEG", quality=80)
        thumbs.append((buffer.getvalue(), thumb.width, thumb.height))
    return width, height, thumbs
