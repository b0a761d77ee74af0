"""Past one machine: bot processes on PostgreSQL against one on SQLite, same simulator.

    python bench/bench_processes.py [--quick]

Every bot here is a real `jiayuan run` process (bench/_unpaced_bot.py: the sending budget
lifted, so the figure is the bot's own cost, not Telegram's 30/s) polling a ``Sandbox`` in
this process. PostgreSQL is a throwaway cluster this script starts and stops
(tests/postgres_cluster.py). Baseline: the bare PTB echo bot of bench_updates.py, polling
the same simulator in this process.

1. Throughput: C residents each send /my, wait for the answer and send again (closed loop);
   replies per second ÷ the echo bot's. SQLite × 1 process, PostgreSQL × 1 and × 3.
2. Head of line: one resident's /my while 50 others file reports step by step, ÷ the same
   /my when the bot is idle (p50), on SQLite × 1 and PostgreSQL × 3.
3. Leader failover: two processes; the leader is SIGKILLed; time until another holds the
   lease, and until a /my sent at the kill is answered (the poll resumed).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    REPO,
    SAMPLE_YAML,
    TOKEN,
    ReplyProbe,
    Report,
    hard_deadline,
    ms,
    parse_args,
    percentile,
    progress,
    quiet_logs,
    start_echo_bot,
    stop_echo_bot,
)

sys.path.insert(0, str(REPO))

from tests.postgres_cluster import Cluster
from tests.reliability.test_crash import _report

REPLY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Plan:
    residents: int
    rounds: int
    burst: int
    probes: int

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        return cls(residents=20, rounds=3, burst=20, probes=8) if quick else cls(50, 8, 50, 20)


@dataclass
class Setup:
    name: str
    url: str | None  # None: SQLite in the data dir
    processes: int


# --------------------------------------------------------------------------- the bots


async def seed(data_dir: Path, url: str | None, residents: int) -> tuple[list[int], list[str]]:
    """The sample community, its cadres, and residents at home; their Telegram ids."""
    from bot.clock import Clock
    from bot.config import Settings
    from bot.importer import load_plan
    from bot.services.container import Services
    from storage.database import open_database

    settings = Settings(token=TOKEN, data_dir=data_dir, database_url=url)
    db = open_database(url, settings.database_path)
    await db.connect()
    services = Services.build(settings, db, Clock())
    try:
        summary = await services.communities.apply_plan(load_plan(SAMPLE_YAML))
        cadres = []
        for i, (_zone, name, code) in enumerate(summary.cadre_invites):
            _, person = await services.people.identify(5000 + i, name, "zh-hans", False)
            await services.invites.redeem(person, code)
            cadres.append(5000 + i)
        buildings = await services.people.buildings(summary.community.id)
        for i in range(residents):
            tid, name = 6000 + i, f"居民{i}"
            _, person = await services.people.identify(tid, name, "zh-hans", False)
            await services.people.choose_community(person, summary.community.id)
            _, person = await services.people.identify(tid, name, "zh-hans", False)
            await services.people.choose_building(person, buildings[i % len(buildings)][0].id)
        return cadres, [b.name for b, _ in buildings]
    finally:
        await db.close()


class Fleet:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self) -> asyncio.subprocess.Process:
        log = self.logs / f"bot-{len(self.processes)}.log"
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(REPO / "bench" / "_unpaced_bot.py"),
                env=self.env,
                stdout=out,
                stderr=out,
                cwd=str(REPO),
            )
        self.processes.append(process)
        return process

    async def stop(self) -> None:
        for p in self.processes:
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                await asyncio.wait_for(p.wait(), 30)
            except TimeoutError:
                p.kill()
                await p.wait()


@asynccontextmanager
async def bots(
    setup: Setup, residents: int, data_dir: Path
) -> AsyncIterator[tuple[Any, Fleet, list[Any], list[Any], list[str]]]:
    from bot.sandbox import FloodLimits, Sandbox

    data_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at set-up
    cadre_ids, buildings = await seed(data_dir, setup.url, residents + 1)
    sandbox = await Sandbox(TOKEN, "jiayuan_bot", limits=FloodLimits.off()).start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JIAYUAN_")},
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": sandbox.base_url,
        "JIAYUAN_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(REPO),
    }
    if setup.url:
        env["JIAYUAN_DATABASE_URL"] = setup.url
    fleet = Fleet(env, data_dir)
    try:
        cadres = [started(sandbox, f"干部{i}", cid) for i, cid in enumerate(cadre_ids)]
        users = [started(sandbox, f"居民{i}", 6000 + i) for i in range(residents + 1)]
        for _ in range(setup.processes):
            await fleet.start()
        yield sandbox, fleet, users, cadres, buildings
    finally:
        await fleet.stop()
        await sandbox.stop()


def started(sandbox: Any, name: str, user_id: int) -> Any:
    user = sandbox.add_user(name, user_id=user_id, language_code="zh-hans")
    user.record.started = True
    sandbox.world.private_chat(user.record)
    return user


# --------------------------------------------------------------------------- measures


async def closed_loop(
    probe: ReplyProbe, users: list[Any], rounds: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def one(user: Any) -> None:
        for _ in range(rounds):
            reply = probe.expect(user.id)
            began = time.perf_counter()
            await user.send("/my")
            seen, _ = await asyncio.wait_for(reply, REPLY_TIMEOUT_S)
            latencies.append(seen - began)

    began = time.perf_counter()
    await asyncio.gather(*(one(u) for u in users))
    return len(latencies) / (time.perf_counter() - began), latencies


async def warm_up(probe: ReplyProbe, users: list[Any]) -> None:
    await closed_loop(probe, users[:10], 1)


async def echo_throughput(plan: Plan) -> float:
    from bot.sandbox import FloodLimits, Sandbox

    sandbox = await Sandbox(TOKEN, "jiayuan_bot", limits=FloodLimits.off()).start()
    application = await start_echo_bot(sandbox)
    probe = ReplyProbe(sandbox)
    try:
        users = [sandbox.add_user(f"u{i}") for i in range(plan.residents)]
        await warm_up(probe, users)
        rate, _ = await closed_loop(probe, users, plan.rounds)
        return rate
    finally:
        probe.close()
        await stop_echo_bot(application)
        await sandbox.stop()


async def throughput(setup: Setup, plan: Plan, root: Path) -> float:
    async with bots(setup, plan.residents, root / f"tp-{setup.name}") as (
        sandbox,
        _,
        users,
        _c,
        _b,
    ):
        probe = ReplyProbe(sandbox)
        try:
            await warm_up(probe, users)
            rate, _ = await closed_loop(probe, users[: plan.residents], plan.rounds)
        finally:
            probe.close()
        return rate


async def my_latency(probe: ReplyProbe, user: Any, samples: int, pause_s: float) -> list[float]:
    found = []
    for _ in range(samples):
        reply = probe.expect(user.id)
        began = time.perf_counter()
        await user.send("/my")
        seen, _ = await asyncio.wait_for(reply, REPLY_TIMEOUT_S)
        found.append(seen - began)
        await asyncio.sleep(pause_s)
    return found


async def head_of_line(setup: Setup, plan: Plan, root: Path) -> tuple[float, float]:
    """(idle p50, during-burst p50) of one resident's /my, in seconds."""
    async with bots(setup, plan.burst, root / f"hol-{setup.name}") as (
        sandbox,
        _,
        users,
        _c,
        names,
    ):
        watcher, reporters = users[-1], users[: plan.burst]
        probe = ReplyProbe(sandbox)
        try:
            await warm_up(probe, users)
            idle = await my_latency(probe, watcher, plan.probes, 0.2)
            burst = [
                asyncio.create_task(_report(u, names[i % len(names)], sandbox))
                for i, u in enumerate(reporters)
            ]
            await asyncio.sleep(0.5)
            during = await my_latency(probe, watcher, plan.probes, 0.2)
            await asyncio.wait_for(asyncio.gather(*burst), 600)
        finally:
            probe.close()
        return percentile(idle, 50), percentile(during, 50)


