"""The database unavailable for half a minute while residents keep writing: PostgreSQL
stopped, or the SQLite file write-locked by another process. The bot waits, recovers by
itself, and loses nothing.

Telegram keeps an update until the bot asks for the next offset, and the bot asks only
once the update is stored: so during the outage what residents send stays with Telegram
(the simulator's pending updates) and nobody is answered; once the database is back every
update is stored, handled once and answered. The bot runs in this process on the
simulator and is never restarted: recovering is its own doing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import TypeHandler

from bot.domain.models import Language
from bot.i18n import t
from bot.sandbox import Sandbox, SentMessage, SimUser
from storage import postgres
from tests.flows.conftest import Harness, running_harness
from tests.flows.reporting import NUMBER, has, jpeg, with_button
from tests.postgres_cluster import Cluster, ClusterUnavailable
from tests.reliability.test_crash import ticket_cards

# How long the database is unavailable: the half minute. Each test takes under a
# minute with it (the bot's recovery takes seconds).
OUTAGE_S = 30.0
# How soon after the database is back everything sent during the outage must be answered.
RECOVERY_S = 15.0
# A loop that retries without waiting would log far more than this.
MAX_WARNINGS = int(10 * OUTAGE_S)
BUILDINGS = ("1号楼", "3号楼", "5号楼", "2号楼")
ZONES = ("Z1", "Z2", "Z3")
NO_PHOTO = "不带照片继续"
APOLOGY = t(Language.ZH, "errors.internal")

Outage = Callable[[], AbstractAsyncContextManager[None]]


async def _report_from(nudge: SentMessage, user: SimUser, building: str, sandbox: Sandbox) -> str:
    """A text-only report, from the bot's answer to ``/report``; returns its number."""
    await user.press(nudge, NO_PHOTO)
    await user.press(await user.wait_for(with_button("其他")), "其他")
    await user.press(await user.wait_for(with_button(building)), building)
    await user.wait_for(has("一句话描述"))
    await user.send(f"{user.first_name}的问题")
    step = await user.wait_for(
        lambda m: bool({"✅ 确认上报", "不是，继续新上报"} & set(m.button_texts))
    )
    if "不是，继续新上报" in step.button_texts:
        # Their own earlier report of the same kind is offered as a duplicate.
        await user.press(step, "不是，继续新上报")
        step = await user.wait_for(with_button("✅ 确认上报"))
    await user.press(step, "✅ 确认上报")
    await sandbox.wait_until(lambda: "已受理" in (step.text or ""), timeout=10)
    match = NUMBER.search(step.text or "")
    assert match, step.text
    return match.group(0)


async def _report(user: SimUser, building: str, sandbox: Sandbox) -> str:
    await user.send("/report")
    return await _report_from(await user.wait_for(with_button(NO_PHOTO)), user, building, sandbox)


def _count(user: SimUser, text: str) -> int:
    return sum(1 for m in user.inbox if text in (m.text or "") or text in m.button_texts)


