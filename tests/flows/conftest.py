"""End-to-end harness: the real bot (PTB Application, our poller, inbox workers, outbox,
services) polls bot/sandbox over HTTP on 127.0.0.1; scripted people talk to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.app import Runtime, start_bot
from bot.clock import Clock
from bot.config import Settings
from bot.domain.models import Community, Role
from bot.importer import load_plan
from bot.notify.pacing import Limits
from bot.sandbox import FloodLimits, Sandbox, SentMessage, SimUser
from bot.services.container import Services
from bot.services.invites import INVITE_PREFIX
from bot.workers import LEASE_S
from tests import backend
from tests.factories import SAMPLE_YAML, T0, TOKEN

ADMIN_ID = 9001


async def settle(sandbox: Sandbox, runtime: Runtime, wait_s: float = 20.0) -> None:
    """Until the bot has handled every update (the inbox is empty, not only Telegram's
    queue: updates are confirmed once stored) and the outbox is drained."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while loop.time() < deadline:
        await sandbox.wait_idle(timeout=10)
        if await runtime.settled():
            await sandbox.wait_idle(timeout=10)
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the inbox or the outbox did not drain")


@dataclass
class Harness:
    sandbox: Sandbox
    runtime: Runtime
    clock: Clock
    data_dir: Path
    community: Community
    cadre_invites: dict[str, tuple[str, str]]  # zone code -> (name, invite code)
    admin: SimUser
    people: dict[str, SimUser] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        return self.runtime.services

    async def settle(self, wait_s: float = 20.0) -> None:
        """Until the bot has handled every update and the outbox is drained."""
        await settle(self.sandbox, self.runtime, wait_s)

    async def edited(self, message: SentMessage, text: str, wait_s: float = 5.0) -> SentMessage:
        """Wait until the bot edits ``message`` to contain ``text``."""
        await self.sandbox.wait_until(lambda: text in (message.text or ""), timeout=wait_s)
        return message

    async def cadre(self, zone_code: str) -> SimUser:
        """The zone's imported cadre, signed in through their own invite link."""
        name, code = self.cadre_invites[zone_code]
        if name in self.people:
            return self.people[name]
        user = self.sandbox.add_user(name, language_code="zh-hans")
        await user.send(f"/start {INVITE_PREFIX}{code}")
        await user.wait_for(lambda m: "包片干部" in (m.text or ""))
        await self.settle()
        self.people[name] = user
        return user

    async def with_role(self, name: str, role: Role, language_code: str = "zh-hans") -> SimUser:
        """A new person given a role through an invite made by the admin."""
        actor, _ = await self.services.people.identify(ADMIN_ID, "admin", "zh-hans", True)
        invite, _ = await self.services.invites.create(actor, role)
        user = self.sandbox.add_user(name, language_code=language_code)
        await user.send(f"/start {INVITE_PREFIX}{invite.code}")
        await user.next_message()
        await self.settle()
        self.people[name] = user
        return user

    async def resident(
        self, name: str, building: str = "1号楼", language_code: str = "zh-hans"
    ) -> SimUser:
        """A resident who opened the bot and chose the harness's community and a building."""
        user = self.sandbox.add_user(name, language_code=language_code)
        await user.send("/start")
        name = self.community.name
        pick = await user.wait_for(lambda m: bool(m.buttons) and name in m.button_texts)
        await user.press(pick, name)
        buildings = await user.wait_for(
            lambda m: any(t.startswith(building) for t in m.button_texts)
        )
        label = next(t for t in buildings.button_texts if t.startswith(building))
        await user.press(buildings, label)
        await self.settle()
        await self.take_all(user)
        self.people[name] = user
        return user

    @staticmethod
    async def take_all(user: SimUser) -> list[SentMessage]:
        """Mark everything received so far as read (next_message starts after it)."""
        taken = []
        while True:
            try:
                taken.append(await user.next_message(timeout=0))
            except TimeoutError:
                return taken


@asynccontextmanager
async def running_harness(
    data_dir: Path,
    *,
    tick: bool = True,
    plan: Path = SAMPLE_YAML,
    admin_name: str = "刘主任",
    admin_language: str = "zh-hans",
    first_update_id: int = 1,
    inbox_lease_s: float = LEASE_S,
    token: str = TOKEN,
    first_user_id: int = 1001,
    **settings: Any,
) -> AsyncIterator[Harness]:
    """The bot on the simulator with the sample community imported and an admin signed in.

    ``tick=False`` pauses the minute tick, for tests that run it in step themselves;
    ``plan`` and the admin's name and language let a test run another community;
    ``first_update_id`` continues an earlier run's updates, as Telegram's ids only grow;
    ``settings`` are passed on to Settings (the web port, say); ``inbox_lease_s`` shortens
    how long a dead worker's update waits to be taken over; ``token`` and
    ``first_user_id`` make another bot of a city, with people of its own.
    """
    clock = Clock(T0)
    sandbox = Sandbox(
        token,
        "jiayuan_bot",
        clock=clock.now,
        limits=FloodLimits.off(),
        first_update_id=first_update_id,
        first_user_id=first_user_id,
    )
    await sandbox.start()
    settings = Settings(
        token=token,
        api_url=sandbox.base_url,
        data_dir=data_dir,
        admins=frozenset({ADMIN_ID}),
        **({"database_url": backend.database_url()} | settings),
    )
    runtime = await start_bot(
        settings,
        clock,
        poll_timeout=1,
        outbox_limits=Limits(per_chat_interval_s=0.0),
        inbox_lease_s=inbox_lease_s,
    )
    h: Harness | None = None
    try:
        if not tick:
            queue = runtime.application.job_queue
            assert queue is not None
            for job in queue.get_jobs_by_name("tick"):
                job.enabled = False
        services = runtime.services
        summary = await services.communities.apply_plan(load_plan(plan))
        admin = sandbox.add_user(admin_name, user_id=ADMIN_ID, language_code=admin_language)
        await admin.send("/start")
        await settle(sandbox, runtime)
        _, person = await services.people.identify(ADMIN_ID, admin_name, admin_language, True)
        await services.people.choose_community(person, summary.community.id)
        actor, person = await services.people.identify(ADMIN_ID, admin_name, admin_language, True)
        invite, _ = await services.invites.create(actor, Role.ADMIN)
        await services.invites.redeem(person, invite.code)
        h = Harness(
            sandbox=sandbox,
            runtime=runtime,
            clock=clock,
            data_dir=data_dir,
            community=summary.community,
            # The responsible cadre comes before deputies in the import's list.
            cadre_invites={z: (n, c) for z, n, c in reversed(summary.cadre_invites)},
            admin=admin,
        )
        # T0 is in November, so 2027's calendar is an estimate and the admins are told
        # once (bot/services/calendar_changes.py): let that happen before a test reads.
        await services.calendar.tick()
        await h.settle()
        await Harness.take_all(admin)
        yield h
    finally:
        # A test may have restarted the bot: stop the one running now as well.
        if h is not None and h.runtime is not runtime:
            await h.runtime.stop()
        await runtime.stop()
        await sandbox.stop()


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path) as h:
        yield h
