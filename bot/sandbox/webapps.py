"""Mini Apps (Web Apps) as Telegram opens them: the page's URL gets a fragment with the
launch parameters, ``#tgWebAppData=<initData>&tgWebAppVersion=…&tgWebAppPlatform=…``.

``initData`` is a query string (``query_id``, ``user`` as JSON, ``auth_date``, …) signed as
https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
describes: ``hash`` is the hex HMAC-SHA256 of the data-check-string (every other field as
``key=value``, sorted by key, joined with newlines) under the key
HMAC-SHA256(key="WebAppData", message=<bot token>).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import quote, urlencode

from bot.sandbox.records import UserRecord

WEB_APP_VERSION = "9.0"
PLATFORM = "tdesktop"


def sign_init_data(token: str, fields: dict[str, str]) -> str:
    """``fields`` with their ``hash`` added, as the query string Telegram hands the page."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    signature = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": signature})


def init_data(token: str, user: UserRecord, auth_date: int, **extra: Any) -> str:
    """The initData of a Mini App opened by ``user`` at ``auth_date`` (Unix time)."""
    profile = {
        k: v
        for k, v in user.to_dict().items()
        if k in ("id", "first_name", "last_name", "username", "language_code")
    }
    fields = {
        "query_id": "AA" + secrets.token_urlsafe(16),
        "user": json.dumps(profile, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(auth_date),
        **{k: str(v) for k, v in extra.items()},
    }
    return sign_init_data(token, fields)


def launch_url(url: str, data: str) -> str:
    """The Mini App's URL as the client loads it, with the launch parameters."""
    fragment = urlencode(
        {"tgWebAppData": data, "tgWebAppVersion": WEB_APP_VERSION, "tgWebAppPlatform": PLATFORM},
        quote_via=quote,
    )
    return f"{url.split('#', 1)[0]}#{fragment}"
