"""One aiohttp server for what the bot serves over HTTP besides Telegram's webhook."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.web import console, open311

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)


def build_web_app(runtime: Runtime, *, with_webhook: bool = False) -> web.Application:
    app = web.Application(
        client_max_size=open311.MAX_BODY, middlewares=[open311.errors_as_documents]
    )
    settings = runtime.settings
    app.router.add_routes(open311.routes(runtime.services, settings.public_url))
    app.router.add_routes(
        console.routes(runtime.services, settings.public_url, settings.map_tiles)
    )
    if with_webhook:
        from bot.webhook import webhook_route

        app.router.add_routes([webhook_route(runtime)])
    return app


async def serve_web(runtime: Runtime) -> web.AppRunner:
    """Serve on JIAYUAN_WEB_PORT; the webhook joins when it was given the same port."""
    settings = runtime.settings
    assert settings.web_port is not None
    shared = bool(settings.webhook_url) and settings.webhook_port == settings.web_port
    runner = web.AppRunner(build_web_app(runtime, with_webhook=shared))
    await runner.setup()
    await web.TCPSite(runner, settings.web_listen, settings.web_port).start()
    if shared:
        from bot.webhook import register_webhook

        await register_webhook(runtime)
    log.info("web server listening port=%s open311=%s", settings.web_port, open311.PREFIX)
    return runner


def shares_webhook_port(runtime: Runtime) -> bool:
    settings = runtime.settings
    return bool(settings.webhook_url) and settings.webhook_port == settings.web_port
