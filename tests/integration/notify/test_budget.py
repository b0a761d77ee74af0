"""The sending budget shared through the database: what several processes may send."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.notify.budget import MemoryBudget, SharedBudget, wait_turn
from bot.notify.pacing import Limits, Pacer
from storage.database import Database
from tests.factories import database_for_test


async def test_three_senders_share_one_bots_budget(tmp_path: Path) -> None:
    """Three budgets over one database (three processes) send what one bot may, not 3×:
    21 messages at 20 a second take a second however they are spread (a loaded machine
    only makes it longer), where three budgets of their own would need a third of it."""
    limits = Limits(overall_per_s=20.0, per_chat_interval_s=0.0)
    dbs: list[Database] = [database_for_test(tmp_path / "b.sqlite3") for _ in range(3)]
    for db in dbs:
        await db.connect()
    try:
        budgets = [SharedBudget(db, limits) for db in dbs]
        started = time.monotonic()
        await asyncio.gather(*(wait_turn(budgets[i % 3], 1000 + i) for i in range(21)))
        elapsed = time.monotonic() - started
    finally:
        for db in dbs:
            await db.close()
    assert elapsed >= 0.95, f"21 messages went out in {elapsed:.2f} s"


async def test_a_chat_waits_its_second_and_a_group_keeps_to_20_a_minute(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "c.sqlite3") as db:
        # No limit for the bot as a whole, to look at the chats' spacing alone.
        budget = SharedBudget(db, Limits(overall_per_s=0))
        assert await budget.try_send(42) == 0.0
        wait = await budget.try_send(42)
        assert 0.8 < wait <= 1.0
        assert await budget.try_send(43) == 0.0, "another chat is not held up"
        sent_at_once = 0
        while await budget.try_send(-100) == 0.0:
            sent_at_once += 1
        assert sent_at_once == 10, "half a group's minute may go at once"
        group_wait = await budget.try_send(-100)
        assert 5.5 < group_wait <= 6.0, "then one every 6 s: never 20 in a minute"
        assert await budget.try_send(42, per_chat=False) == 0.0, "a reply skips the spacing"


async def test_a_flood_hold_stops_that_chat_for_every_process(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "h.sqlite3") as db:
        budget = SharedBudget(db, Limits(overall_per_s=0))
        await budget.hold(42, 5.0)
        other = SharedBudget(db, Limits(overall_per_s=0))
        assert 4.5 < await other.try_send(42) <= 5.0
        assert 4.5 < await other.try_send(42, per_chat=False) <= 5.0, "replies wait too"
        assert await other.try_send(43) == 0.0


@pytest.mark.sqlite_only  # no database: once is enough
async def test_the_memory_budget_paces_as_the_pacer_does() -> None:
    budget = MemoryBudget(Pacer(Limits()))
    assert await budget.try_send(7) == 0.0
    assert 0.9 < await budget.try_send(7) <= 1.0
    await budget.hold(8, 2.0)
    assert 1.9 < await budget.try_send(8) <= 2.0
