"""Webhook delivery: while a webhook is set, pending updates are POSTed to it, as at Telegram.

* Each update goes as one JSON POST, with ``X-Telegram-Bot-Api-Secret-Token`` when the bot
  gave a secret_token. It is forgotten only on a 2xx answer; another status, a refused or
  dropped connection or a timeout is recorded for getWebhookInfo (``last_error_date``,
  ``last_error_message`` in Telegram's words) and the same update is sent again later:
  after ``Retry-After`` seconds if the answer named them, else after a delay that doubles
  from ``WebhookTiming.retry_delay`` up to ``max_retry_delay``.
* One update is in flight at a time, oldest first, so nothing overtakes an update being
  retried. Telegram keeps order per chat and serves up to ``max_connections`` chats at
  once; one global order is the stricter promise, and ``max_connections`` is only echoed.
* A 2xx answer may carry a Bot API call (a JSON or form body with ``method``), which is
  run like a request, as Telegram does; get* methods, setWebhook, deleteWebhook, logOut
  and close are ignored there, as at Telegram.
* No TLS and no network: an ``https://`` URL on a loopback host is reached over plain
  HTTP; any other host fails as unresolvable without a lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import aiohttp
from yarl import URL

if TYPE_CHECKING:
    from bot.sandbox.server import BotApiServer
    from bot.sandbox.world import World

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_RETRY_AFTER = 3600  # Telegram clamps a webhook's Retry-After to an hour
# Methods Telegram will not run from a webhook answer (besides every get*).
_NOT_FROM_ANSWER = frozenset({"setwebhook", "deletewebhook", "logout", "close"})


@dataclass(frozen=True, slots=True)
class WebhookTiming:
    """How long a delivery may take and how soon a failed one is retried (seconds).

    Telegram's own delays grow to about a minute; the defaults are small so that tests and
    the demo recover quickly.
    """

    timeout: float = 30.0
    retry_delay: float = 0.1
    max_retry_delay: float = 2.0

    def backoff(self, failures: int) -> float:
        """The pause before the next attempt after ``failures`` failures in a row."""
        return float(min(self.retry_delay * 2 ** max(failures - 1, 0), self.max_retry_delay))


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One delivery attempt: the HTTP status it got, or Telegram's description of the error."""

    update_id: int
    url: str
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        """True if the webhook accepted the update (a 2xx answer)."""
        return self.status is not None and 200 <= self.status <= 299


class WebhookPusher:
    """The delivery loop for one bot; runs between ``start`` and ``stop``."""

    def __init__(self, world: World, server: BotApiServer, timing: WebhookTiming) -> None:
        self.world = world
        self.server = server
        self.timing = timing
        self.attempts: deque[WebhookAttempt] = deque(maxlen=2000)
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        """Start delivering (idle while no webhook is set)."""
        if self._task is not None:
            return
        self._stopping = False
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None),
            # Telegram sends bare requests; aiohttp's default User-Agent would be noise.
            skip_auto_headers=("User-Agent",),
        )
        self._task = asyncio.create_task(self._run(), name="sandbox-webhook")

    async def stop(self) -> None:
        """Stop at once; an update in flight stays pending, as if the connection dropped."""
        task, self._task = self._task, None
        if task is not None:
            # The flag as well as the cancel: a cancel can be lost in an await that is
            # finishing at that moment, and the loop must not wait on forever.
            self._stopping = True
            self.world.signal.notify()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            hook = self.world.webhook
            pending = self.world.updates.peek(1) if hook.get("url") else []
            if not pending:
                failures = 0
                # Woken by a new update or a setWebhook; the timeout is only a safety net.
                await self.world.signal.wait(1.0)
                continue
            update = pending[0]
            attempt, retry_after = await self._deliver(hook, update)
            self.attempts.append(attempt)
            if attempt.ok:
                failures = 0
                self.world.updates.confirm(update["update_id"] + 1)
                self.server.touch()
                continue
            failures += 1
            self._record_error(hook, attempt)
            delay = retry_after if retry_after is not None else self.timing.backoff(failures)
            await self._pause(hook, delay)

    async def _pause(self, hook: dict[str, Any], seconds: float) -> None:
        # A new setWebhook or deleteWebhook ends the pause: Telegram starts over then.
        await self.world.signal.wait_until(
            lambda: self._stopping or self.world.webhook is not hook, seconds
        )

    async def _deliver(
        self, hook: dict[str, Any], update: dict[str, Any]
    ) -> tuple[WebhookAttempt, float | None]:
        """POST one update; return the attempt and a Retry-After the answer asked for."""
        url = str(hook["url"])
        update_id = int(update["update_id"])
        target = _local_target(url)
        if target is None:
            error = "Failed to resolve host: Name or service not known"
            return WebhookAttempt(update_id, url, None, error), None
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers[SECRET_HEADER] = str(hook["secret_token"])
        body = json.dumps(update, ensure_ascii=False).encode()
        assert self._session is not None
        try:
            async with self._session.post(
                target,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timing.timeout),
                allow_redirects=False,
            ) as response:
                status, reason = response.status, response.reason or ""
                if not 200 <= status <= 299:
                    error = f"Wrong response from the webhook: {status} {reason}".rstrip()
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                    return WebhookAttempt(update_id, url, status, error), retry_after
                call = await _answer_call(response)
        except TimeoutError:
            return WebhookAttempt(update_id, url, None, "Read timeout expired"), None
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            error = "Connection refused" if refused else "Can't connect to the webhook"
            return WebhookAttempt(update_id, url, None, error), None
        except aiohttp.ClientError:
            return WebhookAttempt(update_id, url, None, "Webhook connection closed"), None
        logger.debug("webhook delivered update_id=%s status=%s", update_id, status)
        if call is not None:
            await self.server.call_from_webhook_answer(*call)
        return WebhookAttempt(update_id, url, status, None), None

    def _record_error(self, hook: dict[str, Any], attempt: WebhookAttempt) -> None:
        logger.info(
            "webhook delivery failed update_id=%s error=%s", attempt.update_id, attempt.error
        )
        # Errors belong to the webhook they happened on; a new setWebhook starts clean.
        if self.world.webhook is hook:
            hook["last_error_date"] = self.world.now()
            hook["last_error_message"] = attempt.error
        self.world.signal.notify()


def _local_target(url: str) -> URL | None:
    """The plain-HTTP URL the sandbox can reach for ``url``, or None for other hosts."""
    parsed = URL(url)
    host = parsed.host or ""
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return None
        except ValueError:
            return None
    # Keep the https port (443 unless given) when switching to plain HTTP.
    return parsed.with_scheme("http").with_port(parsed.port)


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return float(min(int(value.strip()), MAX_RETRY_AFTER))


async def _answer_call(response: aiohttp.ClientResponse) -> tuple[str, dict[str, Any]] | None:
    """The Bot API call carried by a webhook's 2xx answer, if any (method, parameters)."""
    content_type = response.content_type
    params: dict[str, Any]
    try:
        if content_type == "application/json":
            loaded = json.loads(await response.read() or b"null")
            if not isinstance(loaded, dict):
                return None
            params = loaded
        elif content_type == "application/x-www-form-urlencoded":
            params = dict(parse_qsl((await response.read()).decode(), keep_blank_values=True))
        else:
            return None
    except (ValueError, UnicodeDecodeError):
        return None
    method = str(params.pop("method", "") or "")
    if not method or method.lower() in _NOT_FROM_ANSWER or method.lower().startswith("get"):
        return None
    return method, params
