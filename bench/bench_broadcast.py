"""Broadcast through the outbox against Telegram-like flood limits.

    python bench/bench_broadcast.py [--quick]

The real bot (``start_bot``, polling off) with its ``OutboxSender`` and default pacing
(``bot.notify.pacing.Limits()``: 30/s overall, 1/s per chat, 20/min per group) drains
10,000 private messages (--quick: 1,000) to distinct users who have started the bot,
plus two posts to each of 50 groups, all inserted in one transaction through
``tx.outbox.add``. The simulator runs with ``FloodLimits()`` defaults (30/s overall with
a burst of 30, 20/min per group, ~1/s per chat) and answers 429 with retry_after.

"Started": in the simulator a private chat exists only once the user wrote to the bot
(``World.user_sends`` sets ``UserRecord.started``); before that sendMessage gets 403
"bot can't initiate conversation". Each user sends /start, then the unread updates are
dropped (polling is off, so nobody would read them).

Baselines, same simulator and session: the 30 msg/s ceiling, and a naive broadcast
through PTB's ``AIORateLimiter()`` (a plain ``ExtBot``): a sequential loop of
``bot.send_message`` and an ``asyncio.gather`` of them, counting their 429s.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    T0,
    TOKEN,
    Report,
    hard_deadline,
    parse_args,
    progress,
    quiet_logs,
    start_jiayuan,
)

CEILING = 30.0
GROUPS = 50
POSTS_PER_GROUP = 2
NAIVE_MESSAGES = 600


@dataclass
class Delivery:
    """What the simulator saw: when each message arrived, and when it refused one."""

    sent: list[float] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)
    group_sent: int = 0

    def rate_after(self, skip_s: float) -> float:
        if len(self.sent) < 2:
            return math.nan
        start = self.sent[0] + skip_s
        inside = [t for t in self.sent if t >= start]
        span = self.sent[-1] - start
        return (len(inside) - 1) / span if span > 0 else math.nan

    def overall_rate(self, began: float) -> float:
        return len(self.sent) / (self.sent[-1] - began) if self.sent else math.nan

    def worst_window(self, width_s: float = 10.0) -> float:
        """The lowest rate over any full window of ``width_s`` after the first second."""
        if not self.sent or self.sent[-1] - self.sent[0] < width_s + 1:
            return math.nan
        times, worst, j = self.sent, math.inf, 0
        start = times[0] + 1.0
        t = start
        while t + width_s <= times[-1]:
            while times[j] < t:
                j += 1
            k = j
            while k < len(times) and times[k] < t + width_s:
                k += 1
            worst = min(worst, (k - j) / width_s)
            t += 1.0
        return worst

    def refused_after(self, skip_s: float) -> int:
        if not self.sent:
            return len(self.refused)
        return sum(1 for t in self.refused if t >= self.sent[0] + skip_s)


def watch(sandbox: Any) -> tuple[Delivery, Any]:
    """Record message arrivals (listener) and flood refusals (wrapping the check)."""
    delivery = Delivery()
    flood = sandbox.flood
    original = flood.check

    def check(chat_id: int, is_group: bool, count: int = 1) -> int | None:
        verdict = original(chat_id, is_group, count)
        if verdict is not None:
            delivery.refused.append(time.perf_counter())
        return verdict

    def on_event(event: Any) -> None:
        if event.kind == "sent":
            delivery.sent.append(time.perf_counter())
            if event.chat_id < 0:
                delivery.group_sent += 1

    flood.check = check
    sandbox.add_listener(on_event)

    def stop() -> None:
        sandbox.remove_listener(on_event)
        flood.check = original

    return delivery, stop


async def started_users(sandbox: Any, count: int) -> list[Any]:
    users = []
    for i in range(count):
        user = sandbox.add_user(f"居民{i:05d}", language_code="zh-hans")
        await user.send("/start")
        users.append(user)
    sandbox.world.updates.clear()
    return users


@dataclass
class Outcome:
    label: str
    messages: int
    delivery: Delivery
    began: float
    finished: float
    lost: int = 0
    notes: str = ""


async def outbox_run(
    sandbox: Any, services: Any, chats: list[int], payload_text: str, timeout_s: float
) -> Outcome:
    from bot.notify.pacing import Limits

    assert Limits() == Limits(30.0, 1.0, 20)  # the defaults this benchmark is about
    now = services.clock.now()
    async with services.db.transaction() as tx:
        for n, chat_id in enumerate(chats):
            await tx.outbox.add(chat_id, {"text": f"{payload_text} #{n}"}, now)
    progress(f"outbox: {len(chats)} rows queued in one transaction")
    delivery, stop = watch(sandbox)
    began = time.perf_counter()
    services.outbox_ready.set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    last_note = loop.time()
    try:
        while len(delivery.sent) < len(chats) and loop.time() < deadline:
            await asyncio.sleep(0.25)
            if loop.time() - last_note >= 30:
                last_note = loop.time()
                progress(f"outbox: {len(delivery.sent)}/{len(chats)} delivered")
    finally:
        stop()
    finished = time.perf_counter()
    async with services.db.read() as tx:
        statuses = await tx.outbox.count_by_status()
    notes = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    return Outcome(
        "Jiayuan outbox (OutboxSender, Limits())",
        len(chats),
        delivery,
        began,
        finished,
        lost=len(chats) - statuses.get("sent", 0),
        notes=notes,
    )


async def naive_run(sandbox: Any, chats: list[int], concurrent: bool) -> Outcome:
    from telegram.error import RetryAfter, TelegramError
    from telegram.ext import AIORateLimiter, ExtBot

    sandbox.limits = sandbox.limits  # reset the flood state: a fresh second and minute
    await asyncio.sleep(1.5)
    bot = ExtBot(
        sandbox.token,
        base_url=f"{sandbox.base_url}/bot",
        base_file_url=f"{sandbox.base_url}/file/bot",
        rate_limiter=AIORateLimiter(),
    )
    await bot.initialize()
    delivery, stop = watch(sandbox)
    lost = 0

    async def send(n: int, chat_id: int) -> None:
        nonlocal lost
        try:
            await bot.send_message(chat_id, f"naive broadcast #{n}")
        except RetryAfter:
            lost += 1
        except TelegramError:
            lost += 1

    began = time.perf_counter()
    try:
        if concurrent:
            await asyncio.gather(*(send(n, c) for n, c in enumerate(chats)))
        else:
            for n, chat_id in enumerate(chats):
                await send(n, chat_id)
    finally:
        stop()
        await bot.shutdown()
    label = "naive gather, AIORateLimiter()" if concurrent else "naive loop, AIORateLimiter()"
    return Outcome(label, len(chats), delivery, began, time.perf_counter(), lost=lost)


def mix(private: list[int], groups: list[int]) -> list[int]:
    """Group posts spread evenly through the private messages."""
    pending = [g for _ in range(POSTS_PER_GROUP) for g in groups]
    every = max(1, len(private) // max(1, len(pending)))
    chats: list[int] = []
    for n, chat_id in enumerate(private, 1):
        chats.append(chat_id)
        if n % every == 0 and pending:
            chats.append(pending.pop(0))
    return chats + pending


async def main() -> None:
    args = parse_args(__doc__ or "")
    quiet_logs()
    private_count = 1_000 if args.quick else 10_000
    hard_deadline(300 if args.quick else 720, "bench_broadcast")
    report = Report("bench_broadcast.py", args.quick, "Broadcast")

    from bot.clock import Clock
    from bot.notify.pacing import Limits
    from bot.sandbox import FloodLimits, Sandbox

    clock = Clock(T0)
    sandbox = Sandbox(TOKEN, "jiayuan_bot", clock=clock.now, limits=FloodLimits())
    await sandbox.start()
    outcomes: list[Outcome] = []
    try:
        progress(f"{private_count} users start the bot, {GROUPS} groups add it")
        users = await started_users(sandbox, private_count)
        groups = [sandbox.add_group(f"幸福里{i:02d}群", [users[i]]).id for i in range(GROUPS)]
        sandbox.world.updates.clear()
        chats = mix([u.id for u in users], groups)
        with tempfile.TemporaryDirectory(prefix="jiayuan-bench-") as tmp:
            bot = await start_jiayuan(
                sandbox, Path(tmp), clock, residents=0, outbox_limits=Limits(), polling=False
            )
            try:
                await asyncio.sleep(2.0)  # start-up calls and the first tick are done
                sandbox.limits = FloodLimits()  # a fresh flood state for the run
                expected = len(chats) / CEILING
                outcome = await outbox_run(
                    sandbox, bot.services, chats, "社区通知：本周六上午清洁日", expected * 2 + 60
                )
                outcomes.append(outcome)
            finally:
                await bot.runtime.stop()
        naive = chats[:NAIVE_MESSAGES]
        progress(f"naive loop over {len(naive)} messages")
        outcomes.append(await naive_run(sandbox, naive, concurrent=False))
        progress(f"naive gather of {len(naive)} messages")
        outcomes.append(await naive_run(sandbox, naive, concurrent=True))
    finally:
        await sandbox.stop()

    rows = [
        [
            "ceiling (Telegram's ~30 msg/s)",
            f"{len(chats)}",
            f"{len(chats) / CEILING:.0f}",
            f"{CEILING:.1f}",
            f"{CEILING:.1f}",
            "-",
            "1.00×",
            "0",
            "-",
        ]
    ]
    for o in outcomes:
        d = o.delivery
        sustained = d.rate_after(1.0)
        rows.append(
            [
                o.label,
                f"{len(d.sent)}/{o.messages} ({d.group_sent} to groups)",
                f"{(d.sent[-1] - o.began) if d.sent else math.nan:.0f}",
                f"{d.overall_rate(o.began):.1f}",
                f"{sustained:.1f}",
                f"{d.worst_window():.1f}",
                f"**{sustained / CEILING:.2f}×**"
                if o is outcomes[0]
                else f"{sustained / CEILING:.2f}×",
                f"{d.refused_after(1.0)} ({len(d.refused)} in all)",
                str(o.lost),
            ]
        )
    report.add(
        f"{len(chats)} messages: {len(chats) - GROUPS * POSTS_PER_GROUP} private to distinct "
        f"started users, {GROUPS * POSTS_PER_GROUP} to {GROUPS} groups. Sustained = rate "
        "from 1 s after the first delivery to the last; worst 10 s = the slowest 10-second "
        "window after the first second."
    )
    report.add("")
    report.table(
        [
            "sender",
            "delivered",
            "seconds",
            "msg/s overall",
            "msg/s sustained",
            "worst 10 s",
            "÷ 30/s ceiling",
            "429s after 1st s",
            "not delivered",
        ],
        rows,
    )
    main_run = outcomes[0]
    if main_run.notes:
        report.add(f"Outbox afterwards: {main_run.notes}.")
        report.add("")
    sustained = main_run.delivery.rate_after(1.0)
    report.verdict(
        "sustained ≥ 90 % of the 30 msg/s ceiling",
        sustained / CEILING >= 0.9,
        f"{sustained:.1f} msg/s = {sustained / CEILING:.0%} of 30/s",
    )
    late_429 = main_run.delivery.refused_after(1.0)
    report.verdict(
        "no 429 after the first second",
        late_429 == 0,
        f"{late_429} after the first second, {len(main_run.delivery.refused)} in all",
    )
    report.data["outcomes"] = [
        {
            "label": o.label,
            "messages": o.messages,
            "delivered": len(o.delivery.sent),
            "seconds": (o.delivery.sent[-1] - o.began) if o.delivery.sent else None,
            "sustained_per_s": o.delivery.rate_after(1.0),
            "worst_10s_per_s": o.delivery.worst_window(),
            "refused_after_1s": o.delivery.refused_after(1.0),
            "refused": len(o.delivery.refused),
            "lost": o.lost,
        }
        for o in outcomes
    ]
    report.emit(args.json)


if __name__ == "__main__":
    asyncio.run(main())
