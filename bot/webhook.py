"""Webhook mode: Telegram POSTs updates; we answer 200 once the update is stored in the
inbox, so a crash before that makes Telegram re-deliver instead of losing the update, and
a re-delivery after it is stored once. The workers (bot/workers.py) handle it."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

from bot.workers import note_ops, receive, set_aside_note, store

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _secret(token: str) -> str:
    # Derived from the token so restarts agree without storing another secret.
    return hashlib.sha256(("jiayuan-webhook:" + token).encode()).hexdigest()[:48]


def webhook_route(runtime: Runtime) -> web.RouteDef:
    """The POST route Telegram delivers updates to."""
    settings = runtime.settings
    assert settings.webhook_url is not None
    secret = _secret(settings.token)
    path = urlparse(settings.webhook_url).path or "/"

    async def deliver(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403)
        try:
            data = await request.json()
        except ValueError:
            return web.Response(status=400, text="body is not JSON")
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.warning("webhook body is not an update: %.200r", data)
            return web.Response(status=400, text="not an update: no integer update_id")
        item = receive(data, runtime.application.bot)
        await store(runtime.db, [item], runtime.clock.now())
        runtime.workers.wake()
        if item.error is not None:
            # Telegram re-delivers until a 2xx and holds the updates behind it meanwhile:
            # an update we can never read is acknowledged and set aside, not retried.
            await note_ops(runtime.application.bot, settings.ops_chat_id, set_aside_note(item))
            return web.Response(text="set aside")
        return web.Response(text="ok")

    return web.post(path, deliver)


async def register_webhook(runtime: Runtime) -> None:
    settings = runtime.settings
    assert settings.webhook_url is not None
    await runtime.application.bot.set_webhook(
        settings.webhook_url,
        secret_token=_secret(settings.token),
        allowed_updates=Update.ALL_TYPES,
    )
    log.info("webhook set url_path=%s", urlparse(settings.webhook_url).path or "/")


async def serve_webhook(runtime: Runtime) -> web.AppRunner:
    """The webhook on its own server (JIAYUAN_WEBHOOK_PORT)."""
    settings = runtime.settings
    app = web.Application()
    app.router.add_routes([webhook_route(runtime)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
    await site.start()
    await register_webhook(runtime)
    log.info("webhook listening port=%s", settings.webhook_port)
    return runner
