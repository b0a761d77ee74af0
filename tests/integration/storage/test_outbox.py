"""The outbox on a real SQLite file: a chat's queue held in order, settled rows pruned."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.domain.models import Language
from tests.factories import T0, database_for_test


async def test_holding_a_chat_keeps_its_later_messages_behind(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "o.sqlite3") as db:
        async with db.transaction() as tx:
            first = await tx.outbox.add(1, {"text": "一"}, T0)
            second = await tx.outbox.add(1, {"text": "二"}, T0)
            other = await tx.outbox.add(2, {"text": "别人的"}, T0)
            assert first is not None and second is not None and other is not None
            later = T0 + timedelta(seconds=5)
            await tx.outbox.postpone(first, later)
            assert await tx.outbox.hold_chat(1, first, later) == 1
        async with db.read() as tx:
            assert [i.id for i in await tx.outbox.due(T0)] == [other]
            assert [i.id for i in await tx.outbox.due(later)] == [other, first, second]


async def test_pruning_forgets_old_settled_messages_only(tmp_path: Path) -> None:
    old, recent, cutoff = T0, T0 + timedelta(days=50), T0 + timedelta(days=45)
    async with database_for_test(tmp_path / "p.sqlite3") as db:
        async with db.transaction() as tx:
            community = await tx.communities.add("c1", "一社区", "Asia/Shanghai", T0)
            person = await tx.people.add("王", T0, telegram_id=5, language=Language.ZH)
            waiting = await tx.announcements.add(community.id, "all", "通知", person.id, T0)
            ids = {
                "old sent": await tx.outbox.add(5, {"text": "a"}, old),
                "old failed": await tx.outbox.add(5, {"text": "b"}, old),
                "old pending": await tx.outbox.add(5, {"text": "c"}, old),
                "recent sent": await tx.outbox.add(5, {"text": "d"}, recent),
                "unreported announcement": await tx.outbox.add(
                    5, {"text": "e"}, old, batch=f"ann:{waiting}"
                ),
            }
            for name, item in ids.items():
                assert item is not None
                if "sent" in name or "announcement" in name:
                    await tx.outbox.mark_sent(item, old)
                elif "failed" in name:
                    await tx.outbox.give_up(item, "failed", "Bad Request")
        async with db.transaction() as tx:
            assert await tx.outbox.prune_finished(cutoff, limit=1) == 1
            assert await tx.outbox.prune_finished(cutoff) == 1
            assert await tx.outbox.prune_finished(cutoff) == 0
        async with db.read() as tx:
            rows = await tx.conn.fetch_all("SELECT id FROM outbox ORDER BY id")
        kept = {row[0] for row in rows}
        assert kept == {ids["old pending"], ids["recent sent"], ids["unreported announcement"]}
        async with db.transaction() as tx:
            await tx.announcements.mark_reported(waiting, recent)
            assert await tx.outbox.prune_finished(cutoff) == 1
