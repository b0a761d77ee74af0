"""Scheduled work on PTB's JobQueue. Jobs derive what is due from the database, so a
job that was missed while the bot was down is caught up, not lost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram.ext import Application

from bot.services.container import Services
from storage.availability import unavailable

log = logging.getLogger(__name__)

KEEP_UPDATE_IDS = timedelta(days=7)
# Sent messages stay long enough to answer "did they get it?" about last month.
KEEP_SETTLED_MESSAGES = timedelta(days=45)
PRUNE_CHUNK = 5000


def schedule(
    application: Application[Any, Any, Any, Any, Any, Any],
    services: Services,
    leading: Callable[[], bool] = lambda: True,
) -> None:
    """The tick and housekeeping; they run in the process that leads (bot/leader.py)."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")

    async def housekeeping(_: object) -> None:
        if leading():
            await prune(services)

    async def tick(_: object) -> None:
        if not leading():
            return
        await adopt_unbound(services)
        await tick_all(services)
        heartbeat = application.bot_data.get("heartbeat")
        if heartbeat is not None:
            heartbeat.ticked()

    # Every minute, and once right at start so downtime is caught up at once.
    queue.run_repeating(tick, interval=60, first=1, name="tick")
    queue.run_repeating(housekeeping, interval=3600, first=60, name="housekeeping")


async def prune(services: Services) -> tuple[int, int]:
    """Forget processed update ids and handled inbox rows (Telegram keeps updates 24 h;
    we keep a week) and settled outbox messages; returns how many of each were deleted.

    The outbox is pruned in chunks, each its own short write transaction, so a first
    run on a large backlog does not hold the writer for long.
    """
    now = services.clock.now()
    async with services.db.transaction() as tx:
        update_ids = await tx.updates.prune_before(now - KEEP_UPDATE_IDS)
        # The inbox row of a handled update also keeps a re-delivery from being stored
        # again: kept as long as its processed key.
        await tx.inbox.prune_done(now - KEEP_UPDATE_IDS)
    messages = 0
    while True:
        async with services.db.transaction() as tx:
            deleted = await tx.outbox.prune_finished(now - KEEP_SETTLED_MESSAGES, PRUNE_CHUNK)
        messages += deleted
        if deleted < PRUNE_CHUNK:
            break
    if update_ids or messages:
        log.info("housekeeping pruned_update_ids=%s pruned_messages=%s", update_ids, messages)
    return update_ids, messages


async def adopt_unbound(services: Services) -> int:
    """A community a command-line task imported while the bot runs (unbound) is served
    from the next minute, not from the next restart."""
    db = services.db
    if db.bot_id is None:
        return 0
    try:
        async with db.read() as tx:
            if not await tx.bots.any_unbound():
                return 0
        async with db.transaction() as tx:
            adopted = await tx.bots.adopt(db.bot_id)
    except Exception as exc:
        log.warning("adopting unbound communities failed: %s", exc)
        return 0
    log.info("bot %s adopted communities=%s", db.bot_id, adopted.communities)
    return adopted.communities


async def tick_all(services: Services) -> int:
    """What is due now, from the database: reminders, escalations, the monthly rhythm."""
    fired = 0
    # Each part on its own: one failing must not hold the others back a minute.
    # The calendar goes first: new holiday data re-dates deadlines before they are read.
    parts = (
        services.calendar,
        services.deadlines,
        services.rhythm,
        services.review,
        services.ratings,
    )
    for part in parts:
        try:
            result = await part.tick()
        except Exception as exc:
            if unavailable(exc):  # waited out: the next tick catches up
                log.warning("tick part=%s waits for the database: %s", type(part).__name__, exc)
            else:
                log.exception("tick failed part=%s", type(part).__name__)
            continue
        fired += result if isinstance(result, int) else result.total
    return fired
