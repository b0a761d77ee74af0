"""Named leases on a real SQLite file: one holder at a time, taken over once run out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.factories import T0, database_for_test


async def test_one_holder_at_a_time_until_the_lease_runs_out(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "l.sqlite3") as db, db.claim() as tx:
        assert await tx.leases.acquire("leader", "a", T0, 30)
        assert not await tx.leases.acquire("leader", "b", T0 + timedelta(seconds=29), 30)
        assert await tx.leases.holder("leader", T0 + timedelta(seconds=29)) == "a"
        # Renewing keeps it past the first term.
        assert await tx.leases.acquire("leader", "a", T0 + timedelta(seconds=20), 30)
        assert not await tx.leases.acquire("leader", "b", T0 + timedelta(seconds=45), 30)
        assert await tx.leases.acquire("leader", "b", T0 + timedelta(seconds=51), 30)
        assert await tx.leases.holder("leader", T0 + timedelta(seconds=52)) == "b"
        # The old holder cannot renew what it lost.
        assert not await tx.leases.acquire("leader", "a", T0 + timedelta(seconds=52), 30)


async def test_release_frees_the_lease_only_for_its_holder(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "l.sqlite3") as db, db.claim() as tx:
        assert await tx.leases.acquire("leader", "a", T0, 30)
        assert await tx.leases.acquire("other", "b", T0, 30)
        assert not await tx.leases.release("leader", "b")
        assert await tx.leases.release("leader", "a")
        assert await tx.leases.holder("leader", T0) is None
        assert await tx.leases.acquire("leader", "b", T0, 30)
        assert await tx.leases.holder("other", T0) == "b"
