"""Leadership over the lease on a real database file: one leader at a time, handed over
at once when it stops, and taken over after its lease when it dies."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.clock import wall_now
from bot.leader import Leader
from storage.database import Database
from tests.factories import database_for_test

TTL_S = 0.6
RENEW_S = 0.1


class Process:
    """What a process does with its leadership: a record of when it led."""

    def __init__(self, db: Database, name: str) -> None:
        self.events: list[str] = []

        async def gain() -> None:
            self.events.append("lead")

        async def loss() -> None:
            self.events.append("follow")

        self.leader = Leader(db, name, on_gain=gain, on_loss=loss, ttl_s=TTL_S, renew_s=RENEW_S)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with database_for_test(tmp_path / "leader.sqlite3") as database:
        yield database


async def _until(condition: Callable[[], bool], within_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_one_leads_and_the_other_takes_over_at_once_when_it_stops(
    db: Database,
) -> None:
    a, b = Process(db, "a"), Process(db, "b")
    await a.leader.start()
    await b.leader.start()
    try:
        await asyncio.sleep(TTL_S * 2)  # renewals keep it with the first
        assert (a.leader.leading, b.leader.leading) == (True, False)
        assert a.events == ["lead"] and b.events == []
        loop = asyncio.get_running_loop()
        stopped_at = loop.time()
        await a.leader.stop()
        assert a.events == ["lead", "follow"]
        await _until(lambda: b.leader.leading)
        assert loop.time() - stopped_at < TTL_S, "released, not left to run out"
    finally:
        await a.leader.stop()
        await b.leader.stop()


async def test_a_dead_leader_is_replaced_once_its_lease_runs_out(db: Database) -> None:
    a, b = Process(db, "a"), Process(db, "b")
    await a.leader.start()
    await b.leader.start()
    try:
        assert a.leader.leading
        # Killed: no more renewals, and nothing released.
        assert a.leader._task is not None
        a.leader._task.cancel()
        loop = asyncio.get_running_loop()
        died_at = loop.time()
        await _until(lambda: b.leader.leading)
        assert loop.time() - died_at >= TTL_S * 0.5
        assert b.events == ["lead"]
    finally:
        await b.leader.stop()


@pytest.mark.sqlite_only
async def test_on_sqlite_the_one_process_simply_leads(db: Database) -> None:
    only = Process(db, "only")
    only.leader.single_process = True
    await only.leader.start()
    assert only.leader.leading and only.events == ["lead"]
    async with db.read() as tx:
        assert await tx.leases.holder("leader", wall_now()) is None
    await only.leader.stop()
    assert only.events == ["lead", "follow"]


@pytest.mark.sqlite_only
async def test_a_leader_that_cannot_renew_steps_down_when_the_failed_check_ends(
    db: Database, tmp_path: Path
) -> None:
    """Another connection holds the file's write lock: the check waits out the busy timeout
    (5 s), far past the term, and the leader steps down as that wait fails rather than
    one more failed check later."""
    only = Process(db, "a")
    await only.leader.start()
    lock = sqlite3.connect(tmp_path / "leader.sqlite3", isolation_level=None, timeout=0)
    try:
        assert only.leader.leading
        # Not waiting inside sqlite3: that would block the loop the renewal runs on.
        while True:
            try:
                lock.execute("BEGIN EXCLUSIVE")
                break
            except sqlite3.OperationalError:
                await asyncio.sleep(0.01)
        await _until(lambda: not only.leader.leading, within_s=7.0)
        lock.execute("ROLLBACK")
        await _until(lambda: only.leader.leading, within_s=7.0)
        assert only.events == ["lead", "follow", "lead"]
    finally:
        lock.close()
        await only.leader.stop()
