"""getUpdates (with long polling) and the webhook settings that exclude it."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from bot.sandbox.errors import bad_request, conflict
from bot.sandbox.methods import Call, Handler

logger = logging.getLogger(__name__)

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]*$")


async def get_updates(call: Call) -> list[dict[str, Any]]:
    """Return unconfirmed updates, waiting up to ``timeout`` seconds for the first one."""
    world, params = call.world, call.params
    queue = world.updates
    if world.webhook.get("url"):
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    limit = min(max(int(params.get("limit", 100)), 1), 100)
    timeout = min(max(float(params.get("timeout", 0)), 0.0), call.max_poll_timeout)
    # A newer getUpdates terminates an older one still waiting, as at Telegram; this also
    # retires long polls left behind by a client that was cancelled mid-request.
    queue.poll_generation += 1
    generation = queue.poll_generation
    world.signal.notify()
    queue.set_allowed(params.get("allowed_updates"))
    if queue.confirm(int(params.get("offset", 0))):
        call.notable = True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if queue.poll_generation != generation:
            raise conflict(
                "terminated by other getUpdates request; "
                "make sure that only one bot instance is running"
            )
        if world.webhook.get("url"):
            raise conflict("terminated by setWebhook request")
        updates = queue.peek(limit)
        remaining = deadline - loop.time()
        if updates or remaining <= 0 or call.stopping.is_set():
            if updates:
                call.notable = True
            return updates
        await world.signal.wait(min(remaining, 1.0))


def set_webhook(call: Call) -> bool:
    """Set (or, with an empty url, remove) the webhook that ``webhook.py`` delivers to.

    A waiting getUpdates ends with a 409, and later ones are refused while it is set.
    """
    world, params = call.world, call.params
    url = params.get("url", "")
    if url and not str(url).lower().startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get("secret_token")
    if secret is not None and not _SECRET_RE.match(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    if params.get("drop_pending_updates"):
        world.updates.clear()
    world.updates.set_allowed(params.get("allowed_updates"))
    world.webhook = {
        "url": url,
        "has_custom_certificate": "certificate" in params,
        "max_connections": int(params.get("max_connections", 40)),
        "secret_token": params.get("secret_token"),
        "ip_address": params.get("ip_address"),
    }
    # Wakes the delivery loop and any long poll the webhook now terminates.
    world.signal.notify()
    logger.info("webhook set url=%s", url)
    return True


def delete_webhook(call: Call) -> bool:
    """Remove the webhook (delivery stops), optionally dropping all pending updates."""
    call.world.webhook = {"url": ""}
    if call.params.get("drop_pending_updates"):
        call.world.updates.clear()
    call.world.signal.notify()
    return True


def get_webhook_info(call: Call) -> dict[str, Any]:
    """Describe the webhook (empty url when polling)."""
    world = call.world
    info: dict[str, Any] = {
        "url": world.webhook.get("url", ""),
        "has_custom_certificate": bool(world.webhook.get("has_custom_certificate")),
        "pending_update_count": world.updates.pending_count,
    }
    if info["url"]:
        for key in ("ip_address", "last_error_date", "last_error_message"):
            if world.webhook.get(key) is not None:
                info[key] = world.webhook[key]
        info["max_connections"] = world.webhook.get("max_connections", 40)
        info["allowed_updates"] = sorted(world.updates.allowed)
    return info


HANDLERS: dict[str, Handler] = {
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
