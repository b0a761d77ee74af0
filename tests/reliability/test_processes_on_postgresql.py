"""Several `jiayuan run` processes on one PostgreSQL database, killed at random.

Three processes share the database (inbox, outbox, leases, send slots) and the data dir;
residents report through the simulator while one process at a time is SIGKILLed and
restarted. Every acknowledged report is stored once and reaches its cadre; a repeat is
possible only for the message in flight at a kill. Then the leader itself is killed: another
process polls and ticks within a minute, and a reminder due meanwhile is sent once.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest

from bot.importer import load_plan
from bot.sandbox import FloodLimits, Sandbox, SimUser
from tests import backend
from tests.factories import SAMPLE_YAML, TOKEN, open_services
from tests.flows.reporting import jpeg
from tests.reliability.test_crash import _report, _seed, ticket_cards
from tests.unit.services.test_reports_and_deadlines import at_local, file, resident

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL"),
    pytest.mark.postgresql,
]

RESIDENTS = int(os.environ.get("JIAYUAN_CLUSTER_RESIDENTS", "60"))
KILLS = int(os.environ.get("JIAYUAN_CLUSTER_KILLS", "5"))
PROCESSES = 3


class Fleet:
    """The bot processes, by slot, restarted in place."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self, slot: int | None = None) -> asyncio.subprocess.Process:
        index = len(self.processes) if slot is None else slot
        with (self.log_dir / f"bot-{index}.log").open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env, stdout=out, stderr=out
            )
        if slot is None:
            self.processes.append(process)
        else:
            self.processes[slot] = process
        return process

    async def kill(self, slot: int) -> None:
        process = self.processes[slot]
        process.send_signal(signal.SIGKILL)
        await process.wait()

    async def stop(self) -> list[int]:
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        return [await asyncio.wait_for(p.wait(), timeout=30) for p in self.processes]

    def tracebacks(self) -> list[str]:
        return [
            log.name
            for log in self.log_dir.glob("bot-*.log")
            if "Traceback" in log.read_text(encoding="utf-8", errors="replace")
        ]


def _query(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(sql.encode(), params))  # type: ignore[call-overload]


def _leader_pid(url: str) -> int | None:
    # Each bot of a city has its own leader: the lease is named after the bot's id.
    name = f"{TOKEN.split(':')[0]}/leader"
    rows = _query(
        url, "SELECT holder FROM leases WHERE name = %s AND until > %s", (name, _now_iso())
    )
    if not rows:
        return None
    return int(str(rows[0][0]).split(":")[1])


async def _leader_within(url: str, seconds: float, *, other_than: int | None = None) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        leader = _leader_pid(url)
        if leader is not None and leader != other_than:
            return leader
        await asyncio.sleep(0.2)
    raise AssertionError(f"no process took the lead within {seconds:.0f} s")


def _now_iso() -> str:
    from datetime import UTC, datetime

    from storage.rows import to_db_time

    return to_db_time(datetime.now(UTC))


@asynccontextmanager
async def fleet_on(url: str, data_dir: Path) -> AsyncIterator[tuple[Sandbox, Fleet]]:
    async with Sandbox(TOKEN, "jiayuan_bot", limits=FloodLimits.off()) as sandbox:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("JIAYUAN_")},
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": sandbox.base_url,
            "JIAYUAN_DATA_DIR": str(data_dir),
            "JIAYUAN_DATABASE_URL": url,
        }
        fleet = Fleet(env, data_dir)
        try:
            yield sandbox, fleet
        finally:
            for process in fleet.processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()


def _started(sandbox: Sandbox, name: str, user_id: int) -> SimUser:
    user = sandbox.add_user(name, user_id=user_id)
    user.record.started = True
    sandbox.world.private_chat(user.record)
    return user


