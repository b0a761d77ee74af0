"""Scheduled work on PTB's JobQueue. Jobs derive what is due from the database, so a
job that was missed while the bot was down is caught up, not lost."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram.ext import Application

from bot.services.container import Services

log = logging.getLogger(__name__)

KEEP_UPDATE_IDS = timedelta(days=7)


def schedule(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")

    async def housekeeping(_: object) -> None:
        """Forget processed update ids older than Telegram keeps updates (24 h) by far."""
        async with services.db.transaction() as tx:
            pruned = await tx.updates.prune_before(services.clock.now() - KEEP_UPDATE_IDS)
        if pruned:
            log.info("housekeeping pruned_update_ids=%s", pruned)

    async def tick(_: object) -> None:
        await tick_all(services)

    # Every minute, and once right at start so downtime is caught up at once.
    queue.run_repeating(tick, interval=60, first=1, name="tick")
    queue.run_repeating(housekeeping, interval=3600, first=60, name="housekeeping")


async def tick_all(services: Services) -> int:
    """What is due now, from the database: reminders, escalations, the monthly rhythm."""
    fired = 0
    # Each part on its own: one failing must not hold the others back a minute.
    for part in (services.deadlines, services.rhythm, services.review, services.ratings):
        try:
            result = await part.tick()
        except Exception:
            log.exception("tick failed part=%s", type(part).__name__)
            continue
        fired += result if isinstance(result, int) else result.total
    return fired
