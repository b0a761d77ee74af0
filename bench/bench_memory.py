"""Resident memory of the bot process: idle, and after 2,000 updates from 500 users.

    python bench/bench_memory.py [--quick]

Each bot runs in a fresh subprocess (this same file with ``--child``) and reports its own
VmRSS and VmHWM from /proc/self/status when asked on stdin; the simulator, the scripted
users and the load stay in this parent process, so the figures are the bot's alone.

Jiayuan: ``start_bot`` on a data dir prepared here (the sample community and 500
residents who chose their building, through the services), as shipped. Baseline: a bare
PTB echo bot (ApplicationBuilder, a CommandHandler for /start and /my, stock polling).
Both get the same load: 500 users send /start then /my, twice (2,000 updates; --quick:
once, 1,000), with all 500 in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from _common import (
    ADMIN_ID,
    SAMPLE_YAML,
    T0,
    TOKEN,
    ReplyProbe,
    Report,
    hard_deadline,
    ms,
    percentile,
    progress,
    quiet_logs,
    seed_residents,
    start_echo_bot,
    stop_echo_bot,
    vm_status,
)

USERS = 500
GOAL_MB = 200


# --------------------------------------------------------------------------- the child


async def child(kind: str, api_url: str, data_dir: str) -> None:
    """Run a bot until told to quit; answer 'rss' and 'gc' with /proc/self/status."""
    quiet_logs()
    if kind == "jiayuan":
        from bot.app import start_bot
        from bot.clock import Clock
        from bot.config import Settings

        settings = Settings(
            token=TOKEN, api_url=api_url, data_dir=Path(data_dir), admins=frozenset({ADMIN_ID})
        )
        runtime = await start_bot(settings, Clock(T0), poll_timeout=1)

        async def stop() -> None:
            await runtime.stop()

    else:
        application = await start_echo_bot(SimpleNamespace(token=TOKEN, base_url=api_url))

        async def stop() -> None:
            await stop_echo_bot(application)

    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line in ("", "quit"):
            break
        if line == "gc":
            gc.collect()
        print(json.dumps(vm_status()), flush=True)
    await stop()


# --------------------------------------------------------------------------- the parent


class Child:
    def __init__(self, kind: str, api_url: str, data_dir: Path) -> None:
        script = Path(__file__).resolve()
        command = [sys.executable, str(script), "--child", kind]
        command += ["--api-url", api_url, "--data-dir", str(data_dir)]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=script.parent.parent,
        )

    async def line(self) -> str:
        assert self.proc.stdout is not None
        return (await asyncio.to_thread(self.proc.stdout.readline)).strip()

    async def ask(self, command: str = "rss") -> dict[str, int]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(await self.line())

    async def quit(self) -> None:
        if self.proc.stdin is not None and self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        try:
            await asyncio.to_thread(self.proc.wait, 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def prepare_data_dir(data_dir: Path, sandbox: Any) -> list[Any]:
    """The sample community and residents, written through the services (no bot)."""
    from bot.clock import Clock
    from bot.config import Settings
    from bot.importer import load_plan
    from bot.services.container import Services
    from storage.database import SqliteDatabase

    db = SqliteDatabase(data_dir / "jiayuan.sqlite3")
    await db.connect()
    settings = Settings(token=TOKEN, data_dir=data_dir, admins=frozenset({ADMIN_ID}))
    services = Services.build(settings, db, Clock(T0))
    try:
        summary = await services.communities.apply_plan(load_plan(SAMPLE_YAML))
        return await seed_residents(sandbox, services, summary.community.id, USERS)
    finally:
        await db.close()


async def load(sandbox: Any, users: list[Any], rounds: int) -> tuple[int, float, list[float]]:
    probe = ReplyProbe(sandbox)
    latencies: list[float] = []

    async def one(user: Any) -> None:
        for _ in range(rounds):
            for command in ("/start", "/my"):
                reply = probe.expect(user.id)
                began = time.perf_counter()
                await user.send(command)
                seen, _ = await asyncio.wait_for(reply, 180)
                latencies.append(seen - began)

    began = time.perf_counter()
    try:
        await asyncio.gather(*(one(u) for u in users))
    finally:
        probe.close()
    return len(latencies), time.perf_counter() - began, latencies


async def measure(kind: str, rounds: int) -> dict[str, Any]:
    from bot.sandbox import FloodLimits, Sandbox

    sandbox = Sandbox(TOKEN, "jiayuan_bot", limits=FloodLimits.off())
    await sandbox.start()
    try:
        with tempfile.TemporaryDirectory(prefix="jiayuan-bench-mem-") as tmp:
            data_dir = Path(tmp)
            if kind == "jiayuan":
                users = await prepare_data_dir(data_dir, sandbox)
            else:
                users = [
                    sandbox.add_user(f"居民{i:04d}", language_code="zh-hans") for i in range(USERS)
                ]
            child_proc = Child(kind, sandbox.base_url, data_dir)
            try:
                ready = await child_proc.line()
                if ready != "ready":
                    raise RuntimeError(f"{kind} child did not start: {ready!r}")
                await sandbox.wait_idle(timeout=30, quiet=1.0)
                await asyncio.sleep(2.0)  # start-up calls and the first tick
                idle = await child_proc.ask()
                progress(f"{kind}: idle {idle['VmRSS'] / 1024:.0f} MiB; load")
                count, seconds, latencies = await load(sandbox, users, rounds)
                await sandbox.wait_idle(timeout=60, quiet=1.0)
                after = await child_proc.ask()
                collected = await child_proc.ask("gc")
            finally:
                await child_proc.quit()
    finally:
        await sandbox.stop()
    progress(f"{kind}: after {count} updates {after['VmRSS'] / 1024:.0f} MiB")
    return {
        "idle": idle,
        "after": after,
        "after_gc": collected,
        "updates": count,
        "seconds": seconds,
        "p50": percentile(latencies, 50),
    }


async def parent(quick: bool, json_path: Path | None) -> None:
    quiet_logs()
    hard_deadline(300 if quick else 420, "bench_memory")
    rounds = 1 if quick else 2
    report = Report("bench_memory.py", quick, "Memory")
    echo = await measure("echo", rounds)
    jiayuan = await measure("jiayuan", rounds)

    def mib(kb: int) -> str:
        return f"{kb / 1024:.0f}"

    rows = []
    for label, key in (
        ("idle after start", "idle"),
        (f"after {jiayuan['updates']:,} updates", "after"),
        ("same, after gc.collect()", "after_gc"),
    ):
        rows.append(
            [
                label,
                mib(echo[key]["VmRSS"]),
                f"**{mib(jiayuan[key]['VmRSS'])}**",
                f"{jiayuan[key]['VmRSS'] / echo[key]['VmRSS']:.2f}×",
                f"+{mib(jiayuan[key]['VmRSS'] - echo[key]['VmRSS'])}",
            ]
        )
    rows.append(
        [
            "peak (VmHWM) over the run",
            mib(echo["after_gc"]["VmHWM"]),
            mib(jiayuan["after_gc"]["VmHWM"]),
            f"{jiayuan['after_gc']['VmHWM'] / echo['after_gc']['VmHWM']:.2f}×",
            f"+{mib(jiayuan['after_gc']['VmHWM'] - echo['after_gc']['VmHWM'])}",
        ]
    )
    report.add(
        f"Load: {USERS} users, /start then /my, {rounds}× each, all in flight "
        f"(echo took {echo['seconds']:.0f} s, p50 {ms(echo['p50'])} ms; Jiayuan "
        f"{jiayuan['seconds']:.0f} s, p50 {ms(jiayuan['p50'])} ms)."
    )
    report.add("")
    report.table(["RSS (MiB)", "echo bot", "Jiayuan", "÷ echo", "difference"], rows)
    worst = max(jiayuan[k]["VmRSS"] for k in ("idle", "after")) / 1024
    report.verdict(
        f"RSS ≤ {GOAL_MB} MB",
        worst <= GOAL_MB,
        f"{mib(jiayuan['idle']['VmRSS'])} MiB idle, {mib(jiayuan['after']['VmRSS'])} MiB after "
        f"load, peak {mib(jiayuan['after_gc']['VmHWM'])} MiB",
    )
    report.data["echo"] = echo
    report.data["jiayuan"] = jiayuan
    report.emit(json_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", choices=("jiayuan", "echo"))
    parser.add_argument("--api-url")
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child, args.api_url, args.data_dir))
    else:
        asyncio.run(parent(args.quick, args.json))


if __name__ == "__main__":
    main()
