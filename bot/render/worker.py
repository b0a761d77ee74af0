"""One dedicated thread for CPU-bound image work: sanitising photos, drawing notices,
ranking boards and trend charts.

    photo = await run_image_work(sanitize_photo, data)
    png = await run_image_work(render_ranking, board)

Why not ``asyncio.to_thread``: the default pool runs several Pillow jobs at once, and on
a 2-core machine they starve the event loop of CPU (and of the GIL, which each job takes
between its C loops): with 20 photos arriving together the loop fell 100 ms and more
behind (bench/bench_photos.py). With one thread the jobs queue instead, and the loop
keeps its lag low meanwhile.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["run_image_work"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_executor: ThreadPoolExecutor | None = None


def _image_executor() -> ThreadPoolExecutor:
    # Created on first use, so importing the module starts no thread. Only the event
    # loop's thread calls this, hence no lock.
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiayuan-image")
    return _executor


async def run_image_work(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``fn(*args, **kwargs)`` on the image thread and return its result.

    Like ``asyncio.to_thread``, the caller's context variables (the update id the logs
    carry) are visible inside ``fn``.
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await loop.run_in_executor(_image_executor(), call)
