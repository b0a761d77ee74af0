"""Flood control (429 with retry_after) and injected failures (5xx, timeouts)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.sandbox import FloodLimits, Sandbox, SimUser
from tests.sandbox.conftest import FakeMonotonic

# PTB 22 warns when RetryAfter is built that retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def limited() -> AsyncIterator[Sandbox]:
    """A sandbox with Telegram's default limits and a hand-moved flood clock."""
    sandbox = Sandbox()
    sandbox.flood.now = FakeMonotonic()
    async with sandbox:
        yield sandbox


class TestFloodControl:
    async def test_a_burst_to_one_chat_gets_429_with_retry_after(self, limited: Sandbox) -> None:
        alice = limited.add_user("Alice")
        await alice.send("/start")
        async with limited.bot() as bot:
            for n in range(limited.limits.chat_burst):
                await bot.send_message(alice.id, f"#{n}")
            with pytest.raises(RetryAfter):
                await bot.send_message(alice.id, "one too many")
            assert limited.requests[-1].description == "Too Many Requests: retry after 1"
            clock = limited.flood.now
            assert isinstance(clock, FakeMonotonic)
            clock.advance(1)
            await bot.send_message(alice.id, "after waiting")
        assert limited.stats.too_many_requests == 1
        assert limited.stats.count("sendMessage", 429) == 1
        assert len(alice.inbox) == limited.limits.chat_burst + 1

    async def test_a_group_takes_20_messages_per_minute(self, limited: Sandbox) -> None:
        alice = limited.add_user("Alice")
        group = limited.add_group("群", members={alice: "creator"})
        clock = limited.flood.now
        assert isinstance(clock, FakeMonotonic)
        async with limited.bot() as bot:
            for n in range(20):
                await bot.send_message(group.id, f"#{n}")
                clock.advance(0.5)  # well under the private-chat pace, still too fast
            with pytest.raises(RetryAfter):
                await bot.send_message(group.id, "21st")
            # The first message leaves the 60 s window 50 s from now.
            assert limited.requests[-1].description == "Too Many Requests: retry after 50"
            clock.advance(50)
            await bot.send_message(group.id, "later")

    async def test_the_overall_limit_spans_chats(self) -> None:
        limits = FloodLimits(global_per_second=30, global_burst=3)
        async with Sandbox(limits=limits) as sandbox, sandbox.bot() as bot:
            sandbox.flood.now = FakeMonotonic()
            people = [sandbox.add_user(f"U{n}") for n in range(4)]
            for person in people:
                await person.send("/start")
            for person in people[:3]:
                await bot.send_message(person.id, "hi")
            with pytest.raises(RetryAfter):
                await bot.send_message(people[3].id, "hi")

    async def test_limits_can_be_switched_off(self, limited: Sandbox) -> None:
        limited.limits = FloodLimits.off()
        alice = limited.add_user("Alice")
        await alice.send("/start")
        async with limited.bot() as bot:
            for n in range(40):
                await bot.send_message(alice.id, f"#{n}")
        assert limited.stats.too_many_requests == 0


class TestFaults:
    async def test_5xx_then_success(
        self, bot: Bot, sandbox: Sandbox, started_alice: SimUser
    ) -> None:
        sandbox.faults.add(method="sendMessage", status=502, count=2)
        for _ in range(2):
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await bot.send_message(started_alice.id, "hi")
        await bot.send_message(started_alice.id, "hi")
        assert sandbox.stats.count("sendMessage", 502) == 2
        assert sandbox.stats.count("sendMessage", 200) == 1
        assert [m.text for m in started_alice.inbox] == ["hi"]  # failed calls did nothing

    async def test_a_fault_for_any_method_with_a_custom_description(
        self, bot: Bot, sandbox: Sandbox
    ) -> None:
        sandbox.faults.add(status=500, description="Internal Server Error: restart")
        with pytest.raises(NetworkError, match="restart"):
            await bot.get_me()
        assert sandbox.faults.pending == []
        await bot.get_me()

    async def test_an_injected_429_carries_retry_after(self, bot: Bot, sandbox: Sandbox) -> None:
        sandbox.faults.add(method="getMe", status=429, retry_after=7)
        with pytest.raises(RetryAfter):
            await bot.get_me()
        assert sandbox.requests[-1].status == 429

    async def test_a_timeout_after_the_message_was_delivered(
        self, bot: Bot, sandbox: Sandbox, started_alice: SimUser
    ) -> None:
        sandbox.faults.add(method="sendMessage", kind="timeout", delay=5)
        with pytest.raises(TimedOut):
            await bot.send_message(started_alice.id, "maybe", read_timeout=0.2)
        # The client gave up, but Telegram had delivered it: the ambiguous case.
        assert [m.text for m in started_alice.inbox] == ["maybe"]

    async def test_a_timeout_that_did_nothing(
        self, bot: Bot, sandbox: Sandbox, started_alice: SimUser
    ) -> None:
        sandbox.faults.add(method="sendMessage", kind="timeout", delay=5, processed=False)
        with pytest.raises(TimedOut):
            await bot.send_message(started_alice.id, "lost", read_timeout=0.2)
        assert started_alice.inbox == []
