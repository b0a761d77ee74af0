"""Webhook mode: Telegram POSTs updates; we answer 200 only after the work is committed,
so a crash makes Telegram re-deliver instead of losing the update."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

from bot.polling import process_once

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _secret(token: str) -> str:
    # Derived from the token so restarts agree without storing another secret.
    return hashlib.sha256(("jiayuan-webhook:" + token).encode()).hexdigest()[:48]


async def _note_ops(runtime: Runtime, text: str) -> None:
    chat_id = runtime.settings.ops_chat_id
    if chat_id is None:
        return
    try:
        await runtime.application.bot.send_message(chat_id, f"<code>{html.escape(text)}</code>")
    except Exception as exc:
        log.warning("could not tell the ops chat: %s", exc)


def webhook_route(runtime: Runtime) -> web.RouteDef:
    """The POST route Telegram delivers updates to."""
    settings = runtime.settings
    assert settings.webhook_url is not None
    secret = _secret(settings.token)
    path = urlparse(settings.webhook_url).path or "/"
    in_flight: dict[int, asyncio.Future[bool]] = {}

    async def receive(request: web.Request) -> web.Response:
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
        try:
            update = Update.de_json(data, runtime.application.bot)
        except Exception as exc:
            # Telegram re-delivers until a 2xx and holds the updates behind it meanwhile:
            # an update we can never read is acknowledged and set aside, not retried.
            log.error("update_id=%s skipped: cannot be parsed: %r", update_id, exc)
            await _note_ops(runtime, f"update_id={update_id} skipped: cannot be parsed: {exc!r}")
            return web.Response(text="skipped")
        # Telegram re-delivers an update whose answer was late while the first handling
        # may still be running: the second delivery waits for that one instead of
        # handling it again (the processed log only knows finished work).
        running = in_flight.get(update.update_id)
        if running is None:
            running = asyncio.ensure_future(
                process_once(runtime.application, runtime.db, runtime.clock, update)
            )
            in_flight[update.update_id] = running
            running.add_done_callback(lambda _: in_flight.pop(update.update_id, None))
        # Shielded: a delivery whose connection drops must not cancel the work halfway.
        await asyncio.shield(running)
        return web.Response(text="ok")

    return web.post(path, receive)


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
