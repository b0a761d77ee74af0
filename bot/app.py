"""The composition root: settings → database → services → handlers → inbox workers,
outbox, and the leader's poller and jobs.

This is the only module that imports ``handlers``; nothing heavy happens at import time.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot import jobs
from bot.clock import Clock
from bot.config import Settings
from bot.domain.models import Language
from bot.health import Heartbeat
from bot.i18n import t
from bot.leader import Leader
from bot.notify.budget import Budget, MemoryBudget, SharedBudget
from bot.notify.pacing import Limits, Pacer
from bot.notify.ratelimit import SharedRateLimiter
from bot.notify.sender import OutboxSender
from bot.polling import Poller
from bot.services import reach
from bot.services.container import Services
from bot.workers import LEASE_S, Workers, process_name
from handlers import (
    admin,
    common,
    console,
    errors,
    export,
    gatekeeper,
    groups,
    inbox,
    inspect,
    leader,
    open311,
    ratings,
    report,
    tickets,
    volunteer,
)
from handlers.base import Ctx
from storage.database import Database, open_database

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = (
    "start",
    "report",
    "my",
    "tickets",
    "activities",
    "volunteer",
    "inspect",
    "digest",
    "help",
    "language",
    "cancel",
)
GROUP_COMMANDS = ("report", "bind", "help")


def build_application(
    settings: Settings,
    services: Services,
    pacer: Pacer | None = None,
    budget: Budget | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application with every handler, in the groups STYLE.md describes.

    ``pacer``: the outbox's, so that replies and notifications share Telegram's budget.
    """
    application = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, do_quote=False))
        .context_types(ContextTypes(context=Ctx))
        # Replies draw on the outbox's pacer; the outbox's own sends pass it by.
        .rate_limiter(SharedRateLimiter(pacer or Pacer(), budget=budget))
        # No Updater: our Poller confirms offsets only once the updates are stored.
        .updater(None)
        .concurrent_updates(False)
        .build()
    )
    application.bot_data["services"] = services
    # -1: gatekeepers — who is acting; edits and other bots stop here.
    application.add_handlers(gatekeeper.handlers(), group=-1)
    # 0: features, then the catch-alls for stale buttons and unknown commands.
    application.add_handlers(report.handlers(), group=0)
    application.add_handlers(tickets.handlers(), group=0)
    application.add_handlers(volunteer.handlers(), group=0)
    application.add_handlers(inspect.handlers(), group=0)
    application.add_handlers(leader.handlers(), group=0)
    application.add_handlers(ratings.handlers(), group=0)
    application.add_handlers(export.handlers(), group=0)
    application.add_handlers(admin.handlers(), group=0)
    application.add_handlers(open311.handlers(), group=0)
    application.add_handlers(console.handlers(), group=0)
    application.add_handlers(groups.handlers(), group=0)
    application.add_handlers(common.handlers(), group=0)
    application.add_handlers(inbox.handlers(), group=0)
    application.add_handlers(common.fallbacks(), group=0)
    # 1: observers — membership changes and group migration, whatever else ran.
    application.add_handlers(groups.observers(), group=1)
    application.add_error_handler(errors.on_error)
    return application


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Telegram's command menu, per scope and language."""
    bot = application.bot
    for lang in Language:
        code = None if lang is Language.ZH else lang.value
        private = [BotCommand(c, t(lang, f"commands.{c}")) for c in PRIVATE_COMMANDS]
        group = [BotCommand(c, t(lang, f"commands.{c}")) for c in GROUP_COMMANDS]
        await bot.set_my_commands(private, language_code=code)
        await bot.set_my_commands(
            private, scope=BotCommandScopeAllPrivateChats(), language_code=code
        )
        await bot.set_my_commands(group, scope=BotCommandScopeAllGroupChats(), language_code=code)