async def _drained(url: str, sandbox: Sandbox, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        (pending,) = _query(
            url,
            "SELECT (SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending'))"
            " + (SELECT COUNT(*) FROM inbox WHERE state IN ('waiting', 'working'))",
        )[0]
        if pending == 0:
            await sandbox.wait_idle(timeout=30)
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("the inbox and outbox did not drain")


async def test_three_processes_lose_nothing_when_killed_at_random(
    tmp_path: Path, pg_database: str
) -> None:
    backend.use(pg_database)
    try:
        cadre_ids, building_names = await _seed(tmp_path, RESIDENTS)
    finally:
        backend.use(None)
    rng = random.Random(20261206)
    async with fleet_on(pg_database, tmp_path) as (sandbox, fleet):
        cadres = [_started(sandbox, f"干部{i}", cid) for i, cid in enumerate(cadre_ids)]
        residents = [_started(sandbox, f"居民{i}", 6000 + i) for i in range(RESIDENTS)]
        for _ in range(PROCESSES):
            await fleet.start()
        scripts = [
            asyncio.create_task(_report(user, building_names[i % len(building_names)], sandbox))
            for i, user in enumerate(residents)
        ]
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            slot = rng.randrange(PROCESSES)
            await fleet.kill(slot)
            await fleet.start(slot)
        numbers = await asyncio.wait_for(asyncio.gather(*scripts), timeout=420)
        await _drained(pg_database, sandbox)
        assert await fleet.stop() == [0] * PROCESSES

        assert len(set(numbers)) == RESIDENTS, "each acknowledgement names its own ticket"
        stored = [str(r[0]) for r in _query(pg_database, "SELECT number FROM tickets")]
        assert sorted(stored) == sorted(numbers), "stored exactly once, nothing unacknowledged"
        cards = ticket_cards(cadres)
        missing = set(numbers) - set(cards)
        assert not missing, f"cards missing for {sorted(missing)[:5]}"
        repeats = sum(n - 1 for n in cards.values())
        assert repeats <= KILLS, f"{repeats} repeated cards for {KILLS} kills"
        set_aside = _query(pg_database, "SELECT COUNT(*) FROM inbox WHERE state = 'set_aside'")
        assert set_aside[0][0] == 0, "no good update was set aside"
        assert fleet.tracebacks() == [], "no unhandled exception in any log"


async def _seed_a_ticket_due_monday(tmp_path: Path) -> tuple[int, str]:
    """The sample community, its Z1 cadre, and a ticket filed Monday the 16th: the
    reminder ahead of its deadline (Monday the 23rd) is due Friday the 20th at 09:00."""
    services = await open_services(tmp_path)
    try:
        summary = await services.communities.apply_plan(load_plan(SAMPLE_YAML))
        _, cadre = await services.people.identify(501, "陈建国", "zh-hans", False)
        z1 = next(code for zone, _, code in summary.cadre_invites if zone == "Z1")
        await services.invites.redeem(cadre, z1)
        services.clock.set(at_local(2026, 11, 16, 10, 0))
        ticket = await file(services, await resident(services))
        # The before-photo the seeded report names, for its rectification notice.
        photo = tmp_path / "photos" / "aa" / ("a" * 64 + ".jpg")
        photo.parent.mkdir(parents=True, exist_ok=True)
        photo.write_bytes(jpeg())
    finally:
        await services.db.close()
    return 501, ticket.number


async def test_a_killed_leaders_polling_and_tick_move_to_another_process(
    tmp_path: Path, pg_database: str
) -> None:
    backend.use(pg_database)
    try:
        cadre_id, number = await _seed_a_ticket_due_monday(tmp_path)
    finally:
        backend.use(None)
    async with fleet_on(pg_database, tmp_path) as (sandbox, fleet):
        # Half a minute before the reminder is due: it falls due while the leader is dead.
        fleet.env["JIAYUAN_NOW"] = at_local(2026, 11, 20, 8, 59, 30).isoformat()
        cadre = _started(sandbox, "陈建国", cadre_id)
        resident = _started(sandbox, "李明", 601)
        for _ in range(2):
            await fleet.start()
        leader = await _leader_within(pg_database, 30.0)
        await resident.send("/my")
        await resident.next_message(timeout=20)

        slot = next(i for i, p in enumerate(fleet.processes) if p.pid == leader)
        killed_at = time.monotonic()
        await fleet.kill(slot)
        await resident.send("/my")
        await resident.next_message(timeout=75)
        answered_after = time.monotonic() - killed_at
        successor = await _leader_within(pg_database, 15.0, other_than=leader)
        assert successor != leader
        assert answered_after <= 60, f"polling resumed {answered_after:.0f} s after the kill"

        def reminders() -> int:
            return sum(
                1 for m in cadre.inbox if number in (m.text or "") and "提醒" in (m.text or "")
            )

        await sandbox.wait_until(lambda: reminders() >= 1, timeout=max(5.0, 75 - answered_after))
        ticked_after = time.monotonic() - killed_at
        assert ticked_after <= 60, f"the tick resumed {ticked_after:.0f} s after the kill"
        await asyncio.sleep(3)
        assert reminders() == 1, "the reminder is sent once"
        await fleet.stop()
        assert fleet.tracebacks() == []
