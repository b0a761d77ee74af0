"""Photo sanitising: its cost against Pillow's floor, and what it does to the event loop.

    python bench/bench_photos.py [--quick]

Input: a 12-megapixel camera-like JPEG (4000×3000, gradients plus noise, ~4 MB) with
EXIF orientation 6 (rotate 90°) and a camera make, generated here.

1. ``bot.render.photos.sanitize_photo`` against Pillow's bare decode + encode of the same
   file (full size, quality 85: the floor any re-encoding pays), and against Pillow's own
   ``thumbnail`` to 2048 px + encode (the straightforward way to the same output size),
   interleaved. A breakdown times the Pillow calls inside ``sanitize_photo`` itself.
2. Event-loop lag: a 10 ms ticker records how late it wakes while 20 photos are
   sanitised through ``bot.render.worker.run_image_work`` (the way ``handlers/photos.py``
   calls it) and, for comparison, through ``asyncio.to_thread`` (the default pool);
   baseline: the same ticker with nothing else running.
"""

from __future__ import annotations

import asyncio
import functools
import io
import time
from collections.abc import Callable
from typing import Any

from _common import (
    Report,
    hard_deadline,
    make_photo,
    ms,
    parse_args,
    percentile,
    progress,
    quiet_logs,
)

TICK_S = 0.010
QUALITY = 85
MAX_SIDE = 2048
# Image methods the breakdown times, besides Image.open, verify and load.
IN_MEMORY_STEPS = ("convert", "resize", "transpose", "copy", "save")


