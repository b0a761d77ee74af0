"""The inbox on a real SQLite file: stored once, claimed a chat at a time in order, taken
over after a lease, set aside after repeated failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage.database import Database
from storage.inbox import MAX_ATTEMPTS, Claimed, Incoming
from tests.factories import T0, database_for_test

LEASE_S = 30.0


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with database_for_test(tmp_path / "inbox.sqlite3") as database:
        yield database


async def _store(db: Database, *updates: Incoming) -> None:
    async with db.claim() as tx:
        await tx.inbox.store_batch(list(updates), T0)


async def _claim(db: Database, worker: str, seconds: float = 0.0) -> Claimed | None:
    async with db.claim() as tx:
        return await tx.inbox.claim(worker, T0 + timedelta(seconds=seconds), LEASE_S)


async def _finish(db: Database, item: Claimed | None) -> None:
    assert item is not None
    async with db.claim() as tx:
        await tx.inbox.finish(item.id, T0)


class TestStore:
    async def test_a_redelivered_update_is_stored_once(self, db: Database) -> None:
        await _store(db, Incoming(1, "100", '{"update_id": 1}'))
        await _store(
            db, Incoming(1, "100", '{"update_id": 1, "again": true}'), Incoming(2, "100", "{}")
        )
        async with db.read() as tx:
            assert await tx.inbox.counts() == {"waiting": 2}
        first = await _claim(db, "w1")
        assert first is not None and first.update_id == 1
        assert first.payload == '{"update_id": 1}'

    async def test_an_update_with_an_error_is_stored_set_aside(self, db: Database) -> None:
        await _store(
            db,
            Incoming(1, "100", '{"update_id": 1, "message": {}}', error="no date"),
            Incoming(None, "none", '{"update_id": "x"}', error="no integer update_id"),
            Incoming(2, "100", '{"update_id": 2}'),
        )
        async with db.read() as tx:
            assert await tx.inbox.counts() == {"set_aside": 2, "waiting": 1}
            assert await tx.inbox.set_aside_list() == [
                (1, "no date"),
                (None, "no integer update_id"),
            ]
        # A set-aside update never holds up its chat.
        item = await _claim(db, "w1")
        assert item is not None and item.update_id == 2


class TestClaim:
    async def test_a_chats_updates_come_one_at_a_time_in_order(self, db: Database) -> None:
        await _store(db, Incoming(1, "100", "{}"), Incoming(2, "100", "{}"))
        first = await _claim(db, "w1")
        assert first is not None and first.update_id == 1 and first.attempts == 1
        assert await _claim(db, "w2") is None, "the chat's next update waits for the first"
        await _finish(db, first)
        second = await _claim(db, "w2")
        assert second is not None and second.update_id == 2

    async def test_other_chats_are_claimed_while_one_is_busy(self, db: Database) -> None:
        await _store(
            db, Incoming(1, "100", "{}"), Incoming(2, "100", "{}"), Incoming(3, "u:7", "{}")
        )
        first = await _claim(db, "w1")
        other = await _claim(db, "w2")
        assert first is not None and other is not None
        assert (first.chat_key, other.chat_key) == ("100", "u:7")
        assert await _claim(db, "w3") is None

    async def test_an_expired_lease_is_taken_over(self, db: Database) -> None:
        await _store(db, Incoming(1, "100", "{}"))
        held = await _claim(db, "dead")
        assert held is not None
        assert await _claim(db, "w2", seconds=LEASE_S - 1) is None
        taken = await _claim(db, "w2", seconds=LEASE_S + 1)
        assert taken is not None and taken.id == held.id and taken.attempts == 2
        async with db.claim() as tx:
            # The first holder's renewals no longer count.
            assert not await tx.inbox.renew(held.id, "dead", T0 + timedelta(seconds=90))
            assert await tx.inbox.renew(held.id, "w2", T0 + timedelta(seconds=90))

    async def test_a_renewed_lease_is_not_taken_over(self, db: Database) -> None:
        await _store(db, Incoming(1, "100", "{}"))
        held = await _claim(db, "w1")
        assert held is not None
        async with db.claim() as tx:
            assert await tx.inbox.renew(held.id, "w1", T0 + timedelta(seconds=LEASE_S + 20))
        assert await _claim(db, "w2", seconds=LEASE_S + 1) is None
        async with db.read() as tx:
            assert await tx.inbox.claimable(T0 + timedelta(seconds=LEASE_S + 1)) is False
            assert await tx.inbox.claimable(T0 + timedelta(seconds=LEASE_S + 21)) is True

    async def test_released_updates_are_claimed_again_at_once(self, db: Database) -> None:
        await _store(db, Incoming(1, "100", "{}"), Incoming(2, "200", "{}"))
        first = await _claim(db, "w1")
        second = await _claim(db, "w1")
        assert first is not None and second is not None
        async with db.claim() as tx:
            assert await tx.inbox.release(first.id, "w1")
            assert not await tx.inbox.release(second.id, "someone else")
            assert await tx.inbox.requeue_working() == 1
        again = await _claim(db, "w2")
        assert again is not None and again.id == first.id


class TestFailure:
    async def test_a_failing_update_is_retried_then_set_aside(self, db: Database) -> None:
        await _store(db, Incoming(1, "100", "{}"), Incoming(2, "100", "{}"))
        states = []
        for _ in range(MAX_ATTEMPTS):
            item = await _claim(db, "w1")
            assert item is not None and item.update_id == 1
            async with db.claim() as tx:
                states.append(await tx.inbox.fail(item.id, "boom", T0))
        assert states == ["waiting"] * (MAX_ATTEMPTS - 1) + ["set_aside"]
        after = await _claim(db, "w1")
        assert after is not None and after.update_id == 2, "the chat goes on without it"
        async with db.read() as tx:
            assert await tx.inbox.set_aside_list() == [(1, "boom")]

    async def test_set_aside_keeps_the_error(self, db: Database) -> None:
        await _store(db, Incoming(5, "100", "{}"))
        item = await _claim(db, "w1")
        assert item is not None
        async with db.claim() as tx:
            await tx.inbox.set_aside(item.id, "x" * 5000)
        async with db.read() as tx:
            ((update_id, error),) = await tx.inbox.set_aside_list()
            assert update_id == 5 and error == "x" * 1000
            assert await tx.inbox.state_of(5) == "set_aside"


async def test_pruning_forgets_handled_updates_only(db: Database) -> None:
    await _store(
        db, Incoming(1, "1", "{}"), Incoming(2, "2", "{}"), Incoming(3, "3", "{}", error="bad")
    )
    await _finish(db, await _claim(db, "w1"))
    async with db.claim() as tx:
        assert await tx.inbox.prune_done(T0) == 0
        assert await tx.inbox.prune_done(T0 + timedelta(seconds=1)) == 1
    async with db.read() as tx:
        assert await tx.inbox.counts() == {"waiting": 1, "set_aside": 1}
        assert await tx.inbox.unfinished() == 1