async def _through_an_outage(h: Harness, outage: Outage) -> None:
    """Residents report before, during and after ``outage``; check that nothing was
    confirmed to Telegram unstored, and that everything was answered once afterwards."""
    sandbox = h.sandbox
    loop = asyncio.get_running_loop()
    cadres = [await h.cadre(zone) for zone in ZONES]
    residents = [await h.resident(f"居民{i}", b) for i, b in enumerate(BUILDINGS)]
    newcomer = sandbox.add_user("新来的", language_code="zh-hans")
    numbers = [await _report(u, b, sandbox) for u, b in zip(residents, BUILDINGS, strict=True)]
    await h.settle()
    everyone = (*residents, *cadres, newcomer, h.admin)
    heard_before = [len(u.inbox) for u in everyone]

    sent: list[tuple[int, int]] = []
    async with outage():
        began = loop.time()
        # Spread over the outage: some arrive while the bot is still failing to store
        # the first ones.
        for user in (*residents, newcomer):
            message = await user.send("/start" if user is newcomer else "/report")
            sent.append((message["chat"]["id"], message["message_id"]))
            await asyncio.sleep(OUTAGE_S / 10)
        # The minute tick falls in the outage too (as in half of all 30 s outages).
        queue = h.runtime.application.job_queue
        assert queue is not None
        for job in queue.get_jobs_by_name("tick"):
            queue.run_once(job.callback, when=0, name="tick-in-outage")
        await asyncio.sleep(max(0.0, began + OUTAGE_S - 3 - loop.time()))
        pending = {
            (u["message"]["chat"]["id"], u["message"]["message_id"])
            for u in sandbox.pending_updates
            if "message" in u
        }
        assert set(sent) <= pending, "an update not stored was confirmed to Telegram"
        assert [len(u.inbox) for u in everyone] == heard_before, "answered without storing"
        await asyncio.sleep(max(0.0, began + OUTAGE_S - loop.time()))
    back = loop.time()

    wait = RECOVERY_S + 30  # long enough to fail on the timing assertion below instead
    nudges = await asyncio.gather(*(u.wait_for(with_button(NO_PHOTO), wait) for u in residents))
    await newcomer.wait_for(has("欢迎使用"), wait)
    answered_after = loop.time() - back
    numbers += await asyncio.gather(
        *(
            _report_from(nudge, user, building, sandbox)
            for nudge, user, building in zip(nudges, residents, BUILDINGS, strict=True)
        )
    )
    # After the outage, as before it.
    await residents[0].send("/my")
    mine = await residents[0].wait_for(has("我的上报"))
    assert numbers[0] in (mine.text or "") and numbers[len(residents)] in (mine.text or "")
    await h.settle(wait_s=60)

    assert answered_after <= RECOVERY_S, f"answered {answered_after:.0f} s after the outage"
    assert sandbox.pending_updates == []
    assert len(set(numbers)) == len(numbers) == 2 * len(residents)
    async with h.runtime.db.read() as tx:
        stored = [str(r["number"]) for r in await tx.conn.fetch_all("SELECT number FROM tickets")]
    assert sorted(stored) == sorted(numbers), "every acknowledged report stored once"
    # Sent by the outbox, most of them after the outage: the sender lived through it.
    assert ticket_cards(cadres) == dict.fromkeys(numbers, 1), "each cadre card sent once"
    assert [_count(u, NO_PHOTO) for u in residents] == [2] * len(residents), "no answer twice"
    assert _count(newcomer, "欢迎使用") == 1
    assert [u.first_name for u in everyone if _count(u, APOLOGY)] == []
    assert h.runtime.leader.leading


def _assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    """Warnings only: a traceback or an error in the log is a loop that did not expect
    the outage; more warnings than MAX_WARNINGS is one retrying without pause."""
    loud = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.exc_info is not None or r.levelno >= logging.ERROR
    ]
    assert loud == []
    assert len(caplog.records) <= MAX_WARNINGS


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this test's own: stopping the session's would fail other tests."""
    try:
        cluster = Cluster().start()
    except ClusterUnavailable as exc:
        message = f"PostgreSQL tests not run: {exc}"
        if os.environ.get("JIAYUAN_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.postgresql
async def test_the_bot_waits_out_a_stopped_postgresql_and_loses_nothing(
    tmp_path: Path, own_cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)

    @asynccontextmanager
    async def stopped() -> AsyncIterator[None]:
        await asyncio.to_thread(own_cluster.pause)
        try:
            yield
        finally:
            await asyncio.to_thread(own_cluster.resume)

    url = own_cluster.create_database("outage")
    async with running_harness(tmp_path, database_url=url) as h:
        await _through_an_outage(h, stopped)
    _assert_quiet(caplog)


@pytest.mark.postgresql
async def test_the_outbox_sends_again_when_the_outage_outlasts_the_pools_wait(
    tmp_path: Path,
    own_cluster: Cluster,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the pool's wait for a connection every database call fails at once, again
    and again: with the wait cut to a second, a few seconds do what minutes of outage do
    with the usual 30 s."""
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(postgres, "CONNECT_TIMEOUT_S", 1.0)
    url = own_cluster.create_database("outage")
    # No tick: bot/jobs.py logs each part that fails with its traceback.
    async with running_harness(tmp_path, database_url=url, tick=False) as h:
        cadre = await h.cadre("Z1")
        resident = await h.resident("李明")
        await asyncio.to_thread(own_cluster.pause)
        try:
            await resident.send("/report")
            # The outbox's idle wait (5 s), then a failed pass and a failed look at what
            # is due next: the look that once ended the sender for good.
            await asyncio.sleep(8)
        finally:
            await asyncio.to_thread(own_cluster.resume)
        nudge = await resident.wait_for(with_button(NO_PHOTO), timeout=RECOVERY_S)
        number = await _report_from(nudge, resident, "1号楼", h.sandbox)
        await cadre.wait_for(has(f"新工单 {number}"), timeout=RECOVERY_S)
    _assert_quiet(caplog)


