"""The Sandbox: one simulated Telegram (world + HTTP server) for one bot token.

Typical use::

    async with Sandbox(limits=FloodLimits.off()) as sandbox:
        alice = sandbox.add_user("Alice", username="alice")
        application = sandbox.application_builder().build()
        ...  # start the bot against sandbox.base_url
        await alice.send("/start")
        reply = await alice.next_message()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import SandboxError
from bot.sandbox.faults import FaultInjector
from bot.sandbox.flood import FloodControl, FloodLimits
from bot.sandbox.records import ChatRecord, check_status
from bot.sandbox.sent import CallbackAnswer, SandboxEvent
from bot.sandbox.server import BotApiServer, RequestRecord
from bot.sandbox.spec import ApiSpec
from bot.sandbox.stats import Stats
from bot.sandbox.users import SimGroup, SimUser
from bot.sandbox.webhook import WebhookAttempt, WebhookPusher, WebhookTiming
from bot.sandbox.world import Clock, World

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import ApplicationBuilder

logger = logging.getLogger(__name__)


class Sandbox:
    """A local Bot API server plus a scriptable world of users and groups."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "jiayuan_bot",
        *,
        bot_name: str = "家园",
        bot_id: int | None = None,
        limits: FloodLimits | None = None,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        privacy_mode: bool = False,
        max_poll_timeout: float = 50.0,
        webhook_timing: WebhookTiming | None = None,
        first_update_id: int = 1,
        first_user_id: int = 1001,
    ) -> None:
        """``first_update_id``: where update ids start. Telegram's only ever grow, so a
        world standing in for one a bot already talked to continues past the ids it saw.
        ``bot_id``: as on Telegram, the number before the token's colon unless given.
        ``first_user_id``: where new people's ids start, so two worlds (two bots of one
        city) hold different people unless a test gives the same id on purpose."""
        token_id = int(token.split(":", 1)[0])
        if bot_id is not None and bot_id != token_id:
            raise ValueError(f"a bot token starts with the bot's id: {bot_id} is not {token_id}")
        bot_id = token_id
        self.token = token
        self.host = host
        self._port = port
        self.spec = ApiSpec.load()
        self.world = World(
            bot_id=bot_id,
            bot_username=bot_username,
            bot_name=bot_name,
            clock=clock,
            privacy_mode=privacy_mode,
            first_update_id=first_update_id,
            first_user_id=first_user_id,
        )
        self.flood = FloodControl(limits=limits if limits is not None else FloodLimits())
        self.faults = FaultInjector()
        self.stats = Stats()
        self._server = BotApiServer(
            token=token,
            world=self.world,
            spec=self.spec,
            flood=self.flood,
            faults=self.faults,
            stats=self.stats,
            max_poll_timeout=max_poll_timeout,
        )
        self._webhook = WebhookPusher(self.world, self._server, webhook_timing or WebhookTiming())
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._running = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> Sandbox:
        """Start listening (port 0 picks a free port); returns self."""
        if self._running:
            return self
        self._port = await self._server.start(self.host, self._port)
        self._webhook.start()
        self._running = True
        logger.info("sandbox listening url=%s", self.base_url)
        return self

    async def stop(self) -> None:
        """Stop delivering and listening; waiting long polls return at once."""
        if not self._running:
            return
        await self._webhook.stop()
        await self._server.stop()
        self._running = False
        logger.info("sandbox stopped")

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port (known after ``start``)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: put ``/bot`` and ``/file/bot`` after it."""
        if not self._running:
            raise SandboxError("the sandbox is not running; await sandbox.start() first")
        return f"http://{self.host}:{self._port}"

    @property
    def api_url(self) -> str:
        """The method URL prefix: ``<base_url>/bot<token>``."""
        return f"{self.base_url}/bot{self.token}"

    def bot(self, **kwargs: Any) -> Bot:
        """Return a bare ``telegram.Bot`` pointed at this sandbox (kwargs go to ``Bot``)."""
        from telegram import Bot
        from telegram.request import HTTPXRequest

        if "request" not in kwargs and "get_updates_request" not in kwargs:
            # Plain HTTP on localhost: skip building a TLS context (~50 ms per client),
            # which otherwise dominates short tests.
            plain = {"verify": False}
            kwargs["request"] = HTTPXRequest(httpx_kwargs=plain)
            kwargs["get_updates_request"] = HTTPXRequest(
                connection_pool_size=1, httpx_kwargs=plain
            )
        return Bot(
            self.token,
            base_url=f"{self.base_url}/bot",
            base_file_url=f"{self.base_url}/file/bot",
            **kwargs,
        )

    def application_builder(self) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        """Return an ``ApplicationBuilder`` with token and URLs set for this sandbox."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(f"{self.base_url}/bot")
            .base_file_url(f"{self.base_url}/file/bot")
        )

    # ------------------------------------------------------------------ the world

    @property
    def limits(self) -> FloodLimits:
        """Current flood limits (assignable, e.g. ``sandbox.limits = FloodLimits.off()``)."""
        return self.flood.limits

    @limits.setter
    def limits(self, limits: FloodLimits) -> None:
        self.flood.limits = limits
        self.flood.reset()

    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        user_id: int | None = None,
        phone_number: str | None = None,
        started: bool = False,
    ) -> SimUser:
        """Create a person (ids count up from 1001 unless ``user_id`` is given).

        ``phone_number`` is what a "share contact" keyboard button sends (default
        ``+86139`` and the zero-padded user id). ``started``: the person wrote to the bot
        before this world began, so their private chat exists without a new update.
        """
        record = self.world.add_user(
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            user_id=user_id,
        )
        if started:
            record.started = True
            self.world.private_chat(record)
        user = SimUser(self, record, phone_number)
        self._users[record.id] = user
        return user

    def add_group(
        self,
        title: str,
        members: Mapping[SimUser, str] | Iterable[SimUser] | None = None,
        *,
        supergroup: bool = True,
        add_bot: bool = True,
        bot_status: str = "member",
        by: SimUser | None = None,
        chat_id: int | None = None,
        username: str | None = None,
        bot_joined_before: bool = False,
    ) -> SimGroup:
        """Create a group with members (status by user; a plain list means "member").

        With ``add_bot`` the bot is then added by ``by`` (default: the creator, else an
        administrator, else a member), which queues my_chat_member and a
        new_chat_members message, as when someone adds a bot at Telegram. With
        ``bot_joined_before`` the bot is already in it with ``bot_status`` and no update is
        queued: a group the bot was added to before this world began.
        """
        pairs: list[tuple[SimUser, str]]
        if members is None:
            pairs = []
        elif isinstance(members, Mapping):
            pairs = list(members.items())
        else:
            pairs = [(user, "member") for user in members]
        if bot_joined_before:
            check_status(bot_status)
        record = self.world.add_group(
            title,
            [(user.record, status) for user, status in pairs],
            supergroup=supergroup,
            chat_id=chat_id,
            username=username,
        )
        group = self._register_group(record)
        if bot_joined_before:
            record.bot_status = bot_status
        elif add_bot:
            group.add_bot(bot_status, by=by)
        return group

    def _register_group(self, record: ChatRecord) -> SimGroup:
        group = SimGroup(self, record)
        self._groups[record.id] = group
        return group

    def user(self, user_id: int) -> SimUser | None:
        """Return the SimUser with this id."""
        return self._users.get(user_id)

    def group(self, chat_id: int) -> SimGroup | None:
        """Return the SimGroup with this chat id."""
        return self._groups.get(chat_id)

    @property
    def users(self) -> list[SimUser]:
        """Every SimUser, in creation order."""
        return list(self._users.values())

    @property
    def groups(self) -> list[SimGroup]:
        """Every SimGroup (migrated ones included), in creation order."""
        return list(self._groups.values())

    # ------------------------------------------------------------------ inspection

    def commands(
        self,
        scope_type: str = "default",
        language_code: str = "",
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[dict[str, str]]:
        """The command list the bot stored for exactly this scope and language."""
        key = (scope_type, chat_id, user_id, language_code)
        return [dict(c) for c in self.world.commands.get(key, [])]

    def commands_for(self, user: SimUser, group: SimGroup | None = None) -> list[dict[str, str]]:
        """The command list ``user`` would see (in ``group``, or in the private chat)."""
        chat = group.record if group is not None else None
        return [dict(c) for c in self.world.commands_for(user.record, chat)]

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """The menu button set for a private chat (None: the default one), if any."""
        return self.world.menu_buttons.get(chat_id)

    @property
    def webhook(self) -> dict[str, Any]:
        """The webhook settings the bot made (``url`` is "" when polling), with the last
        delivery error (``last_error_date``, ``last_error_message``) once there was one."""
        return dict(self.world.webhook)

    @property
    def webhook_timing(self) -> WebhookTiming:
        """Delivery timeout and retry delays (assignable; applies from the next attempt)."""
        return self._webhook.timing

    @webhook_timing.setter
    def webhook_timing(self, timing: WebhookTiming) -> None:
        self._webhook.timing = timing

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        """The latest webhook delivery attempts (up to 2000), oldest first."""
        return list(self._webhook.attempts)

    def inject_raw_update(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Queue an update exactly as given (plus the next ``update_id`` unless ``fields``
        has one), however malformed: what a broken or hostile Bot API server could send.
        Returns the queued update."""
        return self.world.updates.enqueue_raw(fields)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates the bot has not confirmed yet, oldest first."""
        return self.world.updates.pending

    @property
    def poll_count(self) -> int:
        """How many getUpdates requests arrived so far (to sync with a long poll)."""
        return self.world.updates.poll_generation

    @property
    def requests(self) -> list[RequestRecord]:
        """The latest answered requests (up to 2000), oldest first."""
        return list(self._server.requests)

    def callback_answer(self, callback_query_id: str) -> CallbackAnswer | None:
        """How the bot answered a callback query, if it did."""
        record = self.world.callbacks.get(callback_query_id)
        return record.answer if record is not None else None

    def add_listener(self, listener: Callable[[SandboxEvent], None]) -> None:
        """Call ``listener`` whenever the bot sends, edits or deletes a message."""
        self.world.add_listener(listener)

    def remove_listener(self, listener: Callable[[SandboxEvent], None]) -> None:
        """Stop calling ``listener``."""
        self.world.remove_listener(listener)

    # ------------------------------------------------------------------ waiting

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - tests read better with a timeout argument
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking after every change in the world."""
        if not await self.world.signal.wait_until(predicate, timeout):
            raise TimeoutError(f"condition not met within {timeout:g}s")

    async def wait_idle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - tests read better with a timeout argument
        quiet: float = 0.2,
    ) -> None:
        """Wait until the bot confirmed every update and made no request for ``quiet`` s.

        With PTB's stock Updater an update is confirmed when it is fetched, before it is
        handled; ``quiet`` covers the gap until the handler's first request. With a
        webhook, an update is confirmed by the webhook's 2xx answer.
        """
        server, updates = self._server, self.world.updates
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            settled = updates.pending_count == 0 and server.inflight == 0
            silence = now - server.last_activity
            if settled and silence >= quiet:
                return
            remaining = deadline - now
            if remaining <= 0:
                raise TimeoutError(
                    f"sandbox not idle within {timeout:g}s: "
                    f"{updates.pending_count} update(s) unconfirmed, "
                    f"{server.inflight} request(s) in flight, last request "
                    f"{silence:.2f}s ago; latest errors: {self.world.recent_errors()[-3:]}"
                    + _webhook_note(self.world.webhook)
                )
            step = quiet - silence if settled else remaining
            await self.world.signal.wait(max(0.005, min(step, remaining)))


def _webhook_note(webhook: Mapping[str, Any]) -> str:
    if not webhook.get("url"):
        return ""
    error = webhook.get("last_error_message")
    return f"; webhook {webhook['url']}" + (f", last error: {error}" if error else "")
