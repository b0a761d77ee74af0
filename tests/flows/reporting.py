"""Scripted steps shared by the report and ticket flow tests."""

from __future__ import annotations

import io
import re

from PIL import Image

from bot.sandbox import Sandbox, SentMessage, SimUser

NUMBER = re.compile(r"\d{4}-\d{4}")


def jpeg(
    color: str = "red", size: tuple[int, int] = (640, 480), exif: bytes | None = None
) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is not None:
        image.save(buffer, "JPEG", exif=exif)
    else:
        image.save(buffer, "JPEG")
    return buffer.getvalue()


def has(text: str):
    return lambda m: text in (m.text or "")


def with_button(label: str):
    return lambda m: label in m.button_texts


async def file_report(
    sandbox: Sandbox,
    user: SimUser,
    *,
    caption: str | None = "楼道里堆满纸箱",
    category: str = "楼道堆物",
    place: str = "1号楼",
    photo: bytes | None = None,
) -> str:
    """Photo → category → place → (description from caption) → submit; returns the number."""
    await user.send_photo(photo or jpeg(), caption=caption)
    categories = await user.wait_for(with_button(category))
    await user.press(categories, category)
    places = await user.wait_for(with_button(place))
    await user.press(places, place)
    if caption is None:
        ask = await user.wait_for(with_button("不用描述"))
        await user.press(ask, "不用描述")
    summary = await user.wait_for(with_button("✅ 确认上报"), timeout=10)
    await user.press(summary, "✅ 确认上报")
    await sandbox.wait_until(lambda: "已受理" in (summary.text or ""), timeout=10)
    match = NUMBER.search(summary.text or "")
    assert match, summary.text
    return match.group(0)


async def ticket_message(user: SimUser, number: str) -> SentMessage:
    """The message carrying a ticket's buttons for this person."""
    return await user.wait_for(lambda m: number in (m.text or "") and bool(m.buttons), timeout=10)
