"""Never silently deaf, always stoppable: an update the Bot API library cannot parse
does not stop the bot reading, SIGTERM still stops it, and `jiayuan health` says when it
is alive. The bot runs as its own process (`python -m bot run`), as in production."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.app import start_bot
from bot.clock import Clock
from bot.config import Settings
from bot.health import HEARTBEAT_FILE, check
from bot.importer import load_plan
from bot.notify.pacing import Limits
from bot.sandbox import FloodLimits, Sandbox, SimUser
from tests.factories import SAMPLE_YAML, T0, TOKEN, open_services

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGTERM")


async def _seed(data_dir: Path) -> None:
    services = await open_services(data_dir)
    await services.communities.apply_plan(load_plan(SAMPLE_YAML))
    await services.db.close()


def _health(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _welcomed(user: SimUser) -> bool:
    return any("欢迎使用" in (m.text or "") for m in user.inbox)


async def test_a_bad_update_between_two_good_ones_then_sigterm(tmp_path: Path) -> None:
    await _seed(tmp_path)
    async with Sandbox(TOKEN, "jiayuan_bot", limits=FloodLimits.off()) as sandbox:
        ops = sandbox.add_user("值班", user_id=4242)
        ops.record.started = True
        sandbox.world.private_chat(ops.record)
        first = sandbox.add_user("李明", language_code="zh-hans")
        second = sandbox.add_user("王芳", language_code="zh-hans")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("JIAYUAN_")},
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": sandbox.base_url,
            "JIAYUAN_DATA_DIR": str(tmp_path),
            "JIAYUAN_OPS_CHAT_ID": str(ops.id),
        }
        log = tmp_path / "bot.log"
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, stdout=out, stderr=out
            )
        try:
            await first.send("/start")
            # What a broken Bot API server could send: a message without ``date``, a
            # field of the wrong type, and no integer update_id at all.
            no_date = sandbox.inject_raw_update(
                {"message": {"message_id": 7, "chat": {"id": first.id, "type": "private"}}}
            )
            wrong_type = sandbox.inject_raw_update(
                {"message": {"message_id": 8, "date": 1, "chat": "private", "text": "hi"}}
            )
            sandbox.inject_raw_update({"update_id": "next"})
            await second.send("/start")
            await sandbox.wait_until(lambda: _welcomed(first) and _welcomed(second), timeout=60)
            await sandbox.wait_until(lambda: len(ops.inbox) >= 3, timeout=30)
            notes = [m.text or "" for m in ops.inbox]
            assert any(f"update_id={no_date['update_id']} set aside" in n for n in notes)
            assert any(f"update_id={wrong_type['update_id']} set aside" in n for n in notes)
            await sandbox.wait_idle(timeout=30)
            assert sandbox.pending_updates == []

            healthy = _health(env)
            assert healthy.returncode == 0, healthy.stderr

            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=10) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        stopped = _health(env)
        assert stopped.returncode == 1 and "not running" in stopped.stderr
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "bot stopped" in text


async def test_the_command_menu_is_set_later_when_telegram_refuses_it_at_start(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with Sandbox(TOKEN, "jiayuan_bot", clock=clock.now, limits=FloodLimits.off()) as sb:
        sb.faults.add("setMyCommands", status=500, count=2)
        settings = Settings(token=TOKEN, api_url=sb.base_url, data_dir=tmp_path)
        runtime = await start_bot(
            settings,
            clock,
            poll_timeout=1,
            outbox_limits=Limits(per_chat_interval_s=0.0),
            commands_retry_s=0.05,
        )
        try:
            await runtime.services.communities.apply_plan(load_plan(SAMPLE_YAML))
            user = sb.add_user("李明", language_code="zh-hans")
            await user.send("/start")
            await sb.wait_until(lambda: _welcomed(user), timeout=10)
            await sb.wait_until(lambda: bool(sb.commands()), timeout=10)
            assert any(c["command"] == "report" for c in sb.commands())
        finally:
            await runtime.stop()


def _write_heartbeat(data_dir: Path, polling: bool, fetched: float, ticked: float) -> None:
    now = time.time()
    (data_dir / HEARTBEAT_FILE).write_text(
        f'{{"pid": 1, "polling": {str(polling).lower()}, '
        f'"fetched_at": {now - fetched}, "ticked_at": {now - ticked}}}',
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("polling", "fetched_ago", "ticked_ago", "healthy", "why"),
    [
        (True, 5, 30, True, "ok"),
        (True, 400, 30, False, "update fetch"),
        (True, 5, 400, False, "tick"),
        (False, 400, 30, True, "ok"),  # a webhook bot fetches nothing
        (False, 5, 400, False, "tick"),
    ],
)
def test_health_fails_when_fetching_or_ticking_stalls(
    tmp_path: Path,
    polling: bool,
    fetched_ago: float,
    ticked_ago: float,
    healthy: bool,
    why: str,
) -> None:
    _write_heartbeat(tmp_path, polling, fetched_ago, ticked_ago)
    ok, reason = check(tmp_path)
    assert ok is healthy and why in reason


def test_health_without_a_running_bot_or_with_a_garbled_file(tmp_path: Path) -> None:
    assert check(tmp_path) == (
        False,
        f"no heartbeat at {tmp_path / HEARTBEAT_FILE}: the bot is not running",
    )
    (tmp_path / HEARTBEAT_FILE).write_text("{not json", encoding="utf-8")
    ok, reason = check(tmp_path)
    assert not ok and "unreadable" in reason