async def failover(url: str, root: Path) -> tuple[float, float]:
    """(seconds to a new leader, seconds to an answer) after the leader's SIGKILL."""
    import psycopg

    setup = Setup("failover", url, 2)
    async with bots(setup, 2, root / "failover") as (sandbox, fleet, users, _c, _b):

        def leader() -> tuple[str, int] | None:
            with psycopg.connect(url) as conn:
                row = conn.execute(
                    "SELECT holder FROM leases WHERE name = %s",
                    (f"{TOKEN.split(':')[0]}/leader",),  # each bot has its own leader
                ).fetchone()
            return (row[0], int(str(row[0]).split(":")[1])) if row else None

        probe = ReplyProbe(sandbox)
        try:
            await warm_up(probe, users)
            held = leader()
            assert held is not None
            victim = next(p for p in fleet.processes if p.pid == held[1])
            reply = probe.expect(users[0].id)
            victim.send_signal(signal.SIGKILL)
            killed = time.perf_counter()
            await victim.wait()
            await users[0].send("/my")
            new_leader_at = None
            while new_leader_at is None or not reply.done():
                now_held = leader()
                if new_leader_at is None and now_held and now_held[0] != held[0]:
                    new_leader_at = time.perf_counter()
                if time.perf_counter() - killed > 180:
                    raise TimeoutError("no failover within 180 s")
                await asyncio.sleep(0.1)
            answered, _ = reply.result()
        finally:
            probe.close()
        return new_leader_at - killed, answered - killed


