"""Dedicated threads for CPU-bound image work: one for what a user waits on (sanitising
their photo, a trend chart), one for drawings no one waits on (rectification notices,
the monthly ranking board).

    photo = await run_image_work(sanitize_photo, data)
    png = await run_background_image_work(render_ranking, board)

Why not ``asyncio.to_thread``: the default pool runs several Pillow jobs at once, and on
a 2-core machine they starve the event loop of CPU (and of the GIL, which each job takes
between its C loops): with 20 photos arriving together the loop fell 100 ms and more
behind (bench/bench_photos.py). With one thread per lane the jobs queue instead, and
the loop keeps its lag low meanwhile.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["run_background_image_work", "run_image_work"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

# One thread for what a user is waiting on (their photo, a chart they asked for), one
# for what nobody watches (notices the outbox draws, the monthly board): a resident's
# photo must not queue behind a 200 ms notice. Two threads still leave the event loop
# a core on a 2-core machine.
_executors: dict[str, ThreadPoolExecutor] = {}


def _executor(lane: str) -> ThreadPoolExecutor:
    # Created on first use, so importing the module starts no thread. Only the event
    # loop's thread calls this, hence no lock.
    if lane not in _executors:
        _executors[lane] = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"jiayuan-image-{lane}"
        )
    return _executors[lane]


async def _run(lane: str, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await loop.run_in_executor(_executor(lane), call)


async def run_image_work(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``fn(*args, **kwargs)`` on the image thread for work a user is waiting on.

    Like ``asyncio.to_thread``, the caller's context variables (the update id the logs
    carry) are visible inside ``fn``.
    """
    return await _run("interactive", fn, *args, **kwargs)


async def run_background_image_work(
    fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """Like ``run_image_work``, on the other image thread: drawings no one waits on."""
    return await _run("background", fn, *args, **kwargs)