@dataclass
class Runtime:
    """A running bot: stop() undoes start() in reverse order."""

    settings: Settings
    clock: Clock
    db: Database
    services: Services
    application: Application[Any, Any, Any, Any, Any, Any]
    poller: Poller | None
    sender: OutboxSender
    workers: Workers
    leader: Leader
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    heartbeat: Heartbeat | None = None
    background: list[asyncio.Task[None]] = field(default_factory=list)

    async def settled(self) -> bool:
        """Nothing left to do now: no update waiting or in hand, no message due or being
        sent (what the demo and the tests wait for)."""
        async with self.db.read() as tx:
            updates = await tx.inbox.unfinished()
            messages = await tx.outbox.unsettled(self.clock.now())
        if messages:
            self.services.outbox_ready.set()
        return updates == 0 and messages == 0

    async def stop(self) -> None:
        """Close every part, each within its own bound, even when one of them fails:
        a part left open (aiosqlite's thread above all) keeps the process alive."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        for task in self.background:
            task.cancel()
        steps: list[tuple[str, Callable[[], Awaitable[object]], float]] = []
        # The leader stops polling first (the batch in hand is stored), then the
        # workers finish what they hold or hand it back.
        steps.append(("leader", self.leader.stop, 2.0))
        steps.append(("inbox workers", self.workers.stop, 1.5))
        steps.append(("outbox sender", self.sender.stop, 1.5))
        if self.application.running:
            steps.append(("application", self.application.stop, 0.5))
        steps.append(("application shutdown", self.application.shutdown, 0.5))
        steps.append(("database", self.db.close, 1.0))
        for name, step, limit in steps:
            try:
                await asyncio.wait_for(step(), limit)
            except TimeoutError:
                log.error("stopping the %s took over %.0fs; moving on", name, limit)
            except Exception:
                log.exception("stopping the %s failed; moving on", name)
        if self.heartbeat is not None:
            self.heartbeat.stopped()
        log.info("bot stopped")


async def adopt_communities(db: Database) -> None:
    """Bind to this bot what no bot serves yet (storage/bots.py). A SQLite file has one
    bot, so it takes everything: a token for a new bot keeps the file's communities."""
    if db.bot_id is None:
        return
    async with db.transaction() as tx:
        adopted = await tx.bots.adopt(db.bot_id, everything=db.dialect == "sqlite")
        served = await tx.bots.served()
    if adopted.communities or adopted.rows:
        log.info(
            "bot %s adopted communities=%s rows=%s", db.bot_id, adopted.communities, adopted.rows
        )
    mine = [b for b in served if b.bot_id == db.bot_id]
    others = [b for b in served if b.bot_id != db.bot_id]
    if not mine and others:
        log.warning(
            "bot %s serves no community; the database's are served by bots %s"
            " (move one with: jiayuan bind CODE)",
            db.bot_id,
            ", ".join(str(b.bot_id) for b in others),
        )


async def keep_setting_commands(
    application: Application[Any, Any, Any, Any, Any, Any],
    first_delay: float = 30.0,
    max_delay: float = 3600.0,
) -> None:
    """Retry the command menu until Telegram takes it: only the menu depends on it."""
    delay = first_delay
    while True:
        await asyncio.sleep(delay)
        try:
            await set_commands(application)
        except Exception as exc:
            delay = min(delay * 2, max_delay)
            log.warning("setting the command menu failed again, retrying in %.0fs: %s", delay, exc)
        else:
            log.info("command menu set")
            return


