"""Shared pieces of the benchmark scripts: arguments, the machine, tables, percentiles,
a hard time limit, and the harness that runs the real bot (or a bare PTB echo bot)
against the Bot API simulator on 127.0.0.1.

Every figure the scripts report is a ratio against a baseline measured in the same
process and session: the machine is small and noisy, absolute numbers move between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import bot

REPO = Path(__file__).resolve().parent.parent
SAMPLE_YAML = Path(bot.__file__).parent / "examples" / "community.yaml"
TOKEN = "123456:BENCH-TOKEN"
ADMIN_ID = 9001
# Monday 2026-11-16 09:00 in Shanghai: a working day inside the official calendar's data.
T0 = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)

PACKAGES = (
    "python-telegram-bot",
    "aiosqlite",
    "pillow",
    "aiohttp",
    "httpx",
    "APScheduler",
    "aiolimiter",
    "chinesecalendar",
)


# --------------------------------------------------------------------------- arguments


def parse_args(
    description: str, argv: Sequence[str] | None = None, *, postgresql: bool = False
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast check")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    if postgresql:
        parser.add_argument(
            "--postgresql",
            action="store_true",
            help="also on a throwaway PostgreSQL server, side by side with SQLite",
        )
    return parser.parse_args(argv)


def command_line(script: str, quick: bool) -> str:
    return f"python bench/{script}" + (" --quick" if quick else "")


# --------------------------------------------------------------------------- the machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "bot", "handlers", "storage"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if commit and dirty:
            commit += " + uncommitted changes"
    except OSError:
        commit = ""
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": f"{platform.system()} {platform.release()}",
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "commit": commit or "?",
    }


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    value = seconds * 1000.0
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio(value: float, base: float) -> str:
    if base <= 0 or math.isnan(value) or math.isnan(base):
        return "-"
    return f"{value / base:.2f}×"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- output


@dataclass
class Report:
    """What a script prints (markdown) and, with --json, writes (raw numbers)."""

    script: str
    quick: bool
    title: str
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        self.lines.append(md_table(headers, rows))
        self.lines.append("")

    def verdict(self, goal: str, met: bool, detail: str) -> None:
        mark = "**met**" if met else "**not met**"
        self.lines.append(f"- {goal}: {mark} — {detail}")
        self.data.setdefault("verdicts", []).append({"goal": goal, "met": met, "detail": detail})

    def emit(self, json_path: Path | None) -> None:
        elapsed = time.monotonic() - self.started
        load = os.getloadavg()[0]
        head = [
            f"_Run {now_stamp()} · `{command_line(self.script, self.quick)}` · "
            f"{'quick' if self.quick else 'full'} mode · took {elapsed:.0f} s · "
            f"git {machine_info()['commit']} · load average {load:.1f} at the end_",
            "",
        ]
        print("\n".join(head + self.lines).rstrip() + "\n", flush=True)
        if json_path is not None:
            payload = {
                "script": self.script,
                "quick": self.quick,
                "date": now_stamp(),
                "elapsed_s": round(elapsed, 1),
                "machine": machine_info(),
                **self.data,
            }
            json_path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout stays the markdown result."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def hard_deadline(seconds: float, what: str) -> None:
    """Stop the whole process if a benchmark overruns (it must always end by itself)."""

    def expire(_signum: int, _frame: object) -> None:
        print(f"{what}: hard time limit of {seconds:.0f} s reached; aborting", file=sys.stderr)
        os._exit(3)

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(max(1, int(seconds)))


def quiet_logs() -> None:
    """The bot's INFO lines are per event, not per update; keep stderr for progress."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("httpx", "apscheduler", "telegram", "aiohttp"):
        logging.getLogger(name).setLevel(logging.WARNING)


# --------------------------------------------------------------------------- reply probe


