"""The replies' rate limiter: what it charges, what it lets through, how it retries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.notify.pacing import Limits, Pacer
from bot.notify.ratelimit import ALREADY_PACED, SharedRateLimiter

PRIVATE, GROUP = 501, -100123


class Api:
    """Stands in for the HTTP call PTB hands the limiter; counts calls, may refuse."""

    def __init__(self, refusals: int = 0) -> None:
        self.calls = 0
        self.refusals = refusals

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.refusals:
            self.refusals -= 1
            raise RetryAfter(0)
        return {"ok": True}


async def request(
    limiter: SharedRateLimiter,
    api: Api,
    endpoint: str,
    chat_id: int | None,
    rate_limit_args: dict[str, Any] | None = None,
) -> object:
    data = {} if chat_id is None else {"chat_id": chat_id}
    return await limiter.process_request(api, (), {}, endpoint, data, rate_limit_args)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_edits_chat_actions_and_answers_cost_nothing() -> None:
    pacer = Pacer(Limits(overall_per_s=2))
    limiter = SharedRateLimiter(pacer)
    api = Api()
    for endpoint in ("editMessageText", "sendChatAction", "answerCallbackQuery") * 5:
        await request(limiter, api, endpoint, PRIVATE)
    assert api.calls == 15
    now = asyncio.get_running_loop().time()
    assert pacer.ready_at(PRIVATE, now, per_chat=False) == now, "the budget is untouched"


async def test_messages_beyond_the_budget_wait_their_turn() -> None:
    pacer = Pacer(Limits(overall_per_s=2))
    limiter = SharedRateLimiter(pacer)
    api = Api()
    sends = [
        asyncio.create_task(request(limiter, api, "sendMessage", PRIVATE + i)) for i in range(3)
    ]
    await settle()
    assert api.calls == 2, "the third message waits for the next second"
    await asyncio.gather(*sends)
    assert api.calls == 3


async def test_the_outbox_budget_is_the_same_budget() -> None:
    pacer = Pacer(Limits(overall_per_s=2))
    loop = asyncio.get_running_loop()
    pacer.sent(PRIVATE + 1, loop.time())  # two notifications just went out
    pacer.sent(PRIVATE + 2, loop.time())
    api = Api()
    reply = asyncio.create_task(request(SharedRateLimiter(pacer), api, "sendMessage", PRIVATE))
    await settle()
    assert api.calls == 0
    await reply
    assert api.calls == 1


async def test_replies_in_a_private_chat_are_not_spaced_but_a_group_is() -> None:
    limiter = SharedRateLimiter(Pacer(Limits(per_chat_interval_s=1.0)))
    private, group = Api(), Api()
    await request(limiter, private, "sendMessage", PRIVATE)
    await request(limiter, private, "sendPhoto", PRIVATE)
    assert private.calls == 2
    await request(limiter, group, "sendMessage", GROUP)
    second = asyncio.create_task(request(limiter, group, "sendMessage", GROUP))
    await settle()
    assert group.calls == 1, "a group gets at most one a second"
    await second
    assert group.calls == 2


async def test_a_flood_wait_is_retried_then_given_up() -> None:
    limiter = SharedRateLimiter(Pacer(), max_retries=2)
    once = Api(refusals=1)
    assert await request(limiter, once, "sendMessage", PRIVATE) == {"ok": True}
    assert once.calls == 2
    always = Api(refusals=10)
    with pytest.raises(RetryAfter):
        await request(limiter, always, "sendMessage", PRIVATE)
    assert always.calls == 3


async def test_the_outbox_handles_its_own_flood_waits() -> None:
    pacer = Pacer(Limits(overall_per_s=1))
    limiter = SharedRateLimiter(pacer)
    api = Api(refusals=1)
    with pytest.raises(RetryAfter):
        await request(limiter, api, "sendMessage", PRIVATE, ALREADY_PACED)
    assert api.calls == 1
    now = asyncio.get_running_loop().time()
    assert pacer.ready_at(PRIVATE + 1, now) == now, "the outbox charges the pacer itself"
