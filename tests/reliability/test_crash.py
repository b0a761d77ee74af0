"""SIGKILL the bot at random moments while 200 residents report at once.

The bot runs as its own process (`python -m bot run`) against the simulator in this
process; it is killed 20 times and restarted. Afterwards every report the bot
acknowledged is stored exactly once, and every acknowledged ticket reached its cadre.
Delivery is at least once: a kill between Telegram accepting a message and the outbox
recording it can repeat that one message, so repeats are bounded by the number of kills.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.importer import load_plan
from bot.sandbox import FloodLimits, Sandbox, SimUser
from tests.factories import SAMPLE_YAML, TOKEN, open_services
from tests.flows.reporting import has, with_button

# CI runs a smaller storm; `bench/soak_crash.py` runs the full 200 residents × 20 kills.
RESIDENTS = int(os.environ.get("JIAYUAN_CRASH_RESIDENTS", "40"))
KILLS = int(os.environ.get("JIAYUAN_CRASH_KILLS", "8"))
NUMBER = re.compile(r"\d{4}-\d{4}")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


async def _seed(data_dir: Path, residents: int = RESIDENTS) -> tuple[list[int], list[str]]:
    """The sample community, its three cadres signed in, and 200 residents at home."""
    services = await open_services(data_dir)
    summary = await services.communities.apply_plan(load_plan(SAMPLE_YAML))
    cadre_ids = []
    seen_zones: set[str] = set()
    for zone, name, code in summary.cadre_invites:
        if zone in seen_zones:
            continue  # deputies need not sign in here
        seen_zones.add(zone)
        telegram_id = 5000 + len(cadre_ids)
        _, person = await services.people.identify(telegram_id, name, "zh", False)
        await services.invites.redeem(person, code)
        cadre_ids.append(telegram_id)
    buildings = await services.people.buildings(summary.community.id)
    names = [b.name for b, _ in buildings]
    for i in range(residents):
        _, person = await services.people.identify(6000 + i, f"居民{i}", "zh", False)
        await services.people.choose_community(person, summary.community.id)
        _, person = await services.people.identify(6000 + i, f"居民{i}", "zh", False)
        await services.people.choose_building(person, buildings[i % len(buildings)][0].id)
    await services.db.close()
    return cadre_ids, names


async def _report(user: SimUser, building: str, sandbox: Sandbox) -> str:
    """A text-only report, step by step, waiting out the bot's deaths."""
    wait = 180.0
    await user.send("/report")
    nudge = await user.wait_for(with_button("不带照片继续"), timeout=wait)
    await user.press(nudge, "不带照片继续")
    await user.press(await user.wait_for(with_button("其他"), timeout=wait), "其他")
    await user.press(await user.wait_for(with_button(building), timeout=wait), building)
    await user.wait_for(has("一句话描述"), timeout=wait)
    await user.send(f"{user.first_name}的问题")
    step = await user.wait_for(
        lambda m: bool({"✅ 确认上报", "不是，继续新上报"} & set(m.button_texts)), timeout=wait
    )
    if "不是，继续新上报" in step.button_texts:
        # Neighbours in the same building report the same category: offered as duplicates.
        await user.press(step, "不是，继续新上报")
        step = await user.wait_for(with_button("✅ 确认上报"), timeout=wait)
    summary = step
    await user.press(summary, "✅ 确认上报")
    await sandbox.wait_until(lambda: "已受理" in (summary.text or ""), timeout=wait)
    match = NUMBER.search(summary.text or "")
    assert match, summary.text
    return match.group(0)


def ticket_cards(cadres: list[SimUser]) -> dict[str, int]:
    """How many new-ticket cards the cadres received, by ticket number."""
    cards: dict[str, int] = {}
    for cadre in cadres:
        for message in cadre.inbox:
            found = re.search(r"新工单 (\d{4}-\d{4})", message.text or "")
            if found:
                cards[found.group(1)] = cards.get(found.group(1), 0) + 1
    return cards


async def _start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdout=out, stderr=out
        )


def _pending_outbox(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(
            conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')"
            ).fetchone()[0]
        )


async def test_acknowledged_reports_survive_sigkill_exactly_once(tmp_path: Path) -> None:
    cadre_ids, building_names = await _seed(tmp_path)
    rng = random.Random(20261128)
    async with Sandbox(TOKEN, "jiayuan_bot", limits=FloodLimits.off()) as sandbox:
        cadres = [sandbox.add_user(f"干部{i}", user_id=cid) for i, cid in enumerate(cadre_ids)]
        residents = [sandbox.add_user(f"居民{i}", user_id=6000 + i) for i in range(RESIDENTS)]
        for user in (*cadres, *residents):
            user.record.started = True
            sandbox.world.private_chat(user.record)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("JIAYUAN_")},
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": sandbox.base_url,
            "JIAYUAN_DATA_DIR": str(tmp_path),
        }
        log = tmp_path / "bot.log"
        process = await _start_bot(env, log)
        scripts = [
            asyncio.create_task(_report(user, building_names[i % len(building_names)], sandbox))
            for i, user in enumerate(residents)
        ]
        kills = 0
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.4, 1.6))
            process.send_signal(signal.SIGKILL)
            await process.wait()
            kills += 1
            process = await _start_bot(env, log)
        numbers = await asyncio.wait_for(asyncio.gather(*scripts), timeout=300)
        # Let the outbox drain (Telegram allows about one message a second per chat, and
        # each cadre gets a card and a notice per ticket), then stop cleanly.
        for _ in range(4000):
            if _pending_outbox(tmp_path / "jiayuan.sqlite3") == 0:
                break
            await asyncio.sleep(0.1)
        await sandbox.wait_idle(timeout=30)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0

        assert len(set(numbers)) == RESIDENTS, "each acknowledgement names its own ticket"
        with sqlite3.connect(tmp_path / "jiayuan.sqlite3") as conn:
            stored = [r[0] for r in conn.execute("SELECT number FROM tickets")]
            per_reporter = conn.execute(
                "SELECT MAX(n) FROM "
                "(SELECT COUNT(*) AS n FROM tickets GROUP BY reporter_person_id)"
            ).fetchone()[0]
        assert sorted(stored) == sorted(numbers), "stored exactly once, nothing unacknowledged"
        assert per_reporter == 1

        cards = ticket_cards(cadres)
        with sqlite3.connect(tmp_path / "jiayuan.sqlite3") as conn:
            outbox = dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"))
        missing = set(numbers) - set(cards)
        assert not missing, f"cards missing for {sorted(missing)[:5]}…; outbox {outbox}"
        repeats = sum(n - 1 for n in cards.values())
        assert repeats <= kills, f"{repeats} repeated cards for {kills} kills"
        traceback = "Traceback" in log.read_text(encoding="utf-8", errors="replace")
        assert not traceback, "no unhandled exception in the bot's log"