class ReplyProbe:
    """Times from an injected update to the bot's first matching message, per chat.

    ``expect`` registers a predicate for a chat before the user acts; the sandbox
    listener (called synchronously when the bot's request reaches the simulator)
    stamps time.perf_counter() and resolves the future.
    """

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self._waiting: dict[int, tuple[Callable[[Any], bool], asyncio.Future[tuple[float, Any]]]]
        self._waiting = {}
        sandbox.add_listener(self._on_event)

    def close(self) -> None:
        self.sandbox.remove_listener(self._on_event)

    def expect(
        self, chat_id: int, predicate: Callable[[Any], bool] | None = None
    ) -> asyncio.Future[tuple[float, Any]]:
        future: asyncio.Future[tuple[float, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[chat_id] = (predicate or _first_sent, future)
        return future

    def _on_event(self, event: Any) -> None:
        waiting = self._waiting.get(event.chat_id)
        if waiting is None:
            return
        predicate, future = waiting
        if not future.done() and predicate(event):
            del self._waiting[event.chat_id]
            future.set_result((time.perf_counter(), event.message))


def _first_sent(event: Any) -> bool:
    return bool(event.kind == "sent")


# --------------------------------------------------------------------------- the bots


async def start_echo_bot(sandbox: Any, rate_limiter: Any = None) -> Any:
    """A bare PTB application: /start and /my answered with a fixed text, stock Updater.

    ``rate_limiter``: none by default (the framework's floor); the product's own limiter
    to compare both under Telegram's sending limits.
    """
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

    async def answer(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("hello")

    builder = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(f"{sandbox.base_url}/bot")
        .base_file_url(f"{sandbox.base_url}/file/bot")
    )
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    application = builder.build()
    application.add_handler(CommandHandler(["start", "my"], answer))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    return application


async def stop_echo_bot(application: Any) -> None:
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


@dataclass
class Jiayuan:
    """The real bot on a temp data dir with the sample community and seeded residents."""

    runtime: Any
    community_id: int
    users: list[Any]

    @property
    def services(self) -> Any:
        return self.runtime.services


async def start_jiayuan(
    sandbox: Any,
    data_dir: Path,
    clock: Any,
    *,
    residents: int,
    outbox_limits: Any = None,
    polling: bool = True,
    link_cadres: bool = True,
) -> Jiayuan:
    from bot.app import start_bot
    from bot.config import Settings
    from bot.importer import load_plan

    settings = Settings(
        token=sandbox.token,
        api_url=sandbox.base_url,
        data_dir=data_dir,
        admins=frozenset({ADMIN_ID}),
    )
    runtime = await start_bot(
        settings, clock, poll_timeout=1, outbox_limits=outbox_limits, polling=polling
    )
    summary = await runtime.services.communities.apply_plan(load_plan(SAMPLE_YAML))
    community_id = summary.community.id
    users = await seed_residents(sandbox, runtime.services, community_id, residents)
    if link_cadres and polling:
        await sign_in_cadres(sandbox, summary.cadre_invites)
    return Jiayuan(runtime, community_id, users)


async def sign_in_cadres(sandbox: Any, invites: Iterable[tuple[str, str, str]]) -> None:
    """The imported cadres open their invite links, as they would at go-live, so new
    tickets reach them (a card and the notice, through the outbox)."""
    from bot.services.invites import INVITE_PREFIX

    for _zone, name, code in invites:
        cadre = sandbox.add_user(name, language_code="zh-hans")
        await cadre.send(f"/start {INVITE_PREFIX}{code}")
        await sandbox.wait_idle(timeout=30, quiet=0.2)


async def seed_residents(sandbox: Any, services: Any, community_id: int, count: int) -> list[Any]:
    """Residents who already chose the community and a building (through the services)."""
    buildings = await services.people.buildings(community_id)
    users = []
    for i in range(count):
        name = f"居民{i:04d}"
        user = sandbox.add_user(name, language_code="zh-hans")
        _, person = await services.people.identify(user.id, name, "zh-hans", False)
        await services.people.choose_community(person, community_id)
        _, person = await services.people.identify(user.id, name, "zh-hans", False)
        building, _zone = buildings[i % len(buildings)]
        await services.people.choose_building(person, building.id)
        users.append(user)
    return users


def vm_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM (kB) from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(rest.split()[0])
    return found


# --------------------------------------------------------------------------- photos


def make_photo(
    width: int, height: int, *, orientation: int | None = None, quality: int = 90, seed: int = 0
) -> bytes:
    """A camera-like JPEG: smooth gradients plus sensor-like noise (so it does not compress
    to nothing), optionally with an EXIF orientation tag (6 = rotate 90° clockwise)."""
    import io

    from PIL import Image

    gradient = Image.linear_gradient("L").resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 48 + seed)
    red = Image.blend(gradient, noise, 0.22)
    green = Image.blend(radial, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.22)
    blue = Image.blend(gradient.transpose(Image.Transpose.ROTATE_180), noise, 0.3)
    image = Image.merge("RGB", (red, green, blue))
    buffer = io.BytesIO()
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x010F] = "BenchCam"  # Make: metadata that sanitising must drop
        image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    else:
        image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
