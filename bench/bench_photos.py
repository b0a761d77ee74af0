"""Photo sanitising: its cost against Pillow's floor, and what it does to the event loop.

    python bench/bench_photos.py [--quick]

Input: a 12-megapixel camera-like JPEG (4000×3000, gradients plus noise, ~4 MB) with
EXIF orientation 6 (rotate 90°) and a camera make, generated here.

1. ``bot.render.photos.sanitize_photo`` against Pillow's bare decode + encode of the same
   file (full size, quality 85: the floor any re-encoding pays), and against a
   "same output" floor (reduced-scale decode, resize to 2048 px, encode), interleaved.
   An approximate breakdown times the steps sanitising goes through, one by one.
2. Event-loop lag: a 10 ms ticker records how late it wakes while 20 photos are
   sanitised through ``asyncio.to_thread`` (the way ``handlers/photos.py`` calls it);
   baseline: the same ticker with nothing else running.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


def bare_reencode(data: bytes) -> bytes:
    """The floor: decode everything, encode everything; nothing else."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        out = io.BytesIO()
        image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def same_output(data: bytes) -> bytes:
    """The floor for sanitising's output: reduced decode, resize to 2048 px, encode."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))
        image.load()
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def proposal(data: bytes) -> bytes:
    """Not product code: the order suggested in BENCHMARKS.md. Let libjpeg decode at 1/2
    (1/4, 1/8) scale whenever the result keeps at least half the target side, resize
    the small image, rotate it last, skip the RGB copy when it already is RGB."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as probe:
        probe.verify()
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    half = MAX_SIDE // 2
    image.draft("RGB", (half, half * height // width) if width >= height else (half, half))
    image.load()
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    image = ImageOps.exif_transpose(image)
    image.info = {}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


def breakdown(data: bytes) -> dict[str, float]:
    """The steps of ``sanitize_photo`` redone one by one with Pillow (approximate)."""
    from PIL import Image, ImageOps

    times: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = fn()
        times[name] = time.perf_counter() - began
        return result

    def verify() -> None:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()

    timed("open + verify (pass 1)", verify)
    image = Image.open(io.BytesIO(data))
    image.draft(None, (MAX_SIDE, round(MAX_SIDE * 3 / 4)))
    timed(f"decode (draft to {image.size[0]}×{image.size[1]})", image.load)
    upright = timed("exif_transpose (a rotated copy)", lambda: ImageOps.exif_transpose(image))
    rgb = timed("convert RGB", lambda: upright.convert("RGB"))
    timed(
        "thumbnail 2048 LANCZOS",
        lambda: rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS),
    )
    timed(
        "encode q85 optimize=True",
        lambda: rgb.save(io.BytesIO(), "JPEG", quality=QUALITY, optimize=True),
    )
    timed("encode q85 (no optimize)", lambda: rgb.save(io.BytesIO(), "JPEG", quality=QUALITY))
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

    report = Report("bench_photos.py", args.quick, "Photos")
    rounds = 5 if args.quick else 15
    photos = 20
    data = make_photo(4000, 3000, orientation=6, quality=92)
    progress(f"photo: {len(data) / 2**20:.1f} MiB; {rounds} interleaved rounds")
    cleaned = sanitize_photo(data)  # warm-up, and the output to report
    bare_reencode(data)
    same_output(data)
    proposal(data)
    times: dict[str, list[float]] = {"sanitize": [], "bare": [], "same": [], "proposal": []}
    for _ in range(rounds):
        for name, fn in (
            ("bare", bare_reencode),
            ("sanitize", sanitize_photo),
            ("same", same_output),
            ("proposal", proposal),
        ):
            began = time.perf_counter()
            fn(data)
            times[name].append(time.perf_counter() - began)
    steps = [breakdown(data) for _ in range(3)]

    progress("event-loop lag")
    idle_lag, _ = await lag_while(None, 3.0)

    async def twenty() -> None:
        await asyncio.gather(*(asyncio.to_thread(sanitize_photo, data) for _ in range(photos)))

    busy_lag, busy_s = await lag_while(twenty, 0)
    single = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photos")

    async def twenty_one_thread() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(single, sanitize_photo, data) for _ in range(photos))
        )

    single_lag, single_s = await lag_while(twenty_one_thread, 0)
    single.shutdown()

    floor = percentile(times["bare"], 50)
    rows = [
        [
            "Pillow bare decode + encode, full size (floor)",
            ms(percentile(times["bare"], 50)),
            ms(percentile(times["bare"], 99)),
            "1.00×",
        ],
        [
            "same output: draft decode + resize 2048 + encode",
            ms(percentile(times["same"], 50)),
            ms(percentile(times["same"], 99)),
            f"{percentile(times['same'], 50) / floor:.2f}×",
        ],
        [
            "**`sanitize_photo`**",
            ms(percentile(times["sanitize"], 50)),
            ms(percentile(times["sanitize"], 99)),
            f"**{percentile(times['sanitize'], 50) / floor:.2f}×**",
        ],
        [
            "proposal (not product code): 1/2-scale decode, resize, rotate last",
            ms(percentile(times["proposal"], 50)),
            ms(percentile(times["proposal"], 99)),
            f"{percentile(times['proposal'], 50) / floor:.2f}×",
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
    report.add("Approximate breakdown (the same steps redone one by one; median of 3):")
    report.add("")
    report.table(
        ["step", "ms"],
        [[name, ms(percentile([s[name] for s in steps], 50))] for name in names],
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
            f"{photos} × `asyncio.to_thread(sanitize_photo)`",
            len(busy_lag),
            ms(percentile(busy_lag, 99)),
            ms(max(busy_lag)),
            f"{busy_s:.1f} s ({photos / busy_s:.1f} photos/s)",
        ],
        [
            f"{photos} × the same on a 1-thread executor (proposal)",
            len(single_lag),
            ms(percentile(single_lag, 99)),
            ms(max(single_lag)),
            f"{single_s:.1f} s ({photos / single_s:.1f} photos/s)",
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
    report.data["breakdown_ms"] = {n: percentile([s[n] for s in steps], 50) * 1000 for n in names}
    report.data["lag_ms"] = {
        "single_thread_max": max(single_lag) * 1000,
        "idle_max": max(idle_lag) * 1000,
        "busy_max": max(busy_lag) * 1000,
        "busy_p99": percentile(busy_lag, 99) * 1000,
    }
    report.emit(args.json)


if __name__ == "__main__":
    asyncio.run(main())