# Holds the write lock until its stdin closes, as a `sqlite3` shell left in a
# transaction would. (The bot's file is in WAL mode: its reads go on meanwhile.)
LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


@asynccontextmanager
async def _write_locked(database: Path) -> AsyncIterator[None]:
    """Another process holds the SQLite file's write lock while inside."""
    locker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LOCKER,
        str(database),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert locker.stdin is not None and locker.stdout is not None
    try:
        assert await asyncio.wait_for(locker.stdout.readline(), 10) == b"locked\n"
        yield
    finally:
        locker.stdin.close()
        assert await asyncio.wait_for(locker.wait(), 10) == 0, "the locking process failed"


@pytest.mark.sqlite_only
async def test_the_bot_waits_out_a_locked_sqlite_file_and_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_harness(tmp_path) as h:
        await _through_an_outage(h, lambda: _write_locked(h.runtime.settings.database_path))
    _assert_quiet(caplog)


class _Release(asyncio.Event):
    held = False  # an update of theirs is in hand, waiting for set()


@asynccontextmanager
async def _locked_mid_update(
    h: Harness, user: SimUser, send: Callable[[], Awaitable[object]]
) -> AsyncIterator[None]:
    """Send the user's next update and let its handlers run with the file write-locked:
    the update is held before any handler (group -1 and on) until the lock is taken."""
    release = _Release()

    async def hold(update: Update, _: Any) -> None:
        if update.effective_user is not None and update.effective_user.id == user.id:
            release.held = True
            await release.wait()

    h.runtime.application.add_handler(TypeHandler(Update, hold), group=-10)
    await send()
    await h.sandbox.wait_until(lambda: release.held)
    async with _write_locked(h.runtime.settings.database_path):
        release.set()
        yield


@pytest.mark.sqlite_only
async def test_an_answer_given_while_the_file_is_locked_is_recorded_after_not_given_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_harness(tmp_path, tick=False) as h:
        resident = await h.resident("李明")
        async with _locked_mid_update(h, resident, lambda: resident.send("/my")):
            # Reads go on under the lock, so the answer does; recording it as handled
            # must wait, past the busy timeout (5 s).
            await resident.wait_for(has("您还没有上报过问题"), timeout=5)
            await asyncio.sleep(7)
        # Recorded once the lock is gone, not put back as failed and then handled, and
        # answered, a second time.
        await h.settle(wait_s=5)
        assert _count(resident, "您还没有上报过问题") == 1
    _assert_quiet(caplog)


@pytest.mark.sqlite_only
async def test_a_write_interrupted_by_the_lock_runs_again_instead_of_an_apology(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_harness(tmp_path, tick=False) as h:
        resident = await h.resident("李明")
        async with _locked_mid_update(
            h, resident, lambda: resident.send_photo(jpeg(), caption="楼道里堆满纸箱")
        ):
            # The photo's draft cannot be written: past the busy timeout (5 s) the
            # handler fails mid-update, with the user not yet answered.
            await asyncio.sleep(7)
        # Handed back and run again once the lock is gone: the report goes on.
        await resident.wait_for(with_button("楼道堆物"), timeout=15)
        await h.settle(wait_s=10)
        assert _count(resident, APOLOGY) == 0
        assert _count(resident, "楼道堆物") == 1
    _assert_quiet(caplog)
