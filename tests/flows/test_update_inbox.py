"""The durable inbox end to end: updates are stored and confirmed at once, handled by
several workers — a chat's in order, different chats side by side — and an update that
cannot be read, or whose worker died, never blocks anyone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import TypeHandler

from bot.sandbox import SimUser
from storage.database import open_database
from storage.inbox import MAX_ATTEMPTS
from tests.flows.conftest import Harness, running_harness

OPS_ID = 4242
LEASE_S = 1.0


def _gate(
    h: Harness, user_id: int, *, times: int = 10**6
) -> tuple[asyncio.Event, list[asyncio.Task[Any]]]:
    """Hold the handling of ``user_id``'s updates (the first ``times`` of them) before any
    handler runs, until the event is set; the list records the worker task of each."""
    release = asyncio.Event()
    held: list[asyncio.Task[Any]] = []

    async def hold(update: Update, _: Any) -> None:
        user = update.effective_user
        if user is None or user.id != user_id or len(held) >= times:
            return
        task = asyncio.current_task()
        assert task is not None
        held.append(task)
        await release.wait()

    # Before the gatekeepers (-1): nothing of the update has been handled yet.
    h.runtime.application.add_handler(TypeHandler(Update, hold), group=-10)
    return release, held


def _welcomed(user: SimUser) -> bool:
    return any("欢迎使用" in (m.text or "") for m in user.inbox)


async def test_a_chats_updates_are_answered_in_order_while_a_slow_chat_holds_up_no_other(
    harness: Harness,
) -> None:
    sandbox = harness.sandbox
    slow = sandbox.add_user("慢用户", language_code="zh-hans")
    release, held = _gate(harness, slow.id)
    await slow.send("/start")
    await slow.send("/help")
    await sandbox.wait_until(lambda: len(held) == 1, timeout=5)

    others = [sandbox.add_user(f"邻居{i}", language_code="zh-hans") for i in range(3)]
    for user in others:
        await user.send("/start")
    await sandbox.wait_until(lambda: all(_welcomed(u) for u in others), timeout=10)
    # Meanwhile the slow chat's second update waited behind its first, and Telegram was
    # told about both at once (fetching went on).
    assert slow.inbox == []
    assert len(held) == 1
    assert sandbox.pending_updates == []

    release.set()
    await harness.settle()
    texts = [m.text or "" for m in slow.inbox]
    welcome = next(i for i, t in enumerate(texts) if "欢迎使用" in t)
    picker = next(i for i, m in enumerate(slow.inbox) if "幸福里社区" in m.button_texts)
    help_reply = next(i for i, t in enumerate(texts) if "使用帮助" in t)
    assert welcome < picker < help_reply, texts


@pytest.fixture
async def with_ops(tmp_path: Path) -> AsyncIterator[tuple[Harness, SimUser]]:
    async with running_harness(tmp_path, ops_chat_id=OPS_ID) as h:
        ops = h.sandbox.add_user("值班", user_id=OPS_ID)
        ops.record.started = True
        h.sandbox.world.private_chat(ops.record)
        yield h, ops


async def test_an_update_that_cannot_be_parsed_between_two_good_ones_is_set_aside(
    with_ops: tuple[Harness, SimUser],
) -> None:
    h, ops = with_ops
    first = h.sandbox.add_user("李明", language_code="zh-hans")
    second = h.sandbox.add_user("王芳", language_code="zh-hans")
    await first.send("/start")
    # A message without ``date``, in the first user's own chat: PTB cannot build it.
    bad = h.sandbox.inject_raw_update(
        {"message": {"message_id": 7, "chat": {"id": first.id, "type": "private"}, "text": "x"}}
    )
    await second.send("/start")
    await h.settle()

    assert _welcomed(first) and _welcomed(second)
    assert h.sandbox.pending_updates == []
    async with h.services.db.read() as tx:
        assert await tx.inbox.state_of(bad["update_id"]) == "set_aside"
        ((update_id, error),) = await tx.inbox.set_aside_list()
        assert await tx.inbox.unfinished() == 0
    assert update_id == bad["update_id"]
    assert "cannot be parsed" in error and "date" in error
    await h.sandbox.wait_until(lambda: bool(ops.inbox), timeout=5)
    assert f"update_id={bad['update_id']} set aside" in (ops.inbox[-1].text or "")

    # The bot goes on: the first user's chat is not held up by it.
    await first.send("/my")
    await h.settle()
    assert "您还没有上报过问题" in (first.inbox[-1].text or "")


@pytest.fixture
async def short_lease(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path, inbox_lease_s=LEASE_S) as h:
        yield h


async def test_an_update_whose_worker_died_is_taken_over_after_the_lease(
    short_lease: Harness,
) -> None:
    h = short_lease
    workers = h.runtime.workers
    user = h.sandbox.add_user("赵强", language_code="zh-hans")
    _, held = _gate(h, user.id, times=1)
    loop = asyncio.get_running_loop()
    await user.send("/start")
    await h.sandbox.wait_until(lambda: bool(held), timeout=5)
    held[0].cancel()  # the worker dies mid-handling, its update still claimed
    died_at = loop.time()

    await h.sandbox.wait_until(lambda: _welcomed(user), timeout=10)
    assert loop.time() - died_at >= LEASE_S * 0.9, "taken over only once the lease ran out"
    await h.settle()
    assert len(user.inbox) == 2  # one welcome and one picker, handled once
    assert len(workers.tasks) == workers.count, "the dead worker was replaced"


async def test_an_update_that_keeps_failing_is_set_aside_and_its_chat_goes_on(
    with_ops: tuple[Harness, SimUser],
) -> None:
    h, ops = with_ops
    user = h.sandbox.add_user("孙丽", language_code="zh-hans")
    application = h.runtime.application
    original = application.process_update
    tries: list[int] = []

    async def broken_for_the_first(update: Any) -> None:
        # Not a handler error (PTB gives those to the error handler): the handling
        # itself fails, as when the database is gone, every time for this update.
        if not tries or update.update_id == tries[0]:
            tries.append(update.update_id)
            raise RuntimeError("the handling broke")
        await original(update)

    application.process_update = broken_for_the_first  # type: ignore[method-assign]
    await user.send("/start")
    await user.send("/help")
    await h.settle()

    assert len(tries) == MAX_ATTEMPTS and len(set(tries)) == 1
    async with h.services.db.read() as tx:
        assert await tx.inbox.set_aside_list() == [
            (tries[0], "RuntimeError('the handling broke')")
        ]
    await h.sandbox.wait_until(lambda: bool(ops.inbox), timeout=5)
    assert f"update_id={tries[0]} set aside after {MAX_ATTEMPTS} attempts" in (
        ops.inbox[-1].text or ""
    )
    # The chat's next update was answered once the broken one was out of its way.
    assert any("使用帮助" in (m.text or "") for m in user.inbox)


async def test_stopping_mid_handling_hands_the_update_back_for_the_next_start(
    harness: Harness,
) -> None:
    user = harness.sandbox.add_user("钱进", language_code="zh-hans")
    _, held = _gate(harness, user.id)
    await user.send("/start")
    await harness.sandbox.wait_until(lambda: bool(held), timeout=5)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await harness.runtime.stop()
    assert loop.time() - began < 7.0, "the stop stays within its bound"
    assert user.inbox == []
    settings = harness.runtime.settings
    async with (
        open_database(settings.database_url, settings.database_path, bot_id=settings.bot_id) as db,
        db.read() as tx,
    ):
        counts = await tx.inbox.counts()
    assert counts.get("waiting") == 1 and "working" not in counts, counts
