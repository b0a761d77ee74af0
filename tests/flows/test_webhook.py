"""Webhook mode end to end: the sandbox POSTs updates to bot/webhook.py, which answers 200
once the update is stored in the inbox, so a lost answer means a re-delivery, stored and
handled once."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Update
from telegram.ext import TypeHandler

from bot.app import Runtime, start_bot
from bot.clock import Clock
from bot.config import Settings
from bot.importer import load_plan
from bot.notify.pacing import Limits
from bot.sandbox import FloodLimits, Sandbox, SimUser, WebhookTiming
from bot.webhook import SECRET_HEADER, serve_webhook
from tests.factories import SAMPLE_YAML, T0, TOKEN
from tests.flows.conftest import settle


@dataclass
class WebhookHarness:
    sandbox: Sandbox
    runtime: Runtime
    runner: web.AppRunner
    port: int

    @property
    def local_url(self) -> str:
        """Where the bot listens (the sandbox reaches its https URL here)."""
        return f"http://127.0.0.1:{self.port}/telegram"

    @property
    def secret(self) -> str:
        """The secret_token the bot gave setWebhook, as Telegram would send it."""
        return str(self.sandbox.webhook["secret_token"])

    async def handled(self, update_id: int) -> bool:
        """Whether the update was handled, once the workers have nothing left."""
        await settle(self.sandbox, self.runtime)
        async with self.runtime.db.read() as tx:
            return await tx.updates.seen(update_id)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def hook(tmp_path: Path) -> AsyncIterator[WebhookHarness]:
    clock = Clock(T0)
    sandbox = Sandbox(
        TOKEN,
        "jiayuan_bot",
        clock=clock.now,
        limits=FloodLimits.off(),
        webhook_timing=WebhookTiming(timeout=5.0, retry_delay=0.05, max_retry_delay=0.2),
    )
    await sandbox.start()
    port = _free_port()
    settings = Settings(
        token=TOKEN,
        api_url=sandbox.base_url,
        data_dir=tmp_path,
        webhook_url=f"https://127.0.0.1:{port}/telegram",
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    runtime = await start_bot(
        settings, clock, polling=False, outbox_limits=Limits(per_chat_interval_s=0.0)
    )
    await runtime.services.communities.apply_plan(load_plan(SAMPLE_YAML))
    harness = WebhookHarness(sandbox, runtime, await serve_webhook(runtime), port)
    try:
        yield harness
    finally:
        await harness.runner.cleanup()
        await runtime.stop()
        await sandbox.stop()


async def _start(user: SimUser) -> str:
    """Send /start; return the welcome text once the community picker followed it."""
    await user.send("/start")
    return await _answers_to_start(user)


async def _answers_to_start(user: SimUser) -> str:
    welcome = await user.next_message()
    picker = await user.next_message()
    assert picker.button_texts == ["幸福里社区"]
    return welcome.text or ""


async def test_a_resident_is_answered_through_the_webhook(hook: WebhookHarness) -> None:
    sandbox = hook.sandbox
    user = sandbox.add_user("李明", language_code="zh-hans")
    assert "欢迎使用" in await _start(user)
    await user.press(user.inbox[-1], "幸福里社区")
    await user.wait_for(lambda m: "1号楼·东片区" in m.button_texts)
    await sandbox.wait_idle(timeout=10)

    assert sandbox.webhook["url"] == f"https://127.0.0.1:{hook.port}/telegram"
    attempts = sandbox.webhook_attempts
    assert len(attempts) == 2 and all(a.ok for a in attempts)  # the message, then the button
    assert all([await hook.handled(a.update_id) for a in attempts])
    assert not any(r.method == "getUpdates" for r in sandbox.requests)
    info = await hook.runtime.application.bot.get_webhook_info()
    assert info.pending_update_count == 0 and info.last_error_message is None


async def test_a_post_without_the_right_secret_is_refused_and_changes_nothing(
    hook: WebhookHarness,
) -> None:
    user = hook.sandbox.add_user("王芳", language_code="zh-hans")
    forged = {
        "update_id": 424242,
        "message": {
            "message_id": 1,
            "date": int(T0.timestamp()),
            "chat": {"id": user.id, "type": "private", "first_name": "王芳"},
            "from": {"id": user.id, "is_bot": False, "first_name": "王芳"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "guessed"}):
            async with http.post(hook.local_url, json=forged, headers=headers) as response:
                assert response.status == 403
    assert not await hook.handled(424242)
    async with hook.runtime.db.read() as tx:
        assert await tx.people.find_by_telegram(user.id) is None
    assert user.inbox == []
    assert not any(r.method == "sendMessage" for r in hook.sandbox.requests)


async def test_updates_wait_while_the_webhook_server_is_down(hook: WebhookHarness) -> None:
    sandbox = hook.sandbox
    await hook.runner.cleanup()
    user = sandbox.add_user("赵强", language_code="zh-hans")
    await user.send("/start")
    await sandbox.wait_until(lambda: len(sandbox.webhook_attempts) >= 2)
    assert {a.error for a in sandbox.webhook_attempts} == {"Connection refused"}
    info = await hook.runtime.application.bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == "Connection refused"
    assert user.inbox == []

    hook.runner = await serve_webhook(hook.runtime)  # back up: the update comes through
    assert "欢迎使用" in await _answers_to_start(user)
    await sandbox.wait_idle(timeout=10)
    assert len(user.inbox) == 2
    assert await hook.handled(sandbox.webhook_attempts[-1].update_id)


def hold_answers(hook: WebhookHarness) -> tuple[asyncio.Event, list[int]]:
    """After every handler has run and replied, hold each update's handling until the
    event is set; the list records the updates that got that far (handled, not skipped)."""
    release = asyncio.Event()
    gated: list[int] = []

    async def slow_finish(update: Update, _: Any) -> None:
        gated.append(update.update_id)
        await release.wait()

    hook.runtime.application.add_handler(TypeHandler(Update, slow_finish), group=99)
    return release, gated


async def test_an_answer_lost_before_the_update_was_stored_is_redelivered_and_handled_once(
    hook: WebhookHarness,
) -> None:
    sandbox = hook.sandbox
    sandbox.webhook_timing = WebhookTiming(timeout=0.3, retry_delay=0.05, max_retry_delay=0.2)
    user = sandbox.add_user("孙丽", language_code="zh-hans")
    # The database's writer is busy elsewhere: the webhook cannot store the update, so it
    # does not answer, and Telegram gives up waiting and delivers it again.
    async with hook.runtime.db.transaction():
        await user.send("/start")
        await sandbox.wait_until(lambda: len(sandbox.webhook_attempts) >= 2, timeout=5)
    assert "欢迎使用" in await _answers_to_start(user)
    await sandbox.wait_until(lambda: not sandbox.pending_updates, timeout=5)
    update_id = sandbox.webhook_attempts[0].update_id
    assert await hook.handled(update_id)
    assert {a.update_id for a in sandbox.webhook_attempts} == {update_id}
    assert sandbox.webhook_attempts[0].error == "Read timeout expired"
    assert sandbox.webhook_attempts[-1].ok
    assert len(user.inbox) == 2  # one welcome and one picker, not two of each


async def test_a_redelivery_while_the_first_is_still_being_handled_is_not_handled_again(
    hook: WebhookHarness,
) -> None:
    sandbox = hook.sandbox
    release, gated = hold_answers(hook)
    user = sandbox.add_user("周敏", language_code="zh-hans")
    message = await user.send("/start")
    await sandbox.wait_until(lambda: bool(gated), timeout=5)
    update_id = gated[0]
    # Telegram delivers it again (our first answer was lost on the way) while the first
    # delivery's handling is still running.
    headers = {SECRET_HEADER: hook.secret}
    body = {"update_id": update_id, "message": message}
    async with (
        aiohttp.ClientSession() as http,
        http.post(hook.local_url, json=body, headers=headers) as response,
    ):
        assert response.status == 200
    release.set()
    assert await hook.handled(update_id)
    assert gated == [update_id], f"handled {len(gated)} times"
    assert len(user.inbox) == 2  # one welcome and one picker, not two of each


@pytest.mark.parametrize(
    "body",
    [
        [{"update_id": 1}],
        7,
        "update",
        {"message": {"text": "/start"}},
        {"update_id": "77", "message": {"text": "/start"}},
        {"update_id": True},
    ],
    ids=["array", "number", "string", "no-update-id", "string-update-id", "bool-update-id"],
)
async def test_json_that_is_not_an_update_gets_400_and_the_server_keeps_serving(
    hook: WebhookHarness, body: object
) -> None:
    headers = {SECRET_HEADER: hook.secret}
    async with (
        aiohttp.ClientSession() as http,
        http.post(hook.local_url, json=body, headers=headers) as response,
    ):
        assert response.status == 400
    assert not await hook.handled(77)
    user = hook.sandbox.add_user("赵敏", language_code="zh-hans")
    assert "欢迎使用" in await _start(user)


async def test_an_update_that_cannot_be_parsed_is_acknowledged_and_the_next_one_answered(
    hook: WebhookHarness,
) -> None:
    first = hook.sandbox.add_user("钱进", language_code="zh-hans")
    assert "欢迎使用" in await _start(first)
    # A message without ``date``: PTB cannot build it. Telegram holds every later update
    # until this one gets a 2xx, so refusing it would make the bot deaf.
    bad = hook.sandbox.inject_raw_update(
        {"message": {"message_id": 9, "chat": {"id": first.id, "type": "private"}, "text": "x"}}
    )
    second = hook.sandbox.add_user("孙丽", language_code="zh-hans")
    assert "欢迎使用" in await _start(second)
    await hook.sandbox.wait_idle(timeout=10)
    attempts = [a for a in hook.sandbox.webhook_attempts if a.update_id == bad["update_id"]]
    assert attempts and attempts[-1].ok
    assert not await hook.handled(bad["update_id"])