def bare_reencode(data: bytes) -> bytes:
    """The floor: decode everything, encode everything; nothing else."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        out = io.BytesIO()
        image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def pillow_thumbnail(data: bytes) -> bytes:
    """The straightforward way: Pillow's ``thumbnail`` (it picks its own reduced-scale
    decode, keeping at least twice the target), then encode. No rotation."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def breakdown(sanitize: Callable[[bytes], Any], data: bytes) -> dict[str, float]:
    """Where one ``sanitize(data)`` call spends its time: the Pillow calls it makes, each
    timed in place (a call nested in another counts once, for the outer one)."""
    from PIL import Image, ImageFile

    times: dict[str, float] = {}
    depth = 0

    def label(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        image = args[0] if args and isinstance(args[0], Image.Image) else None
        if name == "load" and image is not None:
            return f"load: decode at {image.width}×{image.height}"
        if name == "resize" and image is not None:
            width, height = args[1]
            resample = args[2] if len(args) > 2 else kwargs.get("resample")
            method = getattr(resample, "name", "default filter")
            return f"resize {image.width}×{image.height} → {width}×{height} {method}"
        if name == "save":
            return "save: encode JPEG"
        return name

    def timed(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal depth
            depth += 1
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                depth -= 1
                if depth == 0:
                    key = label(name, args, kwargs)  # after the call: load() set the size
                    times[key] = times.get(key, 0.0) + time.perf_counter() - began

        return wrapper

    patched: list[tuple[Any, str, Any]] = [
        (Image, "open", Image.open),
        (ImageFile.ImageFile, "verify", ImageFile.ImageFile.verify),
        (ImageFile.ImageFile, "load", ImageFile.ImageFile.load),
        *((Image.Image, name, getattr(Image.Image, name)) for name in IN_MEMORY_STEPS),
    ]
    for owner, name, original in patched:
        setattr(owner, name, timed(name, original))
    try:
        began = time.perf_counter()
        sanitize(data)
        total = time.perf_counter() - began
    finally:
        for owner, name, original in patched:
            setattr(owner, name, original)
    times["rest (EXIF read, hashing, Python)"] = max(0.0, total - sum(times.values()))
    times["total"] = total
    return times


async def ticker(stop: asyncio.Event, lateness: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        planned = loop.time() + TICK_S
        await asyncio.sleep(TICK_S)
        lateness.append(max(0.0, loop.time() - planned))


async def lag_while(work: Callable[[], Any] | None, idle_s: float) -> tuple[list[float], float]:
    stop = asyncio.Event()
    lateness: list[float] = []
    task = asyncio.create_task(ticker(stop, lateness))
    began = time.perf_counter()
    if work is None:
        await asyncio.sleep(idle_s)
    else:
        await work()
    elapsed = time.perf_counter() - began
    stop.set()
    await task
    return lateness, elapsed


async def main() -> None:
    args = parse_args(__doc__ or "")
    quiet_logs()
    hard_deadline(240 if args.quick else 480, "bench_photos")
    from bot.render.photos import sanitize_photo
    from bot.render.worker import run_image_work

    report = Report("bench_photos.py", args.quick, "Photos")
    rounds = 5 if args.quick else 15
    photos = 20
    data = make_photo(4000, 3000, orientation=6, quality=92)
    progress(f"photo: {len(data) / 2**20:.1f} MiB; {rounds} interleaved rounds")
    cleaned = sanitize_photo(data)  # warm-up, and the output to report
    bare_reencode(data)
    pillow_thumbnail(data)
    times: dict[str, list[float]] = {"sanitize": [], "bare": [], "thumbnail": []}
    for _ in range(rounds):
        for name, fn in (
            ("bare", bare_reencode),
            ("sanitize", sanitize_photo),
            ("thumbnail", pillow_thumbnail),
        ):
            began = time.perf_counter()
            fn(data)
            times[name].append(time.perf_counter() - began)
    steps = [breakdown(sanitize_photo, data) for _ in range(3)]

    progress("event-loop lag")
    idle_lag, _ = await lag_while(None, 3.0)

    async def twenty_on_default_pool() -> None:
        await asyncio.gather(*(asyncio.to_thread(sanitize_photo, data) for _ in range(photos)))

    async def twenty_on_image_thread() -> None:
        await asyncio.gather(*(run_image_work(sanitize_photo, data) for _ in range(photos)))

    busy_lag, busy_s = await lag_while(twenty_on_image_thread, 0)
    pool_lag, pool_s = await lag_while(twenty_on_default_pool, 0)

    floor = percentile(times["bare"], 50)
    rows = [
        [
            "Pillow bare decode + encode, full size (floor)",
            ms(percentile(times["bare"], 50)),
            ms(percentile(times["bare"], 99)),
            "1.00×",
        ],
        [
            "Pillow `thumbnail` 2048 LANCZOS + encode (no rotation)",
            ms(percentile(times["thumbnail"], 50)),
            ms(percentile(times["thumbnail"], 99)),
            f"{percentile(times['thumbnail'], 50) / floor:.2f}×",
        ],
        [
            "**`sanitize_photo`**",
            ms(percentile(times["sanitize"], 50)),
            ms(percentile(times["sanitize"], 99)),
            f"**{percentile(times['sanitize'], 50) / floor:.2f}×**",
        ],
    ]
    report.add(
        f"Input {len(data) / 2**20:.1f} MiB 4000×3000 JPEG, EXIF orientation 6; "
        f"`sanitize_photo` output {cleaned.width}×{cleaned.height}, "
        f"{len(cleaned.jpeg) / 1024:.0f} KiB. {rounds} interleaved rounds."
    )
    report.add("")
    report.table(["step", "p50 ms", "p99 ms", "÷ floor (p50)"], rows)
    names = list(steps[0])
    report.add(
        "Breakdown of one `sanitize_photo` call (Pillow calls timed in place; median of 3):"
    )
    report.add("")
    report.table(
        ["step", "ms"],
        [[name, ms(percentile([s.get(name, 0.0) for s in steps], 50))] for name in names],
    )
    lag_rows = [
        [
            "ticker alone (baseline)",
            len(idle_lag),
            ms(percentile(idle_lag, 99)),
            ms(max(idle_lag)),
            "-",
        ],
        [
            f"{photos} × `run_image_work(sanitize_photo)` (the product)",
            len(busy_lag),
            ms(percentile(busy_lag, 99)),
            ms(max(busy_lag)),
            f"{busy_s:.1f} s ({photos / busy_s:.1f} photos/s)",
        ],
        [
            f"{photos} × `asyncio.to_thread(sanitize_photo)` (default pool, for comparison)",
            len(pool_lag),
            ms(percentile(pool_lag, 99)),
            ms(max(pool_lag)),
            f"{pool_s:.1f} s ({photos / pool_s:.1f} photos/s)",
        ],
    ]
    report.add("**Event-loop lag** (a 10 ms ticker's lateness):")
    report.add("")
    report.table(["while", "ticks", "p99 late ms", "max late ms", "work took"], lag_rows)
    sanitize_ratio = percentile(times["sanitize"], 50) / floor
    report.verdict(
        "sanitize_photo ≤ 1.3× Pillow's bare decode + encode",
        sanitize_ratio <= 1.3,
        f"{sanitize_ratio:.2f}× ({ms(percentile(times['sanitize'], 50))} ms vs {ms(floor)} ms)",
    )
    report.verdict(
        "event-loop lag < 50 ms while 20 photos are sanitised",
        max(busy_lag) < 0.050,
        f"max {ms(max(busy_lag))} ms (idle max {ms(max(idle_lag))} ms)",
    )
    report.data["times_ms"] = {k: [t * 1000 for t in v] for k, v in times.items()}
    report.data["breakdown_ms"] = {
        n: percentile([s.get(n, 0.0) for s in steps], 50) * 1000 for n in names
    }
    report.data["lag_ms"] = {
        "default_pool_max": max(pool_lag) * 1000,
        "idle_max": max(idle_lag) * 1000,
        "busy_max": max(busy_lag) * 1000,
        "busy_p99": percentile(busy_lag, 99) * 1000,
    }
    report.emit(args.json)


if __name__ == "__main__":
    asyncio.run(main())
