"""The database on a real SQLite file: migrations, transactions, backup."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.domain.models import Language, Role
from storage.database import SqliteDatabase, migration_scripts
from tests.factories import INTEGRITY_ERRORS, T0, database_for_test


@pytest.mark.sqlite_only
async def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "a.sqlite3")
    await db.connect()
    assert await db.migrate() == []
    await db.close()
    with sqlite3.connect(tmp_path / "a.sqlite3") as conn:
        numbers = [r[0] for r in conn.execute("SELECT number FROM schema_migrations")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert numbers == [n for n, _, _ in migration_scripts()]
    assert mode == "wal"


async def test_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "b.sqlite3") as db:
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.communities.add("c1", "一社区", "Asia/Shanghai", T0)
                raise RuntimeError("boom")
        async with db.read() as tx:
            assert await tx.communities.list_all() == []


async def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "c.sqlite3") as db:
        with pytest.raises(INTEGRITY_ERRORS):
            async with db.transaction() as tx:
                await tx.zones.add(999, "Z1", "东片区")


async def test_role_grant_is_unique_even_without_a_zone(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "d.sqlite3") as db:
        async with db.transaction() as tx:
            community = await tx.communities.add("c1", "一社区", "Asia/Shanghai", T0)
            person = await tx.people.add("王", T0, telegram_id=5, language=Language.ZH)
            assert await tx.roles.grant(person.id, community.id, Role.LEADER, None, None, T0)
            assert not await tx.roles.grant(person.id, community.id, Role.LEADER, None, None, T0)
            grants = await tx.roles.list_for_person(person.id)
        assert [g.role for g in grants] == [Role.LEADER]


@pytest.mark.sqlite_only
async def test_backup_is_a_consistent_openable_copy(tmp_path: Path) -> None:
    async with SqliteDatabase(tmp_path / "live.sqlite3") as db:
        async with db.transaction() as tx:
            await tx.communities.add("c1", "一社区", "Asia/Shanghai", T0)
        await db.backup(tmp_path / "copy.sqlite3")
        async with db.transaction() as tx:
            await tx.communities.add("c2", "二社区", "Asia/Shanghai", T0)
    with sqlite3.connect(tmp_path / "copy.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        codes = [r[0] for r in conn.execute("SELECT code FROM communities")]
    assert codes == ["c1"]


async def test_outbox_dedupe_key_queues_a_message_once(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "e.sqlite3") as db:
        async with db.transaction() as tx:
            first = await tx.outbox.add(42, {"text": "hi"}, T0, dedupe_key="k1")
            second = await tx.outbox.add(42, {"text": "hi"}, T0, dedupe_key="k1")
        async with db.read() as tx:
            due = await tx.outbox.due(T0)
        assert first is not None and second is None
        assert [item.payload for item in due] == [{"text": "hi"}]


async def test_group_migration_moves_binding_and_queued_messages(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "f.sqlite3") as db:
        async with db.transaction() as tx:
            community = await tx.communities.add("c1", "一社区", "Asia/Shanghai", T0)
            await tx.groups.bind(-100, community.id, "群", 1, T0)
            await tx.outbox.add(-100, {"text": "hi"}, T0)
            assert await tx.groups.migrate(-100, -1001234)
        async with db.read() as tx:
            assert await tx.groups.find(-100) is None
            moved = await tx.groups.find(-1001234)
            due = await tx.outbox.due(T0)
        assert moved is not None and moved.community_id == community.id
        assert [item.chat_id for item in due] == [-1001234]


@pytest.mark.sqlite_only
async def test_a_long_read_does_not_hold_up_other_reads(tmp_path: Path) -> None:
    """The minute tick's scan keeps one reader; an update's reads use another."""
    async with SqliteDatabase(tmp_path / "pool.sqlite3", readers=2) as db:
        async with db.transaction() as tx:
            await tx.communities.add("c1", "一社区", "Asia/Shanghai", T0)
        release = asyncio.Event()

        async def long_scan() -> None:
            async with db.read() as tx:
                await tx.communities.list_all()
                await release.wait()

        scan = asyncio.create_task(long_scan())
        await asyncio.sleep(0.05)
        async with asyncio.timeout(5):
            async with db.read() as tx:
                assert [c.code for c in await tx.communities.list_all()] == ["c1"]
        release.set()
        await scan


async def test_each_read_is_one_snapshot(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "snap.sqlite3") as db:
        async with db.read() as reader:
            assert await reader.communities.list_all() == []
            async with db.transaction() as tx:
                await tx.communities.add("c1", "一社区", "Asia/Shanghai", T0)
            assert await reader.communities.list_all() == [], "no change mid-snapshot"
        async with db.read() as reader:
            assert len(await reader.communities.list_all()) == 1


async def test_a_bad_stored_rule_is_ignored_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with database_for_test(tmp_path / "rules.sqlite3") as db:
        async with db.transaction() as tx:
            community = await tx.communities.add("c1", "一社区", "Asia/Shanghai", T0)
            await tx.communities.set_rule(community.id, "rectify_workdays", "500")
            await tx.communities.set_rule(community.id, "clean_day", "20")
        async with db.read() as tx:
            rules = await tx.communities.rules(community.id)
    assert rules.rectify_workdays == 5 and rules.clean_day == 20
    assert "rectify_workdays" in caplog.text
