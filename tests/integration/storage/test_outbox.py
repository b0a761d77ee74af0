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


class TestClaims:
    async def test_two_senders_never_hold_one_message(self, tmp_path: Path) -> None:
        async with database_for_test(tmp_path / "c.sqlite3") as db:
            async with db.transaction() as tx:
                ids = [await tx.outbox.add(chat, {"text": "x"}, T0) for chat in (1, 2, 3)]
            async with db.claim() as tx:
                first = await tx.outbox.claim_due("a", T0, limit=2, lease_s=60)
            async with db.claim() as tx:
                second = await tx.outbox.claim_due("b", T0, limit=10, lease_s=60)
                assert await tx.outbox.claim_due("c", T0, limit=10, lease_s=60) == []
            assert [i.id for i in first] == ids[:2]
            assert [i.id for i in second] == ids[2:]
            async with db.read() as tx:
                assert await tx.outbox.count_by_status() == {"sending": 3}
                assert await tx.outbox.due(T0) == []

    async def test_a_chat_being_sent_by_another_sender_is_left_to_it(self, tmp_path: Path) -> None:
        async with database_for_test(tmp_path / "c.sqlite3") as db:
            async with db.transaction() as tx:
                first = await tx.outbox.add(1, {"text": "一"}, T0)
            async with db.claim() as tx:
                assert [i.id for i in await tx.outbox.claim_due("a", T0, 10, 60)] == [first]
            async with db.transaction() as tx:
                second = await tx.outbox.add(1, {"text": "二"}, T0)
                other = await tx.outbox.add(2, {"text": "别人"}, T0)
            async with db.claim() as tx:
                assert [i.id for i in await tx.outbox.claim_due("b", T0, 10, 60)] == [other]
                # The holder itself takes the chat's next message.
                assert [i.id for i in await tx.outbox.claim_due("a", T0, 10, 60)] == [second]

    async def test_a_lapsed_claim_is_due_again_and_settling_ends_it(self, tmp_path: Path) -> None:
        async with database_for_test(tmp_path / "c.sqlite3") as db:
            async with db.transaction() as tx:
                lost = await tx.outbox.add(1, {"text": "一"}, T0)
                kept = await tx.outbox.add(2, {"text": "二"}, T0)
            async with db.claim() as tx:
                assert len(await tx.outbox.claim_due("dead", T0, 10, 60)) == 2
            async with db.transaction() as tx:
                await tx.outbox.mark_sent(kept, T0)  # settled before the sender died
            later = T0 + timedelta(seconds=61)
            async with db.claim() as tx:
                assert await tx.outbox.claim_due("b", T0 + timedelta(seconds=59), 10, 60) == []
                taken = await tx.outbox.claim_due("b", later, 10, 60)
            assert [i.id for i in taken] == [lost]
            async with db.read() as tx:
                assert await tx.outbox.count_by_status() == {"sending": 1, "sent": 1}

    async def test_released_and_postponed_messages_go_back_to_pending(
        self, tmp_path: Path
    ) -> None:
        async with database_for_test(tmp_path / "c.sqlite3") as db:
            async with db.transaction() as tx:
                a = await tx.outbox.add(1, {"text": "一"}, T0)
                b = await tx.outbox.add(1, {"text": "二"}, T0)
                c = await tx.outbox.add(2, {"text": "三"}, T0)
                assert a is not None and b is not None and c is not None
            async with db.claim() as tx:
                await tx.outbox.claim_due("s", T0, 10, 60)
                assert await tx.outbox.release([c], "other") == 0
                assert await tx.outbox.release([c], "s") == 1
                later = T0 + timedelta(seconds=5)
                await tx.outbox.postpone(a, later)
                # The chat's claimed but unsent message is held behind it too.
                assert await tx.outbox.hold_chat(1, a, later) == 1
            async with db.read() as tx:
                assert [i.id for i in await tx.outbox.due(T0)] == [c]
                assert await tx.outbox.count_by_status() == {"pending": 2, "sending": 1}

    async def test_a_restart_on_its_own_database_requeues_what_was_being_sent(
        self, tmp_path: Path
    ) -> None:
        async with database_for_test(tmp_path / "c.sqlite3") as db:
            async with db.transaction() as tx:
                await tx.outbox.add(1, {"text": "一"}, T0)
                await tx.outbox.add(2, {"text": "二"}, T0)
            async with db.claim() as tx:
                assert len(await tx.outbox.claim_due("killed", T0, 1, 60)) == 1
                assert await tx.outbox.unsettled(T0) == 2
                assert await tx.outbox.requeue_sending() == 1
                assert [i.chat_id for i in await tx.outbox.claim_due("new", T0, 10, 60)] == [1, 2]