async def start_bot(
    settings: Settings,
    clock: Clock | None = None,
    *,
    poll_timeout: int = 10,
    outbox_limits: Limits | None = None,
    polling: bool = True,
    commands_retry_s: float = 30.0,
    inbox_lease_s: float = LEASE_S,
) -> Runtime:
    """Open the database, start PTB, the inbox workers, the outbox sender, and — while
    this process leads — the poller and the tick.

    ``inbox_lease_s``: how long a claimed update is a dead worker's before another takes
    it over (tests shorten it).
    """
    clock = clock or Clock(settings.now)
    # Photos, exports and the heartbeat live here whichever database holds the rest.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(settings.database_url, settings.database_path, bot_id=settings.bot_id)
    await db.connect()
    await adopt_communities(db)
    services = Services.build(settings, db, clock)
    pacer = Pacer(outbox_limits)
    # Processes sharing a database share the token's sending budget through it.
    budget: Budget = (
        SharedBudget(db, pacer.limits) if db.dialect == "postgresql" else MemoryBudget(pacer)
    )
    application = build_application(settings, services, pacer, budget)
    background: list[asyncio.Task[None]] = []
    try:
        await application.initialize()
        try:
            await set_commands(application)
        except Exception as exc:
            log.warning("setting the command menu failed, retrying later: %s", exc)
            background.append(
                asyncio.create_task(
                    keep_setting_commands(application, commands_retry_s), name="set-commands"
                )
            )
        await application.start()
    except BaseException:
        for task in background:
            task.cancel()
        await db.close()
        raise
    heartbeat = Heartbeat.in_dir(
        settings.data_dir, polling=polling, shared=settings.uses_postgresql
    )
    heartbeat.started()
    application.bot_data["heartbeat"] = heartbeat
    services.rhythm.bot_username = application.bot.username
    name = process_name()
    single_process = db.dialect == "sqlite"
    if single_process:
        # Only this process uses the file: whatever the last run held, it held no more.
        async with db.claim() as tx:
            updates = await tx.inbox.requeue_working()
            messages = await tx.outbox.requeue_sending()
        if updates or messages:
            log.info(
                "left in hand by the last run, requeued updates=%s messages=%s", updates, messages
            )
    workers = Workers(
        application,
        db,
        clock,
        count=settings.workers,
        name=name,
        lease_s=inbox_lease_s,
        ops_chat_id=settings.ops_chat_id,
    )
    workers.start()
    sender = OutboxSender(
        application.bot,
        db,
        clock,
        services.outbox_ready,
        data_dir=settings.data_dir,
        pacer=pacer,
        budget=budget,
        renderers={"notice": services.notices.image_path},
        on_unreachable=reach.person_unreachable,
        name=name,
    )
    sender.start()
    poller = (
        Poller(
            application,
            db,
            clock,
            timeout=poll_timeout,
            ops_chat_id=settings.ops_chat_id,
            heartbeat=heartbeat,
            on_stored=workers.wake,
        )
        if polling
        else None
    )

    async def lead() -> None:
        if poller is not None:
            poller.start()
        # A new leader ticks at once rather than at its own minute's phase: the last
        # leader may have died just before its tick (the occurrence keys keep it once).
        queue = application.job_queue
        if queue is not None and not single_process:
            for job in queue.get_jobs_by_name("tick"):
                queue.run_once(job.callback, when=0.5, name="tick-on-lead")

    async def follow() -> None:
        if poller is not None:
            await poller.stop()

    def standing_by() -> None:
        # A follower neither fetches nor ticks; being ready to take over is its work.
        heartbeat.fetched()
        heartbeat.ticked()

    leader = Leader(
        db,
        name,
        on_gain=lead,
        on_loss=follow,
        on_follow=standing_by,
        single_process=single_process,
    )
    jobs.schedule(application, services, lambda: leader.leading)
    await leader.start()
    log.info("bot started username=%s", application.bot.username)
    return Runtime(
        settings,
        clock,
        db,
        services,
        application,
        poller,
        sender,
        workers,
        leader,
        heartbeat=heartbeat,
        background=background,
    )


def run(settings: Settings) -> None:
    """`jiayuan run`: poll (or serve a webhook) until SIGTERM or Ctrl-C."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        runtime = await start_bot(settings, polling=not settings.webhook_url)
        runners = []
        try:
            if settings.web_port is not None:
                from bot.web.server import serve_web, shares_webhook_port

                runners.append(await serve_web(runtime))
                serve_hook = settings.webhook_url and not shares_webhook_port(runtime)
            else:
                serve_hook = bool(settings.webhook_url)
            if serve_hook:
                from bot.webhook import serve_webhook

                runners.append(await serve_webhook(runtime))
            await stop.wait()
        finally:
            # The whole stop fits in 10 s: 2 s for the web servers, 7 s for the rest.
            for runner in runners:
                try:
                    await asyncio.wait_for(runner.cleanup(), 2.0 / len(runners))
                except Exception:
                    log.exception("stopping a web server failed; moving on")
            await runtime.stop()

    asyncio.run(main())
