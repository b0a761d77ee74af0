"""The image thread: one thread, in order, and the caller's log context goes along."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from bot.render.worker import run_background_image_work, run_image_work

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="-")


def where(tag: str) -> tuple[str, str, str]:
    return tag, threading.current_thread().name, marker.get()


async def test_image_work_runs_on_one_named_thread_in_order_with_the_callers_context() -> None:
    marker.set("update_id=42")
    results = await asyncio.gather(*(run_image_work(where, str(i)) for i in range(5)))
    assert [tag for tag, _, _ in results] == ["0", "1", "2", "3", "4"]
    threads = {name for _, name, _ in results}
    assert len(threads) == 1 and threads.pop().startswith("jiayuan-image")
    assert {context for _, _, context in results} == {"update_id=42"}


async def test_a_users_photo_does_not_queue_behind_background_drawing() -> None:
    started, release = threading.Event(), threading.Event()

    def long_drawing() -> str:
        started.set()
        release.wait(timeout=10)
        return "notice"

    drawing = asyncio.ensure_future(run_background_image_work(long_drawing))
    await asyncio.to_thread(started.wait, 10)
    tag, thread, _ = await run_image_work(where, "photo")  # done while the drawing runs
    assert tag == "photo" and "interactive" in thread and not drawing.done()
    release.set()
    assert await drawing == "notice"


async def test_an_error_in_image_work_reaches_the_caller() -> None:
    def broken() -> None:
        raise OSError("truncated")

    with pytest.raises(OSError, match="truncated"):
        await run_image_work(broken)
