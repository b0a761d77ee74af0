"""Telegram misbehaving and the bot crashing: nothing acknowledged is lost, nothing is
done twice, blocked users stop being retried."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import start_bot
from bot.notify.pacing import Limits
from bot.sandbox import FloodLimits
from storage.database import open_database
from tests.flows.conftest import Harness, running_harness
from tests.flows.reporting import file_report, has, jpeg, ticket_message, with_button

CRASH_LEASE_S = 3.0


async def _count_tickets(harness: Harness) -> int:
    async with harness.services.db.read() as tx:
        value = await tx.conn.fetch_all("SELECT COUNT(*) FROM tickets")
    return int(next(iter(value))[0])


async def _queue_texts(harness: Harness, chat_id: int, texts: list[str]) -> None:
    async with harness.services.db.transaction() as tx:
        for text in texts:
            await tx.outbox.add(chat_id, {"text": text}, harness.clock.now())
    harness.services.outbox_ready.set()


async def test_a_report_handled_again_after_a_crash_makes_one_ticket(tmp_path: Path) -> None:
    # A short lease: on a shared database (PostgreSQL) the restarted process cannot know
    # the dead one's claim is dead, and takes it over only once its lease has run out.
    async with running_harness(tmp_path, inbox_lease_s=CRASH_LEASE_S) as harness:
        await _crash_after_submit_then_restart(harness)


async def _crash_after_submit_then_restart(harness: Harness) -> None:
    await harness.cadre("Z1")
    resident = await harness.resident("崩溃见证者")
    await resident.send_photo(jpeg(), caption="垃圾堆")
    await resident.press(await resident.wait_for(with_button("卫生死角/垃圾")), "卫生死角/垃圾")
    await resident.press(await resident.wait_for(with_button("1号楼")), "1号楼")
    summary = await resident.wait_for(with_button("✅ 确认上报"), timeout=10)
    await harness.settle()

    # The process dies right after handling "submit", before the update is recorded as
    # processed and its inbox row finished.
    application = harness.runtime.application
    original = application.process_update

    async def handle_then_die(update: Any) -> None:
        await original(update)
        if update.callback_query and update.callback_query.data == "rp1:ok":
            raise asyncio.CancelledError

    application.process_update = handle_then_die  # type: ignore[method-assign]
    await resident.press(summary, "✅ 确认上报")
    await harness.sandbox.wait_until(lambda: "已受理" in (summary.text or ""), timeout=10)
    await asyncio.sleep(0.3)
    await harness.runtime.stop()
    assert not harness.sandbox.pending_updates, "Telegram was told once it was stored"
    settings = harness.runtime.settings
    async with (
        open_database(settings.database_url, settings.database_path, bot_id=settings.bot_id) as db,
        db.read() as tx,
    ):
        assert await tx.inbox.unfinished() == 1, "the submit press was never finished"

    harness.runtime = await start_bot(
        harness.runtime.settings,
        harness.clock,
        poll_timeout=1,
        outbox_limits=Limits(per_chat_interval_s=0),
        inbox_lease_s=CRASH_LEASE_S,
    )
    await harness.settle(wait_s=CRASH_LEASE_S + 20)
    assert await _count_tickets(harness) == 1
    assert "已受理" in (summary.text or "")


async def test_an_update_recorded_as_processed_is_not_handled_again(harness: Harness) -> None:
    resident = await harness.resident("重复者")
    await harness.settle()
    await harness.take_all(resident)
    update = await resident.send("/my")
    await harness.settle()
    first = await harness.take_all(resident)
    assert len(first) == 1
    poller = harness.runtime.poller
    assert poller is not None and poller.offset is not None
    update_id = poller.offset - 1
    # Its inbox row forgotten, as for an update handled before the inbox existed (an
    # upgrade), Telegram delivers it once more: the processed key keeps it from running.
    async with harness.services.db.claim() as tx:
        assert await tx.inbox.prune_done(harness.clock.now() + timedelta(days=1)) > 0
    harness.sandbox.inject_raw_update({"update_id": update_id, "message": update})
    await harness.settle()
    async with harness.services.db.read() as tx:
        assert await tx.inbox.state_of(update_id) == "done"
    assert await harness.take_all(resident) == []


async def test_user_who_blocked_the_bot_is_marked_and_skipped(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    resident = await harness.resident("拉黑者")
    number = await file_report(harness.sandbox, resident)
    card = await ticket_message(cadre, number)
    resident.block_bot()
    await harness.settle()
    person = await harness.services.people.find(resident.id)
    assert person is not None and person.reachable is False, (
        "Telegram's my_chat_member (kicked) marks them at once"
    )
    await cadre.press(card, "✅ 签收")
    await harness.settle()
    assert harness.sandbox.stats.count("sendMessage", 403) == 0, "nothing is even tried"

    # Messages already queued when the block happened get a 403 once, then stop.
    await _queue_texts(harness, resident.id, ["排队中的通知 1", "排队中的通知 2"])
    await harness.settle()
    assert harness.sandbox.stats.count("sendMessage", 403) == 1
    async with harness.services.db.read() as tx:
        statuses = await tx.outbox.count_by_status()
    assert statuses.get("blocked") == 2
    assert statuses.get("pending", 0) == 0

    # Writing to the bot again means they unblocked it.
    resident.unblock_bot()
    await resident.send("/my")
    await resident.wait_for(has(number))
    person = await harness.services.people.find(resident.id)
    assert person is not None and person.reachable is True


async def test_flood_control_429_is_waited_out_and_nothing_is_lost(harness: Harness) -> None:
    resident = await harness.resident("收消息的人")
    await harness.settle()
    await harness.take_all(resident)
    harness.sandbox.limits = FloodLimits(chat_per_second=5.0, chat_burst=3)
    texts = [f"通知 {i}" for i in range(8)]
    await _queue_texts(harness, resident.id, texts)

    def got() -> list[str | None]:
        return [m.text for m in resident.inbox if (m.text or "").startswith("通知")]

    for _ in range(40):
        await asyncio.sleep(0.25)
        harness.clock.advance(timedelta(seconds=2))
        harness.services.outbox_ready.set()
        if len(got()) >= 8:
            break
    await harness.settle()
    assert got() == texts, "each delivered once, in order"
    assert harness.sandbox.stats.too_many_requests >= 1


async def test_server_errors_are_retried_with_backoff(harness: Harness) -> None:
    resident = await harness.resident("等待者")
    await harness.settle()
    await harness.take_all(resident)
    harness.sandbox.faults.add(method="sendMessage", status=502, count=2)
    await _queue_texts(harness, resident.id, ["重要通知"])
    for _ in range(40):
        await asyncio.sleep(0.1)
        harness.clock.advance(timedelta(seconds=5))
        harness.services.outbox_ready.set()
        if resident.inbox:
            break
    message = await resident.wait_for(has("重要通知"), timeout=10)
    assert message.text == "重要通知"
    assert harness.sandbox.stats.count("sendMessage", 502) == 2


async def test_replies_and_notifications_share_one_sending_budget(harness: Harness) -> None:
    """A broadcast draining while residents talk to the bot: together they stay under
    Telegram's ~30 messages a second, so nobody's reply or notice meets a 429."""
    residents = [await harness.resident(f"居民{i}") for i in range(20)]
    await harness.settle()
    for resident in residents:
        await harness.take_all(resident)
    harness.sandbox.limits = FloodLimits()  # Telegram's: 30/s overall, bursts of 30
    for resident in residents:
        await _queue_texts(harness, resident.id, ["停水通知", "停电通知"])
    await asyncio.gather(*(resident.send("/my") for resident in residents))
    for resident in residents:
        await resident.wait_for(has("停电通知"), timeout=20)
        await resident.wait_for(lambda m: "停" not in (m.text or ""), timeout=20)
    await harness.settle()
    assert harness.sandbox.stats.too_many_requests == 0