# --------------------------------------------------------------------------- main


async def main() -> None:
    args = parse_args(__doc__ or "")
    plan = Plan.for_mode(args.quick)
    hard_deadline(1500 if args.quick else 3600, "bench_processes")
    quiet_logs()
    report = Report("bench_processes.py", args.quick, "Processes")
    cluster = Cluster().start()
    try:
        with tempfile.TemporaryDirectory(prefix="jiayuan-bench-") as tmp:
            root = Path(tmp)
            progress("echo bot")
            echo = await echo_throughput(plan)
            setups = [
                Setup("SQLite × 1", None, 1),
                Setup("PostgreSQL × 1", cluster.create_database("tp1"), 1),
                Setup("PostgreSQL × 3", cluster.create_database("tp3"), 3),
            ]
            rates = {}
            for setup in setups:
                progress(f"throughput {setup.name}")
                rates[setup.name] = await throughput(setup, plan, root)
            rows = [("echo (baseline)", 1, f"{echo:.1f}", "1.00×")]
            for setup in setups:
                rate = rates[setup.name]
                rows.append((setup.name, setup.processes, f"{rate:.1f}", f"{rate / echo:.2f}×"))
            report.add(
                f"**Own-cost throughput** (/my, {plan.residents} residents in a closed loop, "
                f"{plan.rounds} rounds each, sending budget lifted)"
            )
            report.table(["bot", "processes", "replies/s", "÷ echo"], rows)
            scale = rates["PostgreSQL × 3"] / rates["PostgreSQL × 1"]
            report.verdict(
                "3 processes ≥ 2.4× one (PostgreSQL)",
                scale >= 2.4,
                f"{scale:.2f}× on {os.cpu_count()} cores, shared with the simulator and "
                "the database server",
            )
            hol_setups = [
                Setup("SQLite × 1", None, 1),
                Setup("PostgreSQL × 3", cluster.create_database("hol3"), 3),
            ]
            hol_rows = []
            for setup in hol_setups:
                progress(f"head of line {setup.name}")
                idle, during = await head_of_line(setup, plan, root)
                hol_rows.append((setup.name, ms(idle), ms(during), f"{during / idle:.2f}×"))
                report.data[f"hol {setup.name}"] = (idle, during)
            report.add(
                f"**Another resident's /my during a {plan.burst}-resident report burst** (p50 of "
                f"{plan.probes}) ÷ the same /my when idle"
            )
            report.table(["bot", "idle p50 ms", "during p50 ms", "÷ idle"], hol_rows)
            progress("failover")
            to_leader, to_answer = await failover(cluster.create_database("fo"), root)
            report.add("**Leader failover** (two processes on PostgreSQL, the leader SIGKILLed)")
            report.table(
                ["from the kill to", "seconds"],
                [
                    ("another process holds the lease", f"{to_leader:.1f}"),
                    ("a /my sent at the kill is answered (polling resumed)", f"{to_answer:.1f}"),
                ],
            )
            report.data.update({"echo": echo, "rates": rates, "failover": (to_leader, to_answer)})
    finally:
        cluster.stop()
    report.emit(args.json)


if __name__ == "__main__":
    asyncio.run(main())
