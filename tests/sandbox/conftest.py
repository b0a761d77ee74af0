"""Fixtures for the simulator's own tests: a running sandbox and a bare PTB Bot on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.sandbox import FloodLimits, Sandbox, SimUser


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A running sandbox without flood limits (flood tests build their own)."""
    async with Sandbox(limits=FloodLimits.off()) as running:
        yield running


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    """A bare telegram.Bot talking to the sandbox over HTTP."""
    async with sandbox.bot() as client:
        yield client


@pytest.fixture
def alice(sandbox: Sandbox) -> SimUser:
    """A resident who has not written to the bot yet."""
    return sandbox.add_user("Alice", username="alice", language_code="zh-hans")


@pytest.fixture
async def started_alice(alice: SimUser) -> SimUser:
    """Alice after sending /start, so her private chat exists."""
    await alice.send("/start")
    return alice


class FakeMonotonic:
    """A hand-moved clock for flood control, so limits are tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
