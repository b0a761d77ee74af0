"""Webhook delivery: the sandbox POSTs pending updates to the bot's URL as Telegram does."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict

from bot.sandbox import Sandbox, SimUser, WebhookTiming

SECRET = "s3cret_-Token"
# Short enough that a retry costs nothing, long enough that tests see the pending update.
FAST = WebhookTiming(timeout=2.0, retry_delay=0.02, max_retry_delay=0.1)


@dataclass
class Receiver:
    """A webhook endpoint the test scripts: what it answers, and whether it holds the reply."""

    url: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    answer: dict[str, Any] | None = None
    hold: asyncio.Event | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        assert request.content_type == "application/json"
        self.updates.append(await request.json())
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if self.hold is not None:
            await self.hold.wait()
        if self.answer is not None:
            return web.json_response(self.answer, status=self.status)
        return web.Response(status=self.status, headers=self.headers)

    @property
    def update_ids(self) -> list[int]:
        return [u["update_id"] for u in self.updates]

    @property
    def texts(self) -> list[str]:
        return [u["message"]["text"] for u in self.updates]


@pytest.fixture
async def receiver(sandbox: Sandbox) -> AsyncIterator[Receiver]:
    sandbox.webhook_timing = FAST
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    # The bot registers an https URL; the sandbox reaches loopback hosts over plain HTTP.
    receiver.url = f"https://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        await sandbox.stop()
        await runner.cleanup()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_updates_arrive_in_order_with_the_secret_header(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    assert await bot.set_webhook(receiver.url, secret_token=SECRET)
    for text in ("one", "two", "three"):
        await alice.send(text)
    await sandbox.wait_until(lambda: len(receiver.updates) == 3 and not sandbox.pending_updates)
    assert receiver.texts == ["one", "two", "three"]
    assert receiver.update_ids == sorted(receiver.update_ids)
    assert receiver.secrets == [SECRET] * 3
    info = await bot.get_webhook_info()
    assert info.url == receiver.url
    assert info.pending_update_count == 0
    assert info.last_error_message is None


async def test_no_secret_header_without_a_secret_token(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    await bot.set_webhook(receiver.url)
    await alice.send("hi")
    await sandbox.wait_until(lambda: not sandbox.pending_updates)
    assert receiver.secrets == [None]


async def test_allowed_updates_decide_what_is_delivered(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    await alice.send("/start")  # queued before the filter: delivered whatever its type
    await bot.set_webhook(receiver.url, allowed_updates=["callback_query"])
    await sandbox.wait_until(lambda: not sandbox.pending_updates)
    await alice.send("not wanted")
    yes = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    await bot.send_message(alice.id, "Pick", reply_markup=yes)
    await alice.press(await alice.next_message(), "Yes")
    await sandbox.wait_until(lambda: len(receiver.updates) == 2 and not sandbox.pending_updates)
    assert "message" in receiver.updates[0]
    assert receiver.updates[1]["callback_query"]["data"] == "yes"


async def test_a_failed_delivery_is_repeated_and_nothing_overtakes_it(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    receiver.status = 500
    await bot.set_webhook(receiver.url, secret_token=SECRET)
    await alice.send("first")
    await alice.send("second")
    await sandbox.wait_until(lambda: len(receiver.updates) >= 3)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 2
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None
    assert abs(info.last_error_date.timestamp() - time.time()) < 5
    assert set(receiver.texts) == {"first"}  # re-sent, and "second" waits behind it

    receiver.status = 200
    await sandbox.wait_until(lambda: not sandbox.pending_updates)
    first_id = receiver.update_ids[0]
    retries = receiver.update_ids.count(first_id)
    assert retries >= 3
    assert receiver.texts == ["first"] * retries + ["second"]
    attempts = [a for a in sandbox.webhook_attempts if a.update_id == first_id]
    assert [a.status for a in attempts] == [500] * (retries - 1) + [200]
    # The error stays visible after recovery, as at Telegram, until the next setWebhook.
    assert (await bot.get_webhook_info()).last_error_message is not None


async def test_retry_after_in_the_answer_sets_the_next_attempt(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    sandbox.webhook_timing = WebhookTiming(timeout=2.0, retry_delay=30.0, max_retry_delay=30.0)
    receiver.status, receiver.headers = 429, {"Retry-After": "0"}
    await bot.set_webhook(receiver.url)
    await alice.send("soon")
    await sandbox.wait_until(lambda: len(receiver.updates) >= 1)
    receiver.status, receiver.headers = 200, {}
    # Without Retry-After the next attempt would come 30 s later.
    await sandbox.wait_until(lambda: not sandbox.pending_updates, timeout=3)
    assert [a.status for a in sandbox.webhook_attempts] == [429, 200]


async def test_refused_connections_and_timeouts_are_reported(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    await bot.set_webhook(f"https://127.0.0.1:{_free_port()}/hook")
    await alice.send("anyone there?")
    await sandbox.wait_until(lambda: sandbox.webhook.get("last_error_message") is not None)
    assert (await bot.get_webhook_info()).last_error_message == "Connection refused"

    sandbox.webhook_timing = WebhookTiming(timeout=0.2, retry_delay=0.02, max_retry_delay=0.05)
    receiver.hold = asyncio.Event()
    await bot.set_webhook(receiver.url)
    assert (await bot.get_webhook_info()).last_error_message is None  # a new webhook starts clean
    await sandbox.wait_until(lambda: sandbox.webhook.get("last_error_message") is not None)
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Read timeout expired"
    assert info.pending_update_count == 1
    receiver.hold.set()
    await sandbox.wait_until(lambda: not sandbox.pending_updates)
    assert set(receiver.texts) == {"anyone there?"}


async def test_other_hosts_fail_as_unresolvable_without_a_lookup(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    await bot.set_webhook("https://example.org/hook")
    await alice.send("hello")
    await sandbox.wait_until(lambda: sandbox.webhook.get("last_error_message") is not None)
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Failed to resolve host: Name or service not known"
    assert info.pending_update_count == 1


async def test_get_updates_conflicts_while_a_webhook_is_set(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    receiver.status = 500
    await bot.set_webhook(receiver.url)
    await alice.send("stuck")
    with pytest.raises(Conflict) as conflict:
        await bot.get_updates()
    assert conflict.value.message == (
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first"
    )
    await sandbox.wait_until(lambda: len(receiver.updates) >= 1)

    assert await bot.delete_webhook()
    await alice.send("after")
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["stuck", "after"]
    await bot.get_updates(offset=updates[-1].update_id + 1)
    assert not sandbox.pending_updates
    assert "after" not in receiver.texts  # delivery stopped with the webhook
    assert (await bot.get_webhook_info()).url == ""


async def test_delete_webhook_can_drop_what_was_not_delivered(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    receiver.status = 503
    await bot.set_webhook(receiver.url)
    await alice.send("lost")
    await sandbox.wait_until(lambda: len(receiver.updates) >= 1)
    await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0
    assert await bot.get_updates() == ()


async def test_set_webhook_ends_a_waiting_long_poll(
    bot: Bot, sandbox: Sandbox, receiver: Receiver
) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=20, read_timeout=25))
    await sandbox.wait_until(lambda: sandbox.poll_count == 1)
    async with sandbox.bot() as other:
        await other.set_webhook(receiver.url)
    with pytest.raises(Conflict, match="terminated by setWebhook request"):
        await asyncio.wait_for(waiting, timeout=3)


async def test_a_method_in_the_answer_is_called(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, started_alice: SimUser
) -> None:
    receiver.answer = {"method": "sendMessage", "chat_id": started_alice.id, "text": "pong"}
    await bot.set_webhook(receiver.url)
    reply = await started_alice.next_message()
    assert reply.text == "pong"
    assert sandbox.requests[-1].method == "sendMessage"


async def test_secret_tokens_take_only_telegrams_characters(bot: Bot, sandbox: Sandbox) -> None:
    with pytest.raises(BadRequest):
        await bot.set_webhook("https://127.0.0.1:8443/hook", secret_token="not secret!")
    assert sandbox.requests[-1].description == (
        "Bad Request: secret token contains unallowed characters"
    )
    assert sandbox.webhook["url"] == ""


async def test_stop_ends_a_delivery_in_flight_and_keeps_the_update(
    bot: Bot, sandbox: Sandbox, receiver: Receiver, alice: SimUser
) -> None:
    receiver.hold = asyncio.Event()
    await bot.set_webhook(receiver.url)
    await alice.send("in flight")
    await sandbox.wait_until(lambda: len(receiver.updates) == 1)
    await asyncio.wait_for(sandbox.stop(), timeout=2)
    assert [u["message"]["text"] for u in sandbox.pending_updates] == ["in flight"]
