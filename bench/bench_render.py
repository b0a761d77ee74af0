"""Rendering hostile input: its cost against the same work on ordinary input.

    python bench/bench_render.py [--quick]

Measured here instead of asserted in ``tests/unit/render/`` (tests assert no timings):

1. ``bot.render.notice.wrap_text`` capped at 3 lines on 100,000-character texts (Latin
   without spaces, CJK, words) against the same call on 1,000-character texts: capping
   must make the cost follow the lines kept, not the text given.
2. ``bot.render.photos.sanitize_photo`` refusing a PNG that declares 30000×30000 pixels
   against it cleaning an ordinary 640×480 JPEG: the refusal must come from the header,
   without decoding.
3. ``bot.render.ranking.render_ranking`` of a board whose zone and cadre names are 50,000
   characters and whose note is 9,999, against the same board with ordinary names (the
   names are still read once to be fitted, hence a looser goal than 1).

Each pair is timed interleaved, round after round; figures are ratios of medians.
"""

from __future__ import annotations

import statistics
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

from _common import Report, hard_deadline, make_photo, ms, parse_args, progress, quiet_logs

HUGE = 100_000
ORDINARY = 1_000


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width × height (1-bit grey) in a few dozen bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def pair(
    rounds: int, hostile: Callable[[], Any], ordinary: Callable[[], Any]
) -> tuple[float, float]:
    """Medians of (hostile, ordinary), interleaved so that load affects both alike."""
    hostile(), ordinary()  # warm-up: fonts, caches
    a, b = [], []
    for _ in range(rounds):
        a.append(timed(hostile))
        b.append(timed(ordinary))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    args = parse_args(__doc__ or "")
    quiet_logs()
    hard_deadline(120 if args.quick else 300, "bench_render")
    from bot.render.fonts import load_font
    from bot.render.notice import wrap_text
    from bot.render.photos import PhotoRejected, sanitize_photo
    from bot.render.ranking import BoardRow, RankingBoard, render_ranking

    report = Report("bench_render.py", args.quick, "Rendering hostile input")
    rounds = 5 if args.quick else 21
    font = load_font(30)

    def wrap_all(size: int) -> Callable[[], None]:
        texts = ("x" * size, "家" * size, "word " * (size // 5))

        def work() -> None:
            for text in texts:
                wrap_text(text, font, 780, max_lines=3)

        return work

    refused = png_header_only(30000, 30000)
    photo = make_photo(640, 480)

    def refuse() -> None:
        try:
            sanitize_photo(refused)
        except PhotoRejected:
            return
        raise AssertionError("a 30000×30000 photo was accepted")

    def board(zone: str, cadre: str, note: str) -> RankingBoard:
        row = BoardRow(1, zone, cadre, 86.5, 1.5, "good", 0.965)
        return RankingBoard("阳光花园社区", "2026年11月", (row,), note)

    long_board = board("长" * 50_000, "x" * 50_000 + "\x00\t\n", "注" * 9_999)
    short_board = board("第1网格", "王建国", "生成时间：2026年12月1日 09:00")

    rows = []
    goals = []
    measures: list[tuple[str, str, Callable[[], Any], Callable[[], Any], float]] = [
        ("wrap_text, 3 lines kept", f"{HUGE:,} ÷ {ORDINARY:,} characters", wrap_all(HUGE),
         wrap_all(ORDINARY), 3.0),
        ("sanitize_photo", "refusing 30000×30000 ÷ cleaning 640×480", refuse,
         lambda: sanitize_photo(photo), 1.0),
        ("render_ranking", "50,000-character names ÷ ordinary", lambda: render_ranking(long_board),
         lambda: render_ranking(short_board), 10.0),
    ]  # fmt: skip
    for name, what, hostile, ordinary, goal in measures:
        progress(f"{name}: {rounds} interleaved rounds")
        a, b = pair(rounds, hostile, ordinary)
        rows.append([name, what, ms(a), ms(b), f"{a / b:.2f}×"])
        goals.append((f"{name}: {what} ≤ {goal:g}×", a / b <= goal, f"{a / b:.2f}×"))
        report.data[name] = {"hostile_ms": a * 1000, "ordinary_ms": b * 1000}
    report.table(
        ["function", "hostile ÷ ordinary", "hostile p50 ms", "ordinary p50 ms", "ratio"], rows
    )
    for goal, met, detail in goals:
        report.verdict(goal, met, detail)
    report.emit(args.json)


if __name__ == "__main__":
    main()
