"""A change signal: lets coroutines wait until some state predicate becomes true.

State in the simulator changes synchronously (a request handler or a scripted user action
runs to completion without awaiting), so notifying is a plain call; waiters re-check their
predicate after each change instead of trusting what changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

_RECHECK_SECONDS = 0.05


class ChangeSignal:
    """A version counter plus an event that fires on every bump."""

    def __init__(self) -> None:
        self.version = 0
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Record a change and wake everyone waiting."""
        self.version += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - a bound, not a cancel scope
        """Wait for the next change; return False if ``timeout`` seconds passed first."""
        event = self._event
        try:
            # Not wait_for: on 3.11 it swallows a cancel that lands as the event fires.
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109 - the predicate is re-checked, not cancelled
    ) -> bool:
        """Wait until ``predicate()`` holds; return its final value after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return predicate()
            # Re-check now and then too: a predicate may read state that never notifies.
            await self.wait(min(remaining, _RECHECK_SECONDS))
        return True
